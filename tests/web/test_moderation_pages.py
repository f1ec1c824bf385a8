"""Moderation over HTTP: who may do what (role x action), forged requests, 429, suspension and silence."""
from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select, text

from forum.extensions import db
from forum.models import Answer, Comment, Flag, Question, User, WatchedWord
from forum.services import comments, flags, moderation
from forum.services.visibility import hide_post

ROLES = ["anonymous", "new_member", "member", "agent", "moderator", "admin"]
STAFF_ONLY = {"anonymous": 302, "new_member": 403, "member": 403, "agent": 403, "moderator": 302, "admin": 302}


@pytest.fixture(autouse=True)
def safety_on(app):
    app.config.update(POST_RATE_LIMITS_ENABLED=True, NEW_MEMBER_LINK_REVIEW=True)
    return app


def established(user: User) -> User:
    user.reputation = 50
    db.session.commit()
    return user


@pytest.fixture
def world(make_user, make_question, make_answer):
    """A thread with pending flags on each post, a held post, a hidden and a deleted one, and people to act on."""
    owner = established(make_user("owner"))
    flagger = make_user("flagger")
    q = make_question(author=owner, title="Thread used by the moderation matrix")
    a = make_answer(q, author=owner, body="The owner's own answer text")
    c = comments.add_comment(owner, q, "The owner's comment")
    hidden = make_answer(q, author=owner, body="An answer a moderator hid")
    deleted = comments.add_comment(owner, q, "A comment the owner deleted")
    held = make_question(author=owner, title="Question waiting in the review queue")
    db.session.flush()
    for post_type, post in (("question", q), ("answer", a), ("comment", c)):
        flags.flag_post(flagger, post_type, post.id, "off_topic", "Not about the hub")
    hide_post(hidden, "moderator")
    hide_post(held, "review")
    comments.delete_comment(owner, deleted)
    mod = make_user("boss", role="moderator")
    suspended, silenced = make_user("suspended_one"), make_user("silenced_one")
    moderation.suspend_user(mod, suspended, 3, "Spam run")
    moderation.silence_user(mod, silenced, 3, "Cooling off")
    db.session.add(WatchedWord(phrase="casino", action="block"))
    db.session.commit()
    word = db.session.scalar(select(WatchedWord.id))
    return {"q": q.id, "a": a.id, "c": c.id, "hidden": hidden.id, "deleted": deleted.id, "held": held.id,
            "target": make_user("target").id, "suspended": suspended.id, "silenced": silenced.id, "word": word,
            "owner": owner.id}


def sign_in(role: str, make_user, auth) -> User | None:
    if role == "anonymous":
        return None
    user = make_user(f"r_{role}", role="member" if role in ("new_member", "member") else role)
    if role != "new_member":
        established(user)
    auth.login(f"r_{role}")
    return user


def snapshot() -> tuple[Any, ...]:
    """Everything a moderation action could change."""
    db.session.expire_all()
    rows = lambda sql: tuple(db.session.execute(text(sql)).all())  # noqa: E731
    return (
        rows("SELECT id, status, outcome FROM flags ORDER BY id"),
        rows("SELECT id, hidden_at, hidden_reason, deleted_at FROM questions ORDER BY id"),
        rows("SELECT id, hidden_at, hidden_reason, deleted_at FROM answers ORDER BY id"),
        rows("SELECT id, hidden_at, hidden_reason, deleted_at FROM comments ORDER BY id"),
        rows("SELECT id, suspended_until, suspension_reason, silenced_until, silence_reason FROM users ORDER BY id"),
        rows("SELECT id, phrase, action FROM watched_words ORDER BY id"),
        rows("SELECT COUNT(*) FROM user_notes"),
        rows("SELECT COUNT(*) FROM moderation_log"),
    )


GET_PAGES = {
    "/moderation": {**STAFF_ONLY, "moderator": 200, "admin": 200},
    "/moderation/words": {**STAFF_ONLY, "moderator": 200, "admin": 200},
    "/moderation/log": {**STAFF_ONLY, "agent": 200, "moderator": 200, "admin": 200},
    "/moderation/log?target_type=user&target_id={target}": {**STAFF_ONLY, "agent": 200, "moderator": 200, "admin": 200},
    "/flags/mine": {r: (302 if r == "anonymous" else 200) for r in ROLES},
    "/flag/question/{q}": {r: (302 if r == "anonymous" else 200) for r in ROLES},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", list(GET_PAGES))
def test_moderation_pages_by_role(client, auth, make_user, world, role: str, path: str) -> None:
    sign_in(role, make_user, auth)
    r = client.get(path.format(**world))
    assert r.status_code == GET_PAGES[path][role]
    if r.status_code == 302:
        assert r.headers["Location"].startswith("/login?next=")


MOD_ACTIONS: dict[str, tuple[str, dict[str, str]]] = {
    "dismiss flags": ("/moderation/flags/question/{q}/dismiss", {}),
    "hide flagged": ("/moderation/flags/answer/{a}/hide", {}),
    "delete flagged": ("/moderation/flags/comment/{c}/delete", {}),
    "warn flagged author": ("/moderation/flags/question/{q}/warn", {"reason": "Please stay on topic"}),
    "suspend flagged author": ("/moderation/flags/answer/{a}/suspend", {"days": "3", "reason": "Spam"}),
    "approve held post": ("/moderation/review/question/{held}/approve", {}),
    "reject held post": ("/moderation/review/question/{held}/reject", {"reason": "Advert"}),
    "unhide": ("/moderation/posts/answer/{hidden}/unhide", {}),
    "restore": ("/moderation/posts/comment/{deleted}/restore", {}),
    "add watched word": ("/moderation/words", {"phrase": "free money", "action": "review"}),
    "remove watched word": ("/moderation/words/{word}/delete", {}),
    "suspend user": ("/moderation/users/{target}/suspend", {"suspend-days": "3", "suspend-reason": "Spam"}),
    "silence user": ("/moderation/users/{target}/silence", {"silence-days": "3", "silence-reason": "Heated"}),
    "unsuspend user": ("/moderation/users/{suspended}/unsuspend", {}),
    "unsilence user": ("/moderation/users/{silenced}/unsilence", {}),
    "add note": ("/moderation/users/{target}/notes", {"note-body": "Keep an eye on refunds"}),
    "warn user": ("/moderation/users/{target}/warn", {"warn-reason": "Be kind"}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(MOD_ACTIONS))
def test_moderator_actions_by_role(client, auth, make_user, world, role: str, action: str) -> None:
    sign_in(role, make_user, auth)
    path, data = MOD_ACTIONS[action]
    before = snapshot()
    r = auth.post(path.format(**world), data)
    assert r.status_code == STAFF_ONLY[role], r.get_data(as_text=True)[-1500:]
    after = snapshot()
    if STAFF_ONLY[role] == 302 and role != "anonymous":
        assert after[-1][0][0] > before[-1][0][0], "every moderator action is logged"
        assert after != before
    else:
        assert after == before, "a refused action changes nothing"
        if role == "anonymous":
            assert r.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ROLES)
def test_flagging_by_role(client, auth, make_user, world, role: str) -> None:
    user = sign_in(role, make_user, auth)
    r = auth.post(f"/flag/answer/{world['a']}", {"reason": "spam"})
    if user is None:
        assert r.status_code == 302 and r.headers["Location"].startswith("/login")
        return
    assert r.status_code == 302 and r.headers["Location"].endswith(f"#answer-{world['a']}")
    db.session.expire_all()
    assert db.session.scalar(select(Flag.reason).where(Flag.flagger_id == user.id)) == "spam"


# --- forged requests ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/flag/question/999999", "/flag/answer/999999", "/flag/comment/999999",
                                  "/flag/article/1", "/flag/user/1"])
def test_flagging_a_post_that_does_not_exist_is_404(client, auth, make_user, world, path: str) -> None:
    sign_in("member", make_user, auth)
    before = snapshot()
    assert auth.post(path, {"reason": "spam"}).status_code == 404
    assert snapshot() == before


def test_flagging_a_hidden_post_is_404_and_ones_own_post_403(client, auth, make_user, world) -> None:
    sign_in("member", make_user, auth)
    before = snapshot()
    assert auth.post(f"/flag/answer/{world['hidden']}", {"reason": "spam"}).status_code == 404
    assert auth.post(f"/flag/comment/{world['deleted']}", {"reason": "spam"}).status_code == 404
    assert auth.post(f"/flag/question/{world['held']}", {"reason": "spam"}).status_code == 404
    assert snapshot() == before
    auth.logout()
    auth.login("owner")
    r = auth.post(f"/flag/question/{world['q']}", {"reason": "spam"})
    assert r.status_code == 403 and "own post" in r.get_data(as_text=True)
    assert snapshot() == before


def test_injected_fields_in_the_flag_form_do_nothing(client, auth, make_user, world) -> None:
    me = sign_in("member", make_user, auth)
    r = auth.post(f"/flag/question/{world['q']}", {
        "reason": "spam", "status": "dismissed", "outcome": "ignored", "flagger_id": str(world["owner"]),
        "hidden_at": "2020-01-01 00:00:00", "post_type": "answer", "post_id": str(world["a"]),
    })
    assert r.status_code == 302
    db.session.expire_all()
    f = db.session.scalar(select(Flag).where(Flag.flagger_id == me.id))
    assert (f.post_type, f.post_id, f.status, f.outcome) == ("question", world["q"], "pending", "")
    assert db.session.get(Question, world["q"]).is_visible


def test_injected_fields_in_moderator_forms_do_nothing(client, auth, make_user, world) -> None:
    sign_in("moderator", make_user, auth)
    auth.post(f"/moderation/flags/question/{world['q']}/dismiss", {"status": "actioned", "hidden_at": "x"})
    auth.post(f"/moderation/flags/answer/{world['a']}/hide", {"hidden_reason": "review", "status": "dismissed"})
    db.session.expire_all()
    statuses = dict(db.session.execute(select(Flag.post_type, Flag.status).where(Flag.post_type != "comment")).all())
    assert statuses == {"question": "dismissed", "answer": "actioned"}
    assert db.session.get(Question, world["q"]).is_visible
    assert db.session.get(Answer, world["a"]).hidden_reason == "moderator"


def test_unknown_moderation_actions_are_404(client, auth, make_user, world) -> None:
    sign_in("moderator", make_user, auth)
    before = snapshot()
    for path in (f"/moderation/flags/question/{world['q']}/destroy", f"/moderation/flags/article/{world['q']}/hide",
                 "/moderation/flags/question/999999/hide", "/moderation/posts/answer/999999/unhide",
                 "/moderation/users/999999/suspend", "/moderation/words/999999/delete"):
        assert auth.post(path, {"suspend-days": "1", "suspend-reason": "x"}).status_code == 404, path
    assert snapshot() == before


def test_moderators_cannot_suspend_staff_over_http(client, auth, make_user, world) -> None:
    sign_in("moderator", make_user, auth)
    agent = make_user(role="agent")
    before = snapshot()
    r = auth.post(f"/moderation/users/{agent.id}/suspend", {"suspend-days": "3", "suspend-reason": "No"})
    assert r.status_code == 403 and snapshot() == before


def test_bad_suspension_form_keeps_the_text_and_says_why(client, auth, make_user, world) -> None:
    sign_in("moderator", make_user, auth)
    r = auth.post(f"/moderation/users/{world['target']}/suspend", {"suspend-days": "0", "suspend-reason": "Posting ads"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "from 1 to 365" in html and "Posting ads" in html


# --- pages show the right things --------------------------------------------------------------


def test_queue_groups_flags_by_post_and_lists_the_review_queue(client, auth, make_user, world) -> None:
    flags.flag_post(make_user(), "answer", world["a"], "spam")
    db.session.commit()
    sign_in("moderator", make_user, auth)
    html = client.get("/moderation").get_data(as_text=True)
    assert "Flagged posts (3)" in html and html.count('class="card mod-group"') == 4
    assert "Spam × 1" in html and "Off-topic × 1" in html and "Not about the hub" in html
    assert "Question waiting in the review queue" in html and "Review queue (1)" in html


def test_flaggers_see_the_outcome_on_my_flags(client, auth, make_user, world) -> None:
    moderation.act_on_flags(make_user(role="moderator"), "answer", world["a"], "hide")
    db.session.commit()
    auth.login("flagger")
    html = client.get("/flags/mine").get_data(as_text=True)
    assert "A moderator hid the post." in html and "Waiting for a moderator." in html
    assert "The owner&#39;s own answer text" not in html  # hidden now: nothing of it is shown


def test_log_shows_who_what_why_and_before_after(client, auth, make_user, world) -> None:
    sign_in("agent", make_user, auth)
    html = client.get(f"/moderation/log?target_type=user&target_id={world['suspended']}").get_data(as_text=True)
    assert "boss" in html and "suspend" in html and "Spam run" in html and "→" in html
    assert "Cooling off" not in html  # filtered to one target


def test_profile_notes_are_only_for_moderators(client, auth, make_user, world) -> None:
    target = db.session.get(User, world["target"])
    moderation.add_note(make_user(role="moderator"), target, "Secret note about refunds")
    db.session.commit()
    for role in ("anonymous", "member", "agent"):
        sign_in(role, make_user, auth)
        assert "Secret note" not in client.get(f"/users/{target.id}").get_data(as_text=True)
        auth.logout()
    auth.login("target")
    assert "Secret note" not in client.get(f"/users/{target.id}").get_data(as_text=True)
    auth.logout()
    sign_in("moderator", make_user, auth)
    html = client.get(f"/users/{target.id}").get_data(as_text=True)
    assert "Moderator tools" in html and "Secret note about refunds" in html


# --- posting rules over HTTP -----------------------------------------------------------------


def test_rate_limited_posting_answers_429_with_the_message(app, client, auth, make_user) -> None:
    app.config["NEW_MEMBER_POSTS"] = 100  # stays a new member after three published questions
    make_user("fresh")
    auth.login("fresh")
    for i in range(3):
        r = auth.post("/questions/ask", {"title": f"Plain question number {i}", "tags": "setup",
                                         "body": "The hub blinks orange after the update, again."})
        assert r.status_code == 302
    r = auth.post("/questions/ask", {"title": "One more question today", "tags": "setup",
                                     "body": "The hub blinks orange after the update."})
    html = r.get_data(as_text=True)
    assert r.status_code == 429
    assert "at most 3 questions per 10 minutes for new members. Try again in 10 minutes." in html
    assert 'class="site-header"' in html  # the error page is in the layout


def test_held_posts_are_capped_instead_of_rate_limited(client, auth, make_user) -> None:
    make_user("fresh")
    auth.login("fresh")
    for i in range(3):
        r = auth.post("/questions/ask", {"title": f"Spammy question number {i}", "tags": "setup",
                                         "body": "Buy now at https://cheap.example/hub please"})
        assert r.status_code == 302
    r = auth.post("/questions/ask", {"title": "Yet another spammy question", "tags": "setup",
                                     "body": "Buy now at https://cheap.example/hub please"})
    assert r.status_code == 429
    assert "You already have 3 posts waiting for a moderator" in r.get_data(as_text=True).replace("&#39;", "'")
    # Held posts don't count toward the rate limit: a post without links still goes in.
    assert auth.post("/questions/ask", {"title": "One more question today", "tags": "setup",
                                        "body": "The hub blinks orange after the update."}).status_code == 302


def test_new_members_link_waits_for_review_then_is_approved(client, auth, make_user) -> None:
    make_user("fresh")
    auth.login("fresh")
    r = auth.post("/questions/ask", {"title": "Where to buy spare hub cables", "tags": "setup",
                                     "body": "I found them at www.cables.example but are they any good?"})
    url = r.headers["Location"]
    assert "Hidden: waiting for review" in client.get(url).get_data(as_text=True)
    auth.logout()
    assert client.get(url).status_code == 404
    sign_in("moderator", make_user, auth)
    qid = int(re.search(r"/questions/(\d+)", url).group(1))
    assert auth.post(f"/moderation/review/question/{qid}/approve").status_code == 302
    auth.logout()
    assert client.get(url).status_code == 200


def test_blocked_word_keeps_the_text_in_the_form(client, auth, make_user) -> None:
    db.session.add(WatchedWord(phrase="casino", action="block"))
    db.session.commit()
    established(make_user("maria"))
    auth.login("maria")
    r = auth.post("/questions/ask", {"title": "Hub offline every evening", "tags": "setup",
                                     "body": "My careful description mentions the Casino wifi."})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "blocked word" in html and "My careful description" in html


# --- suspension and silence ---------------------------------------------------------------------


def test_suspended_user_cannot_sign_in_and_sees_why(client, auth, world) -> None:
    r = auth.login("suspended_one")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "Your account is suspended until" in html and "Spam run" in html
    assert "Log out" not in client.get("/").get_data(as_text=True)


def test_signed_in_user_is_signed_out_when_suspended(client, auth, make_user, world) -> None:
    user = make_user("soon_gone")
    auth.login("soon_gone", remember="y")
    assert "Log out" in client.get("/").get_data(as_text=True)
    moderation.suspend_user(make_user(role="moderator"), user, 2, "Abusive messages")
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert "Log out" not in html and "Your account is suspended until" in html and "Abusive messages" in html
    again = client.get("/").get_data(as_text=True)
    assert "Log out" not in again and "Abusive messages" not in again  # told once, stays signed out


def test_silenced_user_reads_but_cannot_post(client, auth, world) -> None:
    auth.login("silenced_one")
    ask = client.get("/questions/ask").get_data(as_text=True)
    assert "You can&#39;t post until" in ask and "Cooling off" in ask and 'name="title"' not in ask
    thread = client.get(f"/questions/{world['q']}", follow_redirects=True).get_data(as_text=True)
    assert "You can&#39;t post until" in thread and "Post your answer" not in thread
    before = snapshot()
    assert auth.post("/questions/ask", {"title": "Trying to post anyway", "body": "x" * 30, "tags": "setup"}).status_code == 403
    assert auth.post(f"/questions/{world['q']}/answers", {"body": "Sneaky answer"}).status_code == 403
    assert auth.post(f"/questions/{world['q']}/comments", {"body": "Sneaky comment"}).status_code == 403
    assert snapshot() == before


# --- hidden content shows nothing of itself ------------------------------------------------------


def test_hidden_posts_are_absent_for_others_and_marked_for_staff(client, auth, make_user, world) -> None:
    hide_post(db.session.get(Comment, world["c"]), "flags")
    db.session.commit()
    for role in ("anonymous", "member"):
        sign_in(role, make_user, auth)
        html = client.get(f"/questions/{world['q']}", follow_redirects=True).get_data(as_text=True)
        assert "An answer a moderator hid" not in html and "The owner&#39;s comment" not in html
        assert client.get(f"/questions/{world['held']}").status_code == 404
        assert "Question waiting in the review queue" not in client.get("/questions").get_data(as_text=True)
        auth.logout()
    sign_in("moderator", make_user, auth)
    html = client.get(f"/questions/{world['q']}", follow_redirects=True).get_data(as_text=True)
    assert "An answer a moderator hid" in html and "Hidden by a moderator" in html and "Hidden after flags" in html


def test_hidden_question_leaves_search(client, make_user, make_question) -> None:
    q = make_question(title="Zanzibar thermostat refuses to pair", body="The Zanzibar thermostat never pairs.")
    assert "Zanzibar" in client.get("/search?q=zanzibar").get_data(as_text=True)
    hide_post(q, "moderator")
    db.session.commit()
    assert "Zanzibar thermostat" not in client.get("/search?q=zanzibar").get_data(as_text=True)


def test_a_held_post_is_announced_before_and_after_and_its_author_hears_the_outcome(
        client, auth, make_user, make_question) -> None:
    """Issue 13, item 1: nothing warned before posting, the flash said "Your question is posted",
    the page offered answers and then refused them, and no notification came on approval."""
    from forum.models import Notification

    fresh = make_user("fresh_asker")
    auth.login("fresh_asker")
    ask = client.get("/questions/ask").get_data(as_text=True)
    assert "a question with a link to another site waits for a moderator" in ask  # said before posting
    r = auth.post("/questions/ask", {"title": "Where to buy spare hub cables", "tags": "setup",
                                     "body": "I found them at www.cables.example but are they any good?"},
                  follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "Your question is waiting for a moderator" in page and "usually takes under 4 hours" in page
    assert "Your question is posted" not in page
    assert "share it below" not in page and "doesn't take new answers" not in page
    assert "Answers open once a moderator publishes the question." in page
    qid = int(re.search(r"/questions/(\d+)", r.request.path).group(1))
    auth.logout()
    sign_in("moderator", make_user, auth)
    assert auth.post(f"/moderation/review/question/{qid}/approve").status_code == 302
    note = db.session.scalars(select(Notification).where(Notification.user_id == fresh.id,
                                                         Notification.event == "review")).one()
    assert "approved your question" in note.subject and f"/questions/{qid}/" in note.url
    # An answer with a link, declined with a reason: the author is told why.
    auth.logout()
    make_user("fresh_answerer")
    auth.login("fresh_answerer")
    r = auth.post(f"/questions/{qid}/answers", {"body": "Try https://cables.example/cheap-stuff instead."},
                  follow_redirects=True)
    assert "Your answer is waiting for a moderator" in r.get_data(as_text=True)
    answer_id = int(re.search(r'id="answer-(\d+)"', r.get_data(as_text=True)).group(1))
    auth.logout()
    auth.login("r_moderator")
    r = auth.post(f"/moderation/review/answer/{answer_id}/reject", {"reason": "Advertising a shop"})
    assert r.status_code == 302
    answerer = db.session.scalars(select(User).where(User.username == "fresh_answerer")).one()
    note = db.session.scalars(select(Notification).where(Notification.user_id == answerer.id,
                                                         Notification.event == "review")).one()
    assert "declined your answer" in note.subject and "Reason: Advertising a shop" in note.subject


def test_established_members_are_not_warned_about_review(client, auth, make_user) -> None:
    established(make_user("old_hand"))
    auth.login("old_hand")
    assert "waits for a moderator" not in client.get("/questions/ask").get_data(as_text=True)
