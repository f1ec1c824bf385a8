"""Voting through the web: plain forms that redirect, JSON for the script, refusals."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Answer, Question, User


@pytest.fixture
def thread(make_user, make_question, make_answer):
    asker = make_user("asker")
    q = make_question(author=asker, title="Hub drops off Wi-Fi at night")
    a = make_answer(q, author=make_user("helper"), body="Turn off band steering on the router.")
    make_user("voter")
    return {"q": q.id, "a": a.id, "slug_url": f"/questions/{q.id}"}


def _score(model, post_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(model.score).where(model.id == post_id))


def test_thread_shows_vote_forms_to_members_but_not_on_own_posts(client, auth, thread) -> None:
    auth.login("voter")
    html = client.get(thread["slug_url"], follow_redirects=True).get_data(as_text=True)
    assert f'action="/questions/{thread["q"]}/vote"' in html
    assert f'action="/answers/{thread["a"]}/vote"' in html
    auth.logout()
    auth.login("asker")
    html = client.get(thread["slug_url"], follow_redirects=True).get_data(as_text=True)
    assert f'action="/questions/{thread["q"]}/vote"' not in html
    assert f'action="/answers/{thread["a"]}/vote"' in html


def test_anonymous_visitors_see_scores_without_forms(client, thread) -> None:
    html = client.get(thread["slug_url"], follow_redirects=True).get_data(as_text=True)
    assert "data-vote>" not in html and "score-value" in html
    r = client.post(f"/answers/{thread['a']}/vote", data={"value": "1"})
    assert r.status_code in (302, 400, 401)
    assert _score(Answer, thread["a"]) == 0


def test_plain_form_vote_redirects_to_the_answer_and_toggles(client, auth, thread) -> None:
    auth.login("voter")
    token = auth.csrf_token("/")
    r = client.post(f"/answers/{thread['a']}/vote", data={"value": "1", "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"#answer-{thread['a']}")
    assert _score(Answer, thread["a"]) == 1
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    # The up button is now pressed and clicking it again withdraws the vote.
    form = re.search(rf'action="/answers/{thread["a"]}/vote".*?</form>', html, re.S).group(0)
    assert 'name="value" value="0"' in form and 'aria-pressed="true"' in form
    client.post(f"/answers/{thread['a']}/vote", data={"value": "0", "csrf_token": token})
    assert _score(Answer, thread["a"]) == 0


def test_json_vote_returns_score_and_my_vote(client, auth, thread) -> None:
    auth.login("voter")
    token = auth.csrf_token("/")
    headers = {"Accept": "application/json", "X-CSRFToken": token}
    r = client.post(f"/questions/{thread['q']}/vote", data={"value": "-1"}, headers=headers)
    assert r.status_code == 200 and r.get_json() == {"score": -1, "my_vote": -1}
    r = client.post(f"/questions/{thread['q']}/vote", data={"value": "1"}, headers=headers)
    assert r.get_json() == {"score": 1, "my_vote": 1}
    db.session.expire_all()
    asker = db.session.scalar(select(User).where(User.username == "asker"))
    assert asker.reputation == 6 and _score(Question, thread["q"]) == 1


def test_refusals_come_back_as_json_errors(client, auth, thread, make_user) -> None:
    auth.login("asker")
    headers = {"Accept": "application/json", "X-CSRFToken": auth.csrf_token("/")}
    r = client.post(f"/questions/{thread['q']}/vote", data={"value": "1"}, headers=headers)
    assert r.status_code == 403 and "error" in r.get_json()
    r = client.post(f"/answers/{thread['a']}/vote", data={"value": "7"}, headers=headers)
    assert r.status_code == 400
    r = client.post("/answers/999999/vote", data={"value": "1"}, headers=headers)
    assert r.status_code == 404
    assert _score(Question, thread["q"]) == 0 and _score(Answer, thread["a"]) == 0


def test_voting_in_a_locked_thread_is_refused(client, auth, thread, make_user) -> None:
    from forum.services import curation

    curation.set_locked(make_user(role="moderator"), db.session.get(Question, thread["q"]), True)
    db.session.commit()
    auth.login("voter")
    html = client.get(thread["slug_url"], follow_redirects=True).get_data(as_text=True)
    assert "data-vote>" not in html
    r = client.post(f"/answers/{thread['a']}/vote", data={"value": "1", "csrf_token": auth.csrf_token("/")})
    assert r.status_code == 403
    assert _score(Answer, thread["a"]) == 0


def test_vote_without_csrf_token_is_refused(client, auth, thread) -> None:
    auth.login("voter")
    r = client.post(f"/answers/{thread['a']}/vote", data={"value": "1"})
    assert r.status_code == 400 and "Your form expired or came from another site" in r.get_data(as_text=True)
    assert _score(Answer, thread["a"]) == 0
    # The same session's vote with its token counts: the token was the only thing missing.
    r = client.post(f"/answers/{thread['a']}/vote", data={"value": "1", "csrf_token": auth.csrf_token("/")})
    assert r.status_code == 302 and _score(Answer, thread["a"]) == 1
