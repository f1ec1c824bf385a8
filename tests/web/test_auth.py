"""Registration, login, logout, settings, and the security users rely on."""
from __future__ import annotations

import re

import pytest

from forum.extensions import db
from forum.models import User
from tests.support import Auth


def test_register_asks_to_confirm_the_address_and_the_account_signs_in(client, auth) -> None:
    r = auth.post("/register", {"username": "maria_k", "email": "Maria@Example.com", "password": "a-long-password"})
    # Not signed in yet: a taken address must get the very same answer (tests/web/test_account_mail.py).
    assert r.status_code == 302 and r.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert "we&#39;ve sent a link to maria@example.com" in page and "Log out" not in page
    user = db.session.query(User).one()
    assert user.email == "maria@example.com" and not user.email_verified
    assert auth.login("maria_k", "a-long-password").status_code == 302
    assert "Log out" in client.get("/").get_data(as_text=True)


def test_register_errors_keep_the_typed_values(client, auth, make_user) -> None:
    make_user("taken_name")
    r = auth.post("/register", {"username": "Taken_Name", "email": "new@example.com", "password": "a-long-password"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "That username is taken." in html and 'value="new@example.com"' in html


def test_short_password_is_refused(auth) -> None:
    r = auth.post("/register", {"username": "shorty", "email": "s@example.com", "password": "short"})
    assert r.status_code == 400 and "at least 10" in r.get_data(as_text=True)


@pytest.mark.parametrize("login", ["alice", "ALICE", "alice@example.com", "Alice@Example.COM"])
def test_login_by_username_or_email(auth, client, make_user, login: str) -> None:
    make_user("alice")
    r = auth.login(login)
    assert r.status_code == 302
    assert "Log out" in client.get("/").get_data(as_text=True)


def test_login_error_does_not_reveal_whether_the_account_exists(auth, make_user) -> None:
    make_user("alice")
    wrong_password = auth.login("alice", "wrong-password-here")
    no_account = auth.login("nobody", "wrong-password-here")
    assert wrong_password.status_code == no_account.status_code == 400
    # CSRF tokens carry a timestamp, so they differ between any two responses.
    strip = lambda r: re.sub(r'(value|content)="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(wrong_password).replace("alice", "X") == strip(no_account).replace("nobody", "X")


def test_login_clears_the_session_it_started_with(client, auth, make_user) -> None:
    make_user("alice")
    with client.session_transaction() as sess:
        sess["planted"] = "by-attacker"
    auth.login("alice")
    with client.session_transaction() as sess:
        assert "planted" not in sess


def test_session_cookie_replayed_after_logout_is_rejected(app, client, auth, make_user) -> None:
    make_user("alice")
    auth.login("alice")
    stolen = client.get_cookie("session").value
    auth.logout()
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert "Log out" not in replay.get("/").get_data(as_text=True)
    assert replay.get("/questions/ask").status_code == 302


def test_remember_cookie_replayed_after_logout_is_rejected(app, client, auth, make_user) -> None:
    make_user("alice")
    auth.login("alice", remember="y")
    remember = client.get_cookie("remember_token")
    assert remember is not None
    auth.logout()
    replay = app.test_client()
    replay.set_cookie("remember_token", remember.value)
    assert "Log out" not in replay.get("/").get_data(as_text=True)


def test_password_change_signs_out_other_sessions_but_not_this_one(app, client, auth, make_user) -> None:
    make_user("alice")
    other = app.test_client()
    Auth(other).login("alice")
    auth.login("alice")
    r = auth.post("/settings/password", {"current_password": "correct-horse-battery", "new_password": "brand-new-password"})
    assert r.status_code == 302
    assert "Log out" in client.get("/").get_data(as_text=True)
    assert "Log out" not in other.get("/").get_data(as_text=True)
    auth.logout()
    assert auth.login("alice", "correct-horse-battery").status_code == 400
    assert auth.login("alice", "brand-new-password").status_code == 302


def test_password_change_needs_the_current_password(auth, make_user) -> None:
    make_user("alice")
    auth.login("alice")
    r = auth.post("/settings/password", {"current_password": "wrong-one-here", "new_password": "brand-new-password"})
    assert r.status_code == 400 and "not your current password" in r.get_data(as_text=True)


def test_change_email_needs_the_password(auth, make_user) -> None:
    make_user("alice")
    auth.login("alice")
    wrong = auth.post("/settings/email", {"email": "alice2@example.com", "password": "not-the-password"})
    assert wrong.status_code == 400 and "not your current password" in wrong.get_data(as_text=True)
    ok = auth.post("/settings/email", {"email": "alice2@example.com", "password": "correct-horse-battery"})
    assert ok.status_code == 302
    # The new address waits for its link (tests/web/test_account_mail.py follows it).
    alice = db.session.query(User).filter_by(username="alice").one()
    assert (alice.email, alice.pending_email) == ("alice@example.com", "alice2@example.com")


@pytest.mark.parametrize("target", ["//evil.test", "/\\evil.test", "https://evil.test", "/\t/evil.test"])
def test_login_next_never_leaves_the_site(client, auth, make_user, target: str) -> None:
    make_user("alice")
    token = auth.csrf_token()
    r = client.post("/login", query_string={"next": target},
                    data={"login": "alice", "password": "correct-horse-battery", "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"] == "/"


def test_login_next_keeps_a_local_path(client, auth, make_user) -> None:
    make_user("alice")
    token = auth.csrf_token()
    r = client.post("/login?next=/questions?tab=active",
                    data={"login": "alice", "password": "correct-horse-battery", "csrf_token": token})
    assert r.headers["Location"] == "/questions?tab=active"


def test_post_without_csrf_token_is_refused(client, make_user) -> None:
    make_user("alice")
    r = client.post("/login", data={"login": "alice", "password": "correct-horse-battery"})
    assert r.status_code == 400 and "Your form expired or came from another site" in r.get_data(as_text=True)
    assert "Log out" not in client.get("/").get_data(as_text=True)


def test_logout_by_get_is_not_allowed(client, auth, make_user) -> None:
    make_user("alice")
    auth.login("alice")
    assert client.get("/logout").status_code == 405
    assert "Log out" in client.get("/").get_data(as_text=True)


def test_profile_shows_bio_rendered_and_display_name(client, auth, make_user) -> None:
    user = make_user("alice")
    auth.login("alice")
    r = auth.post("/settings/profile", {"display_name": "Alice Liddell", "bio": "I fix **hubs**."})
    assert r.status_code == 302
    html = client.get(f"/users/{user.id}").get_data(as_text=True)
    assert "Alice Liddell" in html and "<strong>hubs</strong>" in html and ">AL<" in html


def test_users_cli_creates_admin_and_sets_roles(runner, make_user) -> None:
    r = runner.invoke(args=["users", "create", "boss", "--email", "boss@example.com", "--password", "a-long-password",
                            "--role", "admin"])
    assert r.exit_code == 0, r.output
    assert db.session.query(User).filter_by(username="boss").one().role == "admin"
    make_user("helper")
    r = runner.invoke(args=["users", "set-role", "helper", "agent"])
    assert r.exit_code == 0 and db.session.query(User).filter_by(username="helper").one().role == "agent"
    r = runner.invoke(args=["users", "set-role", "ghost", "agent"])
    assert r.exit_code != 0 and "No user" in r.output


def test_a_hash_made_with_older_parameters_still_signs_in_and_is_rehashed(app, auth, make_user) -> None:
    # Accounts created before the Argon2 parameters changed (e.g. 64 MiB, t=3, p=4) keep
    # working; their hash moves to the configured parameters at the next good sign-in only.
    from argon2 import PasswordHasher, extract_parameters

    user = make_user("alice")
    old = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=2).hash("correct-horse-battery")
    user.password_hash = old
    db.session.commit()

    assert auth.login("alice", "wrong-password-here").status_code == 400
    db.session.expire_all()  # the test's session still holds the row it read before the request
    assert db.session.get(User, user.id).password_hash == old  # a failed sign-in changes nothing

    assert auth.login("alice").status_code == 302
    db.session.expire_all()  # the test's session still holds the row it read before the request
    params = extract_parameters(db.session.get(User, user.id).password_hash)
    cfg = app.config
    assert (params.time_cost, params.memory_cost, params.parallelism) == (
        cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"], cfg["ARGON2_PARALLELISM"])
