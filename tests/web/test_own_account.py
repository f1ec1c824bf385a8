"""The member's own account: signed-in devices, "Download my data", "Delete my account", and
private pages that no cache keeps."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from forum import pagecache
from forum.extensions import db
from forum.mail import unsubscribe_token
from forum.models import ModerationLog, Notification, OutboxMail, QuestionFollow, User, UserSession
from forum.models.base import utcnow
from forum.services import comments, curation, drafts, following, solved_too, votes
from tests.support import Auth

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.5 Mobile/15E148 Safari/604.1")


def _browser(app: Flask, user_agent: str, ip: str) -> tuple[FlaskClient, Auth]:
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": user_agent, "REMOTE_ADDR": ip})
    return client, Auth(client)


def _signed_in(client: FlaskClient) -> bool:
    return 'action="/logout"' in client.get("/").get_data(as_text=True)


def _device_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'action="/settings/sessions/(\d+)/end"', page)]


@pytest.fixture
def two_devices(app: Flask, make_user):
    """alice signed in on a laptop (Firefox on Windows, remember me) and a phone (Safari on iPhone)."""
    make_user("alice")
    laptop, laptop_auth = _browser(app, FIREFOX_WINDOWS, "203.0.113.57")
    phone, phone_auth = _browser(app, SAFARI_IPHONE, "198.51.100.23")
    assert laptop_auth.login("alice", remember="y").status_code == 302
    assert phone_auth.login("alice", remember="y").status_code == 302
    return laptop, laptop_auth, phone, phone_auth


def test_sessions_page_lists_both_devices_with_browser_os_and_a_coarse_network(two_devices) -> None:
    laptop, _, _, _ = two_devices
    page = laptop.get("/settings/sessions").get_data(as_text=True)
    assert "Firefox 128" in page and "Windows" in page
    assert "Mobile Safari 17" in page and "iOS 17.5" in page
    assert "203.0.113.0/24" in page and "198.51.100.0/24" in page
    assert "203.0.113.57" not in page  # the full address is not kept
    assert "This device" in page
    assert len(_device_ids(page)) == 1  # a "sign out" button for the other device, not for this one


def test_ending_one_device_signs_it_out_and_its_remember_me_cookie_too(app, two_devices) -> None:
    laptop, laptop_auth, phone, _ = two_devices
    remember = phone.get_cookie("remember_token")
    assert remember is not None
    [phone_device] = _device_ids(laptop.get("/settings/sessions").get_data(as_text=True))
    r = laptop_auth.post(f"/settings/sessions/{phone_device}/end")
    assert r.status_code == 302 and r.headers["Location"] == "/settings/sessions"
    assert "That device is signed out." in laptop.get("/settings/sessions").get_data(as_text=True)
    assert not _signed_in(phone)
    replay = app.test_client()
    replay.set_cookie("remember_token", remember.value)
    assert not _signed_in(replay)
    assert _signed_in(laptop)
    assert "Safari" not in laptop.get("/settings/sessions").get_data(as_text=True)


def test_sign_out_all_other_devices(app, two_devices) -> None:
    laptop, laptop_auth, phone, _ = two_devices
    third, third_auth = _browser(app, FIREFOX_WINDOWS, "192.0.2.1")
    third_auth.login("alice")
    r = laptop_auth.post("/settings/sessions/end-others")
    assert r.status_code == 302
    assert "Signed out 2 other devices." in laptop.get("/settings/sessions").get_data(as_text=True)
    assert _signed_in(laptop) and not _signed_in(phone) and not _signed_in(third)


def test_a_member_cannot_end_another_members_device(app, two_devices, make_user) -> None:
    _, _, phone, _ = two_devices
    alices = db.session.scalars(select(UserSession.id)).all()
    make_user("mallory")
    mallory, mallory_auth = _browser(app, FIREFOX_WINDOWS, "192.0.2.9")
    mallory_auth.login("mallory")
    r = mallory_auth.post(f"/settings/sessions/{alices[0]}/end")
    assert r.status_code == 302
    assert "already signed out" in mallory.get("/settings/sessions").get_data(as_text=True)
    assert _signed_in(phone)
    assert db.session.scalar(select(UserSession.id).where(UserSession.id == alices[0])) is not None


def test_signing_out_ends_only_this_device(two_devices) -> None:
    laptop, laptop_auth, phone, _ = two_devices
    laptop_auth.logout()
    assert not _signed_in(laptop) and _signed_in(phone)


def test_password_change_keeps_this_device_and_ends_the_others(two_devices) -> None:
    laptop, laptop_auth, phone, _ = two_devices
    r = laptop_auth.post("/settings/password", {"current_password": "correct-horse-battery",
                                                "new_password": "brand-new-password"})
    assert r.status_code == 302
    assert _signed_in(laptop) and not _signed_in(phone)
    assert len(laptop.get("/settings/sessions").get_data(as_text=True).split('class="device ')) == 2


def test_last_seen_is_written_at_most_once_per_interval(app, two_devices) -> None:
    laptop, _, _, _ = two_devices
    app.config["SESSION_LAST_SEEN_MINUTES"] = 5
    row = db.session.scalars(select(UserSession).order_by(UserSession.id)).first()
    assert row is not None
    first_seen = row.last_seen_at
    for _ in range(3):
        assert laptop.get("/").status_code == 200
    db.session.expire_all()
    assert db.session.get(UserSession, row.id).last_seen_at == first_seen  # no write per page
    an_hour_ago = utcnow() - timedelta(hours=1)
    db.session.execute(update(UserSession).where(UserSession.id == row.id).values(last_seen_at=an_hour_ago))
    db.session.commit()
    assert laptop.get("/questions").status_code == 200  # a GET: noted after the page, in its own transaction
    db.session.expire_all()
    seen = db.session.get(UserSession, row.id).last_seen_at
    assert seen > an_hour_ago + timedelta(minutes=59)


def test_download_my_data(client, auth, make_user, make_question, make_answer) -> None:
    alice = make_user("alice")
    bob = make_user("bob")
    q = make_question(author=alice, title="Hub blinks orange after the update")
    theirs = make_question(author=bob, title="Bob asks about the thermostat app")
    a = make_answer(theirs, author=alice, body="Reset the thermostat from its menu, then pair again.")
    comments.add_comment(alice, theirs, "Which firmware version do you have?")
    votes.cast_vote(alice, "question", theirs.id, 1)
    solved = make_question(author=bob, title="Bob's bridge drops off the network")
    fix = make_answer(solved, author=make_user("carol"), body="Give the bridge a fixed address in the router.")
    curation.accept_answer(bob, fix)
    solved_too.toggle(alice, solved.id)
    drafts.save_draft(alice, f"answer:{solved.id}", drafts.DraftText(body="Half-written: mine also needed"))
    db.session.commit()
    auth.login("alice")
    r = client.get("/settings/data/export.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.headers["Content-Disposition"] == 'attachment; filename="alice-data.json"'
    assert r.headers["Cache-Control"] == "no-store"
    data = json.loads(r.get_data(as_text=True))
    assert data["profile"]["username"] == "alice" and data["profile"]["email"] == "alice@example.com"
    assert [x["title"] for x in data["questions"]] == ["Hub blinks orange after the update"]
    assert data["questions"][0]["id"] == q.id
    assert [(x["id"], x["question_id"]) for x in data["answers"]] == [(a.id, theirs.id)]
    assert [x["body"] for x in data["comments"]] == ["Which firmware version do you have?"]
    assert [(v["post_type"], v["post_id"], v["value"]) for v in data["votes"]] == [("question", theirs.id, 1)]
    assert [m["question_id"] for m in data["solved_too"]] == [solved.id]
    assert [(d["key"], d["body"]) for d in data["drafts"]] == [(f"answer:{solved.id}", "Half-written: mine also needed")]
    assert len(data["devices"]) == 1
    assert "bob" not in json.dumps(data["profile"]) and "Bob asks" not in json.dumps(data)
    # The settings page offers it.
    assert 'href="/settings/data/export.json"' in client.get("/settings/data").get_data(as_text=True)


def test_delete_my_account(app, client, auth, make_user, make_question, make_answer) -> None:
    alice = make_user("alice")
    bob = make_user("bob")
    q = make_question(author=alice, title="Hub blinks orange after the update")
    make_answer(q, author=bob, body="Hold the reset button for ten seconds.")
    following.follow_question(alice, q)
    db.session.add(Notification(user_id=alice.id, event="answer", subject="Bob answered", url="/"))
    db.session.commit()
    alice_id = alice.id
    phone, phone_auth = _browser(app, SAFARI_IPHONE, "198.51.100.23")
    phone_auth.login("alice")
    auth.login("alice")

    wrong = auth.post("/settings/delete", {"password": "not-my-password", "confirm": "y"})
    assert wrong.status_code == 400 and "not your password" in wrong.get_data(as_text=True)
    unticked = auth.post("/settings/delete", {"password": "correct-horse-battery"})
    assert unticked.status_code == 400 and "Tick the box" in unticked.get_data(as_text=True)
    assert _signed_in(client)

    r = auth.post("/settings/delete", {"password": "correct-horse-battery", "confirm": "y"})
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert not _signed_in(client) and not _signed_in(phone)

    # The question stays, under "Deleted member"; the name and bio are gone.
    page = client.get(f"/questions/{q.id}").get_data(as_text=True)
    if "Hub blinks orange" not in page:  # the slug redirect
        page = client.get(f"/questions/{q.id}", follow_redirects=True).get_data(as_text=True)
    assert "Hub blinks orange after the update" in page and "Deleted member" in page
    assert ">alice<" not in page
    db.session.expire_all()
    user = db.session.get(User, alice_id)
    assert user.deleted_at is not None
    assert "alice" not in (user.username + user.email + user.display_name + user.bio)
    assert db.session.scalars(select(Notification).where(Notification.user_id == alice_id)).all() == []
    assert db.session.scalars(select(QuestionFollow).where(QuestionFollow.user_id == alice_id)).all() == []
    assert db.session.scalars(select(UserSession).where(UserSession.user_id == alice_id)).all() == []
    profile = client.get(f"/users/{alice_id}").get_data(as_text=True)
    assert "Deleted member" in profile and "deleted their account" in profile and "@deleted_" not in profile
    # It can't sign in, by the old name or the old address.
    assert auth.login("alice").status_code == 400
    assert auth.login("alice@example.com").status_code == 400
    # The deletion is logged, with no personal data in the entry.
    entry = db.session.scalars(select(ModerationLog).where(ModerationLog.action == "delete_account")).one()
    assert entry.target_type == "user" and entry.target_id == alice_id and entry.actor_id == alice_id
    assert "alice" not in entry.before + entry.after + entry.reason
    # The address can open a new account.
    assert auth.post("/register", {"username": "alice_again", "email": "alice@example.com",
                                   "password": "a-long-password"}).status_code == 302


@pytest.mark.parametrize("path", ["/settings/profile", "/settings/sessions", "/settings/data", "/settings/delete",
                                  "/settings/password", "/settings/notifications", "/notifications", "/cases"])
def test_private_pages_send_no_store(client, auth, make_user, path: str) -> None:
    make_user("alice", role="agent")  # an agent may open /cases
    auth.login("alice")
    r = client.get(path)
    assert r.status_code == 200, path
    assert r.headers["Cache-Control"] == "no-store"


def test_public_pages_do_not_send_no_store(client, auth, make_user) -> None:
    make_user("alice")
    auth.login("alice")
    assert "no-store" not in client.get("/questions").headers.get("Cache-Control", "")


def test_the_page_cache_never_stores_a_private_page(app, client, make_user) -> None:
    from forum.pagecache.keys import ENDPOINT_KEYS
    from forum.views.private import PRIVATE_PREFIXES

    # No private page is one the cache may serve...
    private = {rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.startswith(PRIVATE_PREFIXES)}
    assert {"account.sessions", "account.export", "users.edit_profile", "cases.index",
            "notifications.unsubscribe_page"} <= private
    assert not private & set(ENDPOINT_KEYS)
    # ...and one opened without signing in (an unsubscribe link) is sent no-store and not kept.
    app.config["PAGE_CACHE_ENABLED"] = True
    pagecache.init_app(app)
    try:
        user = make_user("alice")
        path = f"/unsubscribe/{unsubscribe_token(user.id, 'comment')}"
        for _ in range(2):
            r = client.get(path)
            assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
            assert r.headers.get("X-Cache") != "HIT"
        assert client.get("/questions").headers["X-Cache"] == "MISS"
        assert client.get("/questions").headers["X-Cache"] == "HIT"  # the cache is on
    finally:
        app.extensions["pagecache"].close()


def test_a_deleted_account_is_sent_nothing(client, auth, make_user, make_question, make_answer) -> None:
    alice = make_user("alice")
    bob = make_user("bob")
    q = make_question(author=alice, title="Hub blinks orange after the update")
    auth.login("alice")
    assert auth.post("/settings/delete", {"password": "correct-horse-battery", "confirm": "y"}).status_code == 302
    make_answer(q, author=bob, body="Hold the reset button for ten seconds.")  # would notify the asker
    db.session.expire_all()
    assert db.session.scalars(select(Notification).where(Notification.user_id == alice.id)).all() == []
    assert db.session.scalars(select(OutboxMail).where(OutboxMail.user_id == alice.id)).all() == []
