"""Privileges through the web: refusals in pages and JSON, /help/privileges, suggested edits and their review."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Question, SuggestedEdit, User
from tests.support import HUB_BODY, production_privileges, set_reputation

pytestmark = pytest.mark.usefixtures("production_thresholds")


@pytest.fixture
def thread(asked_and_answered):
    return asked_and_answered


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# ---------------------------------------------------------------- refusals


def test_a_refused_vote_explains_itself_in_json_for_the_script(client, auth, make_user, thread) -> None:
    q, a = thread
    set_reputation(make_user("low"), 20)
    auth.login("low")
    r = client.post(f"/answers/{a.id}/vote", data={"value": "-1", "csrf_token": auth.csrf_token("/")},
                    headers={"Accept": "application/json"})
    assert r.status_code == 403
    assert r.get_json()["error"] == {"code": "forbidden", "status": 403, "field": None,
                                     "message": "Downvoting needs 125 reputation; you have 20.",
                                     "help_url": "/help/privileges"}
    ok = client.post(f"/answers/{a.id}/vote", data={"value": "1", "csrf_token": auth.csrf_token("/")},
                     headers={"Accept": "application/json"})
    assert ok.status_code == 200 and ok.get_json() == {"score": 1, "my_vote": 1}


def test_a_refused_vote_without_javascript_is_a_403_page_linking_the_privileges(client, auth, make_user, thread) -> None:
    q, a = thread
    make_user("fresh")
    auth.login("fresh")
    r = auth.post(f"/questions/{q.id}/vote", {"value": "1"})
    html = r.get_data(as_text=True)
    assert r.status_code == 403 and "Upvoting needs 15 reputation; you have 1." in html
    assert 'href="/help/privileges"' in html
    db.session.expire_all()
    assert db.session.get(Question, q.id).score == 0


def test_vote_buttons_say_what_is_missing_before_they_are_used(client, auth, make_user, thread) -> None:
    q, a = thread
    set_reputation(make_user("mid"), 20)
    auth.login("mid")
    html = client.get(f"/questions/{q.id}", follow_redirects=True).get_data(as_text=True)
    form = re.search(rf'action="/answers/{a.id}/vote".*?</form>.*?action="/answers/{a.id}/vote".*?</form>', html, re.S).group(0)
    assert 'title="This is useful (click again to undo)"' in form
    assert 'is-locked" type="submit" aria-pressed="false" title="Downvoting needs 125 reputation; you have 20."' in form


def test_commenting_on_others_posts_is_explained_and_refused_below_50(client, auth, make_user, thread) -> None:
    q, a = thread
    set_reputation(make_user("newbie"), 49)
    auth.login("newbie")
    html = client.get(f"/questions/{q.id}", follow_redirects=True).get_data(as_text=True)
    assert "Commenting on other people&#39;s posts needs 50 reputation; you have 49." in html
    assert f'action="/answers/{a.id}/comments"' not in html
    r = auth.post(f"/answers/{a.id}/comments", {"body": "Which firmware is this?"})
    assert r.status_code == 403 and "needs 50 reputation" in r.get_data(as_text=True)
    # The asker (reputation 1) comments on an answer to their own question.
    auth.logout()
    auth.login("asker")
    r = auth.post(f"/answers/{a.id}/comments", {"body": "Thanks, that worked for me."})
    assert r.status_code == 302


# ---------------------------------------------------------------- /help/privileges


def test_privileges_page_for_anonymous_visitors(client, thread) -> None:
    home = client.get("/").get_data(as_text=True)
    assert 'href="/help/privileges"' in home  # linked from every page's footer
    html = client.get("/help/privileges").get_data(as_text=True)
    text = _text(html)
    for figure, label in (("15", "Vote up"), ("50", "Comment everywhere"), ("125", "Vote down"),
                          ("2,000", "Edit others' posts"), ("2,000", "Review suggested edits")):
        assert f"{figure} {label}" in text.replace("&#39;", "'")
    assert "you have this" not in text and "Log in" in text


def test_privileges_page_for_a_new_member_shows_progress_and_the_new_member_limits(app, client, auth, make_user) -> None:
    production_privileges(app, create_tag=True)
    app.config.update(POST_RATE_NEW_MEMBER_QUESTIONS=7, NEW_MEMBER_LINK_REVIEW=True, POST_RATE_LIMITS_ENABLED=True)
    make_user("fresh")
    auth.login("fresh")
    text = _text(client.get("/help/privileges").get_data(as_text=True))
    assert "You have 1 reputation" in text and "Next: Vote up at 15, 14 to go" in text
    assert text.count("you have this") == 0 and "14 to go" in text and "1,999 to go" in text
    assert "fewer than 10 reputation and fewer than 3 published questions and answers" in text
    assert "These limits apply to you for now" in text
    assert "New members 7 5 10" in text and "Members 10 20 30" in text
    assert "links to other sites wait for a moderator" in text


def test_new_member_limits_lift_at_the_documented_reputation(app, client, auth, make_user, make_question) -> None:
    app.config.update(NEW_MEMBER_LINK_REVIEW=True)
    user = set_reputation(make_user("almost"), 9)
    auth.login("almost")
    q = make_question(author=user, body="See https://example.com/manual for the manual, page four.")
    assert q.hidden_reason == "review"
    set_reputation(user, 10)
    assert "no longer apply to you" in _text(client.get("/help/privileges").get_data(as_text=True))
    q2 = make_question(author=user, body="See https://example.com/manual for the manual, page five.")
    assert q2.is_visible


def test_privileges_page_for_a_2000_member_and_for_staff(app, client, auth, make_user) -> None:
    production_privileges(app, create_tag=True)
    set_reputation(make_user("veteran"), 2000)
    auth.login("veteran")
    text = _text(client.get("/help/privileges").get_data(as_text=True))
    assert text.count("✓ you have this") == 6 and "You have every privilege" in text
    assert "These limits no longer apply to you" in text
    auth.logout()
    make_user("sam", role="agent")
    auth.login("sam")
    text = _text(client.get("/help/privileges").get_data(as_text=True))
    assert text.count("✓ staff") == 6 and "you have this" not in text and "Staff you have every privilege" in text


# ---------------------------------------------------------------- suggested edits


def test_a_member_below_2000_edits_through_a_suggestion(client, auth, make_user, thread) -> None:
    q, a = thread
    make_user("newbie")
    auth.login("newbie")
    page = client.get(f"/answers/{a.id}/edit").get_data(as_text=True)
    assert "Your edit will be a suggestion" in page and ">Suggest edit</button>" in page
    new_body = "Hold the reset button for ten seconds, until the ring blinks blue."
    r = auth.post(f"/answers/{a.id}/edit", {"body": new_body, "summary": "say when to let go"})
    assert r.status_code == 302
    db.session.expire_all()
    s = db.session.scalar(select(SuggestedEdit))
    assert s.body == new_body and s.summary == "say when to let go" and a.body != new_body
    thread_html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "waiting for review" in thread_html and ">Suggest edit</a>" in thread_html
    mine = _text(client.get("/review/edits/mine").get_data(as_text=True))
    assert "Waiting for review" in mine
    # A second suggestion on the same post: refused with a message, the typed text kept.
    auth.logout()
    make_user("other")
    auth.login("other")
    r = auth.post(f"/answers/{a.id}/edit", {"body": "Another take on the reset steps.", "summary": ""})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "already waiting for review" in html and "Another take on the reset steps." in html


def test_the_review_queue_is_for_2000_members_and_staff(client, auth, make_user) -> None:
    set_reputation(make_user("almost"), 1999)
    auth.login("almost")
    r = client.get("/review/edits")
    assert r.status_code == 403 and "Reviewing suggested edits needs the review privilege." in r.get_data(as_text=True)
    assert auth.post("/review/edits/1/approve").status_code == 403
    auth.logout()
    set_reputation(make_user("veteran"), 2000)
    auth.login("veteran")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/review/edits">Review</a>' in home
    assert client.get("/review/edits").status_code == 200
    auth.logout()
    make_user("mod", role="moderator")
    auth.login("mod")
    assert 'href="/review/edits"' in client.get("/moderation").get_data(as_text=True)


def test_reviewing_through_the_queue(client, auth, make_user, thread) -> None:
    q, a = thread
    make_user("newbie")
    auth.login("newbie")
    auth.post(f"/questions/{q.id}/edit", {"title": q.title, "body": HUB_BODY + "\n\nFirmware 4.2.1.", "tags": "setup"})
    auth.logout()
    set_reputation(make_user("veteran"), 2000)
    auth.login("veteran")
    queue = client.get("/review/edits").get_data(as_text=True)
    s = db.session.scalar(select(SuggestedEdit))
    assert '<span class="diff-line diff-add">+ Firmware 4.2.1.</span>' in queue and "newbie" in queue
    r = auth.post(f"/review/edits/{s.id}/reject", {"reason": ""})
    assert r.status_code == 400 and "Say why" in r.get_data(as_text=True)
    r = auth.post(f"/review/edits/{s.id}/approve")
    assert r.status_code == 302
    assert "Approved: the edit is live as revision 2, credited to newbie." in client.get(r.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Question, q.id).body.endswith("Firmware 4.2.1.")
    assert db.session.scalar(select(User.reputation).where(User.username == "newbie")) == 3
    history = client.get(f"/questions/{q.id}/history").get_data(as_text=True)
    assert "Revision 2" in history and "/users/" in history
    auth.logout()
    auth.login("newbie")
    assert "Your edit is live as revision 2. +2 reputation." in client.get("/review/edits/mine").get_data(as_text=True)


def test_a_rejection_reason_reaches_the_proposer(client, auth, make_user, thread) -> None:
    q, a = thread
    make_user("newbie")
    auth.login("newbie")
    auth.post(f"/answers/{a.id}/edit", {"body": "Unplug it and hope."})
    auth.logout()
    make_user("sam", role="agent")
    auth.login("sam")
    s = db.session.scalar(select(SuggestedEdit))
    assert auth.post(f"/review/edits/{s.id}/reject", {"reason": "Removes the steps that work."}).status_code == 302
    auth.logout()
    auth.login("newbie")
    mine = _text(client.get("/review/edits/mine").get_data(as_text=True))
    assert "Rejected" in mine and "Reason: Removes the steps that work." in mine


def test_the_demo_seeds_under_the_production_thresholds_and_shows_every_suggestion_state(runner, client, auth) -> None:
    from forum.demo.content import DEMO_PASSWORD

    r = runner.invoke(args=["forum", "seed-demo"])
    assert r.exit_code == 0, r.output
    assert sorted(db.session.scalars(select(SuggestedEdit.status))) == ["approved", "pending", "rejected"]
    assert "drift found on 0" in runner.invoke(args=["reputation", "recompute", "--dry-run"]).output
    auth.login("devpatel", DEMO_PASSWORD)
    queue = client.get("/review/edits").get_data(as_text=True)
    assert "Maria Kowalski" in queue and "Approve" in queue


def test_a_suggestion_on_a_post_hidden_since_shows_no_text_and_cannot_be_applied(client, auth, make_user, thread) -> None:
    from forum.services.visibility import hide_post

    q, a = thread
    make_user("newbie")
    auth.login("newbie")
    auth.post(f"/answers/{a.id}/edit", {"body": "Hold the reset button for ten seconds, then wait."})
    hide_post(db.session.get(type(a), a.id), "flags")
    db.session.commit()
    assert "Hold the reset button" not in client.get("/review/edits/mine").get_data(as_text=True)
    auth.logout()
    set_reputation(make_user("veteran"), 2000)
    auth.login("veteran")
    queue = client.get("/review/edits").get_data(as_text=True)
    assert "The post is no longer visible" in queue and "Hold the reset button" not in queue
    s = db.session.scalar(select(SuggestedEdit))
    r = auth.post(f"/review/edits/{s.id}/approve")
    assert "It is marked superseded." in client.get(r.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SuggestedEdit, s.id).status == "superseded"
