"""Password reset, confirming e-mail addresses, changing them, and sign-up without account
enumeration: end to end over HTTP, the mail read from a real SMTP server (aiosmtpd)."""
from __future__ import annotations

import contextvars
import re
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from forum import create_app
from forum.extensions import db
from forum.models import ModerationLog, Notification, OutboxMail, User
from tests.mailserver import Inbox, parts, smtp_server
from tests.support import Auth, redis_url_or_skip

SITE = "https://help.lumen.example"
PASSWORD = "correct-horse-battery"


@pytest.fixture
def inbox(app: Flask) -> Iterator[Inbox]:
    """Every mail the app sends during the test, as received by a real SMTP server."""
    with smtp_server() as (box, port):
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TIMEOUT=5.0, SITE_URL=SITE)
        yield box


def link_in(msg: EmailMessage, path: str) -> str:
    """The site-relative link under ``path`` in both bodies of ``msg`` (they must agree)."""
    text, html = parts(msg)
    found = re.search(re.escape(SITE + path) + r"[A-Za-z0-9_.\-]+", text)
    assert found, f"no {path} link in:\n{text}"
    assert f'href="{found.group(0)}"' in html
    return found.group(0).removeprefix(SITE)


def subjects(inbox: Inbox, address: str) -> list[str]:
    return [m["Subject"] for m in inbox.to(address)]


def flash_of(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'<p class="flash flash-\w+">(.*?)</p>', page, re.S)
    assert found, "no flash message"
    return found.group(1)


def signed_in(client: FlaskClient) -> bool:
    return 'action="/logout"' in client.get("/").get_data(as_text=True)


def forgot(client: FlaskClient, email: str, ip: str = "198.51.100.7") -> object:
    token = Auth(client).csrf_token("/password/forgot")
    return client.post("/password/forgot", data={"email": email, "csrf_token": token}, environ_base={"REMOTE_ADDR": ip})


def register(client: FlaskClient, username: str, email: str, password: str = "a-long-password") -> object:
    return Auth(client).post("/register", {"username": username, "email": email, "password": password})


def user_named(username: str) -> User:
    db.session.expire_all()  # the test's session may hold the row as it was before the request
    return db.session.scalars(select(User).where(User.username == username)).one()


# ---------------------------------------------------------------- password reset


def test_a_reset_link_sets_a_new_password_once_and_ends_every_other_session(app, client, inbox, make_user) -> None:
    make_user("alice")
    laptop = app.test_client()
    Auth(laptop).login("alice", remember="y")
    remember = laptop.get_cookie("remember_token")
    assert remember is not None and signed_in(laptop)

    login_page = client.get("/login").get_data(as_text=True)
    assert '<a href="/password/forgot">Forgot password?</a>' in login_page
    r = forgot(client, "Alice@Example.COM")
    assert r.status_code == 302 and r.headers["Location"] == "/login"
    assert "Check your inbox at alice@example.com" in flash_of(client)

    [msg] = inbox.to("alice@example.com")
    assert msg["Subject"] == "Reset your password for Lumen Community"
    assert msg["List-Unsubscribe"] is None  # account mail cannot be switched off
    link = link_in(msg, "/password/reset/")
    page = client.get(link)
    assert page.status_code == 200 and "alice" in page.get_data(as_text=True)

    too_short = Auth(client).post(link, {"password": "short"})
    assert too_short.status_code == 400 and "at least 10" in too_short.get_data(as_text=True)
    r = Auth(client).post(link, {"password": "a-brand-new-password"})
    assert r.status_code == 302 and r.headers["Location"] == "/login"
    assert "every device signed in to your account is signed out" in flash_of(client)

    # Every other session and remember-me cookie is over.
    assert not signed_in(laptop)
    replay = app.test_client()
    replay.set_cookie("remember_token", remember.value)
    assert not signed_in(replay)
    # The account is told, at its address.
    assert subjects(inbox, "alice@example.com") == ["Reset your password for Lumen Community",
                                                    "Your password was changed"]
    notice_text, _ = parts(inbox.to("alice@example.com")[1])
    assert "changed with a reset link" in notice_text

    # The link worked once: it is dead now, for the form and for a forged POST alike.
    again = client.get(link)
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)
    assert Auth(client).post(link, {"password": "attackers-password"}).status_code == 400
    assert Auth(client).login("alice", PASSWORD).status_code == 400
    assert Auth(client).login("alice", "a-brand-new-password").status_code == 302


def test_asking_for_an_unknown_address_answers_the_same(client, inbox, make_user) -> None:
    make_user("alice")
    known = forgot(client, "alice@example.com")
    known_flash = flash_of(client)
    unknown = forgot(client, "nobody@example.com")
    unknown_flash = flash_of(client)

    assert (known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
    assert known_flash.replace("alice@example.com", "X") == unknown_flash.replace("nobody@example.com", "X")
    # Both addresses get a mail (the same work on both paths); the unknown one holds no reset link.
    [msg] = inbox.to("nobody@example.com")
    text, _ = parts(msg)
    assert "no account uses this address" in text and "/password/reset/" not in text
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_an_expired_reset_link_is_refused(app, client, inbox, make_user) -> None:
    app.config["PASSWORD_RESET_MAX_AGE"] = 1
    make_user("alice")
    forgot(client, "alice@example.com")
    link = link_in(inbox.to("alice@example.com")[0], "/password/reset/")
    time.sleep(2.1)  # itsdangerous counts whole seconds

    r = client.get(link)
    assert r.status_code == 400 and "This reset link has expired" in r.get_data(as_text=True)
    assert 'action="/password/forgot"' in r.get_data(as_text=True)  # asking again is one step
    assert Auth(client).post(link, {"password": "a-brand-new-password"}).status_code == 400
    assert Auth(client).login("alice", PASSWORD).status_code == 302


def test_a_tampered_reset_link_is_refused(client, inbox, make_user) -> None:
    make_user("alice")
    forgot(client, "alice@example.com")
    link = link_in(inbox.to("alice@example.com")[0], "/password/reset/")
    r = client.get(link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb"))
    assert r.status_code == 400 and "not valid" in r.get_data(as_text=True)


def test_reset_requests_are_throttled_per_address_and_per_ip(app, client, inbox, make_user) -> None:
    app.config.update(PASSWORD_RESET_THROTTLE_PER_ADDRESS="2 per hour", PASSWORD_RESET_THROTTLE_PER_IP="3 per hour")
    make_user("alice")
    assert forgot(client, "alice@example.com").status_code == 302
    assert forgot(client, "alice@example.com", ip="203.0.113.9").status_code == 302

    r = forgot(client, "alice@example.com", ip="192.0.2.44")  # a third IP: the address is used up
    assert r.status_code == 429
    assert 3000 < int(r.headers["Retry-After"]) <= 3600
    page = r.get_data(as_text=True)
    assert "Too many password reset requests" in page and 'value="alice@example.com"' in page
    assert 'class="site-header"' in page

    # An unknown address is counted the same way, so the limit tells nothing either.
    assert forgot(client, "ghost@example.com").status_code == 302
    assert forgot(client, "ghost@example.com").status_code == 302  # the third request from this IP
    assert forgot(client, "ghost@example.com", ip="203.0.113.9").status_code == 429
    # The first IP is used up whatever address it asks for; another IP is not.
    assert forgot(client, "other@example.com").status_code == 429
    assert forgot(client, "other@example.com", ip="203.0.113.9").status_code == 302
    assert len(inbox.to("alice@example.com")) == 2


def test_with_redis_the_reset_limits_hold_across_hosts(app, client, inbox, make_user) -> None:
    """Two app instances (two hosts) on one database and one Redis share the counts."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    limits = {"REDIS_URL": redis_url_or_skip(), "REDIS_KEY_PREFIX": prefix,
              "PASSWORD_RESET_THROTTLE_PER_ADDRESS": "2 per hour"}
    app.config.update(limits)  # the throttle reads them at its first use; mail stays inline
    other_host = create_app("testing", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                        "SEARCH_INDEX_DIR": ":memory:", "MAIL_DIR": app.config["MAIL_DIR"]})
    other_host.config.update(limits)
    make_user("alice")
    try:
        assert forgot(client, "alice@example.com").status_code == 302
        assert forgot(client, "alice@example.com").status_code == 302
        # The next request reaches the other host, from another IP: the address is used up there too.
        there = other_host.test_client()
        r = contextvars.Context().run(forgot, there, "alice@example.com", "203.0.113.9")
        assert r.status_code == 429 and "Too many password reset requests" in r.get_data(as_text=True)
        assert len(inbox.to("alice@example.com")) == 2
    finally:
        with other_host.app_context():
            db.session.remove()
            db.engine.dispose()
        store = redis.Redis.from_url(limits["REDIS_URL"])
        keys = list(store.scan_iter(f"{prefix}:*"))
        assert keys, "the counts were not in Redis"
        store.delete(*keys)
        store.close()


# ---------------------------------------------------------------- confirming the address


def test_sign_up_mails_a_link_and_only_account_mail_goes_out_until_it_is_used(
        client, inbox, make_user, make_question, make_answer) -> None:
    assert register(client, "newbie", "Newbie@Example.com").status_code == 302
    [welcome] = inbox.to("newbie@example.com")
    assert welcome["Subject"] == "Confirm your e-mail address for Lumen Community"
    first_link = link_in(welcome, "/verify-email/")

    # The member signs in and asks before confirming...
    assert Auth(client).login("newbie", "a-long-password").status_code == 302
    newbie = user_named("newbie")
    assert not newbie.email_verified
    question = make_question(author=newbie, title="Hub blinks orange after the firmware update")
    make_answer(question, author=make_user("helper"))
    # ...and hears of the answer in the app, not by e-mail.
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == newbie.id)) == 1
    assert subjects(inbox, "newbie@example.com") == ["Confirm your e-mail address for Lumen Community"]

    profile = client.get(f"/users/{newbie.id}").get_data(as_text=True)
    assert "Your e-mail address is not confirmed yet" in profile
    settings = client.get("/settings/email").get_data(as_text=True)
    assert "is not confirmed yet" in settings and "Send the link again" in settings

    r = Auth(client).post("/settings/email/resend")
    assert r.status_code == 302 and "sent a new confirmation link to newbie@example.com" in flash_of(client, "/settings/email")
    second = inbox.to("newbie@example.com")[1]
    assert second["Subject"] == "Confirm your e-mail address for Lumen Community"

    # Following a link shows one button (mail scanners follow links; a GET changes nothing).
    page = client.get(first_link)
    assert page.status_code == 200 and "Confirm newbie@example.com" in page.get_data(as_text=True)
    assert not user_named("newbie").email_verified
    r = Auth(client).post(first_link)
    assert r.status_code == 302 and "newbie@example.com is confirmed" in flash_of(client, "/settings/email")
    assert user_named("newbie").email_verified
    assert "(confirmed)" in client.get("/settings/email").get_data(as_text=True)

    # Once used, every link for that address is spent; notification mail now flows.
    assert client.get(first_link).status_code == 400
    assert Auth(client).post(link_in(second, "/verify-email/")).status_code == 400
    make_answer(question, author=make_user("another_helper"))
    assert subjects(inbox, "newbie@example.com")[-1].startswith("another_helper answered your question")


def test_send_again_is_throttled(app, client, inbox, make_user) -> None:
    app.config["EMAIL_VERIFY_THROTTLE_PER_ACCOUNT"] = "2 per hour"
    make_user("newbie", verified=False)
    Auth(client).login("newbie")
    for _ in range(2):
        assert Auth(client).post("/settings/email/resend").status_code == 302
    r = Auth(client).post("/settings/email/resend")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "Too many confirmation e-mails" in r.get_data(as_text=True)
    assert len(inbox.to("newbie@example.com")) == 2


def test_a_confirmed_member_has_nothing_to_send_again(client, inbox, make_user) -> None:
    make_user("alice")
    Auth(client).login("alice")
    assert Auth(client).post("/settings/email/resend").status_code == 302
    assert "already confirmed" in flash_of(client, "/settings/email")
    assert inbox.messages == []


def test_changing_the_address_waits_for_the_new_one_and_tells_the_old_one(
        client, inbox, make_user, make_question, make_answer) -> None:
    alice = make_user("alice")
    Auth(client).login("alice")
    wrong = Auth(client).post("/settings/email", {"email": "alice.new@example.com", "password": "not-my-password"})
    assert wrong.status_code == 400 and "not your current password" in wrong.get_data(as_text=True)
    assert inbox.messages == []

    r = Auth(client).post("/settings/email", {"email": "Alice.New@example.com", "password": PASSWORD})
    assert r.status_code == 302
    [confirm] = inbox.to("alice.new@example.com")
    assert confirm["Subject"] == "Confirm your e-mail address for Lumen Community"
    [warning] = inbox.to("alice@example.com")
    warning_text, _ = parts(warning)
    assert warning["Subject"] == "Your e-mail address is about to change" and "alice.new@example.com" in warning_text
    settings = client.get("/settings/email").get_data(as_text=True)
    assert "Waiting for you to confirm <strong>alice.new@example.com</strong>" in settings

    # Until the link is used the old address stays the account's: it still gets the mail.
    q = make_question(author=alice, title="Hub blinks orange after the firmware update")
    make_answer(q, author=make_user("helper"))
    assert subjects(inbox, "alice@example.com")[-1].startswith("helper answered your question")
    assert len(inbox.to("alice.new@example.com")) == 1

    link = link_in(confirm, "/verify-email/")
    assert Auth(client).post(link).status_code == 302
    alice = user_named("alice")
    assert (alice.email, alice.pending_email, alice.email_verified) == ("alice.new@example.com", None, True)
    assert Auth(client).post(link).status_code == 400  # used
    Auth(client).logout()
    assert Auth(client).login("alice.new@example.com").status_code == 302


def test_asking_for_an_address_another_account_has_answers_the_same_and_never_confirms(
        app, inbox, make_user) -> None:
    make_user("alice")
    make_user("carol")
    make_user("bob")
    answers = {}
    for who, address in (("alice", "free.address@example.com"), ("carol", "BOB@example.com")):
        c = app.test_client()
        Auth(c).login(who)
        r = Auth(c).post("/settings/email", {"email": address, "password": PASSWORD})
        answers[who] = (r.status_code, r.headers["Location"], flash_of(c, "/settings/email"))
    assert answers["alice"][:2] == answers["carol"][:2] == (302, "/settings/email")
    assert (answers["alice"][2].replace("free.address@example.com", "X").replace("alice@", "Y@")
            == answers["carol"][2].replace("bob@example.com", "X").replace("carol@", "Y@"))
    # The owner of the taken address hears of it, with no link that could confirm it.
    [note] = inbox.to("bob@example.com")
    text, _ = parts(note)
    assert note["Subject"] == "Someone tried to use your e-mail address" and "/verify-email/" not in text
    assert subjects(inbox, "carol@example.com") == ["Your e-mail address is about to change"]
    assert user_named("carol").email == "carol@example.com" and user_named("bob").email == "bob@example.com"


def test_a_pending_address_taken_meanwhile_does_not_move(client, inbox, make_user) -> None:
    make_user("alice")
    Auth(client).login("alice")
    Auth(client).post("/settings/email", {"email": "shared@example.com", "password": PASSWORD})
    link = link_in(inbox.to("shared@example.com")[0], "/verify-email/")
    make_user("bob", email="shared@example.com")  # someone else gets there first

    r = Auth(client).post(link)
    assert r.status_code == 400 and "Another account uses this address now" in r.get_data(as_text=True)
    assert user_named("alice").email == "alice@example.com"


def test_staff_and_the_command_line_can_mark_an_address_confirmed(app, client, runner, make_user) -> None:
    newbie = make_user("newbie", verified=False)
    other = make_user("other", verified=False)
    make_user("member")
    make_user("mod", role="moderator")

    Auth(client).login("member")
    assert Auth(client).post(f"/moderation/users/{newbie.id}/verify-email").status_code == 403
    assert not user_named("newbie").email_verified
    Auth(client).logout()

    Auth(client).login("mod")
    tools = client.get(f"/users/{newbie.id}").get_data(as_text=True)
    assert "E-mail address not confirmed" in tools and "Mark it confirmed" in tools
    r = Auth(client).post(f"/moderation/users/{newbie.id}/verify-email")
    assert r.status_code == 302 and user_named("newbie").email_verified
    entry = db.session.scalars(select(ModerationLog).where(ModerationLog.action == "verify_email")).one()
    assert entry.target_id == newbie.id and entry.actor_id == user_named("mod").id

    result = runner.invoke(args=["users", "verify-email", "other"])
    assert result.exit_code == 0 and "other@example.com is confirmed" in result.output
    assert user_named("other").email_verified and other.id
    again = runner.invoke(args=["users", "verify-email", "other"])
    assert again.exit_code != 0 and "already confirmed" in again.output


def test_accounts_made_by_the_cli_are_confirmed(runner) -> None:
    r = runner.invoke(args=["users", "create", "boss", "--email", "boss@example.com", "--password", "a-long-password",
                            "--role", "admin"])
    assert r.exit_code == 0, r.output
    assert user_named("boss").email_verified


# ---------------------------------------------------------------- sign-up without enumeration


def _strip(page: str) -> str:
    # CSRF tokens carry a timestamp, so they differ between any two responses.
    return re.sub(r'(value|content)="[^"]*"', "", page)


def test_sign_up_with_a_taken_address_answers_like_a_success_and_mails_the_owner(app, inbox, make_user) -> None:
    owner = make_user("alice")
    fresh, taken = app.test_client(), app.test_client()

    new = register(fresh, "newcomer", "newcomer@example.com")
    dup = register(taken, "impostor", "ALICE@example.com")

    assert (new.status_code, new.headers["Location"]) == (dup.status_code, dup.headers["Location"]) == (302, "/login")
    new_page = fresh.get("/login").get_data(as_text=True)
    dup_page = taken.get("/login").get_data(as_text=True)
    assert "we&#39;ve sent a link to newcomer@example.com" in new_page
    assert _strip(new_page).replace("newcomer@example.com", "X") == _strip(dup_page).replace("alice@example.com", "X")
    assert not signed_in(fresh) and not signed_in(taken)

    # No second account; the owner hears of the attempt; the newcomer gets a confirmation link.
    assert db.session.scalar(select(func.count(User.id)).where(User.username == "impostor")) == 0
    assert db.session.scalar(select(func.count(User.id)).where(User.email == "alice@example.com")) == 1
    [attempt] = inbox.to("alice@example.com")
    text, _ = parts(attempt)
    assert attempt["Subject"] == "Someone tried to sign up to Lumen Community with your address"
    assert "No new account was created" in text and f"{SITE}/password/forgot" in text and f"{SITE}/login" in text
    assert owner.username in text
    assert subjects(inbox, "newcomer@example.com") == ["Confirm your e-mail address for Lumen Community"]


def test_repeated_sign_ups_with_a_taken_address_do_not_flood_its_owner(app, inbox, make_user) -> None:
    app.config["EMAIL_VERIFY_THROTTLE_PER_ACCOUNT"] = "2 per hour"
    make_user("alice")
    answers = {register(app.test_client(), f"impostor{i}", "alice@example.com").status_code for i in range(4)}
    assert answers == {302}  # every one answered like a success: no 429 that would tell
    assert subjects(inbox, "alice@example.com") == ["Someone tried to sign up to Lumen Community with your address"] * 2


def test_a_taken_username_is_still_refused_and_nothing_is_mailed(client, inbox, make_user) -> None:
    make_user("taken_name")
    r = register(client, "Taken_Name", "someone@example.com")
    assert r.status_code == 400 and "That username is taken." in r.get_data(as_text=True)
    assert 'value="someone@example.com"' in r.get_data(as_text=True)
    assert inbox.messages == [] and db.session.scalar(select(func.count(OutboxMail.id))) == 0


def test_every_sign_up_outcome_spends_one_password_hash(app, client, make_user, monkeypatch) -> None:
    """The time of a sign-up is its Argon2 hash: each outcome, refusals included, computes one."""
    from forum.services import accounts

    make_user("taken_name", email="taken@example.com")
    hashed: list[str] = []
    real = accounts.hash_password
    monkeypatch.setattr(accounts, "hash_password", lambda p: hashed.append(p) or real(p))
    outcomes = {
        "new": ("brand_new", "brand.new@example.com", "a-long-password"),
        "taken e-mail": ("someone", "taken@example.com", "a-long-password"),
        "taken username": ("taken_name", "free@example.com", "a-long-password"),
        "weak password": ("weakling", "weak@example.com", "short"),
        "malformed e-mail": ("malformed", "not-an-address", "a-long-password"),
    }
    for name, (username, email, password) in outcomes.items():
        hashed.clear()
        register(app.test_client(), username, email, password)
        assert len(hashed) == 1, name


def test_a_mistyped_mail_limit_stops_the_app_at_start(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("FORUM_PASSWORD_RESET_THROTTLE_PER_IP", "ten an hour")
    with pytest.raises(ValueError, match="PASSWORD_RESET_THROTTLE_PER_IP"):
        create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})
