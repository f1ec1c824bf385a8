"""Settings → API tokens: create (the secret shown once), list, revoke one or all, the limits
checked by the server, and the tokens revoked with a new password, a reset, a deletion or a
suspension."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forum.extensions import db
from forum.models import ApiToken, User
from forum.services import account_data, api_tokens, password_reset
from forum.services.account_mail import reset_token
from forum.services.moderation import suspend_user
from tests.support import Auth

SECRET_RE = re.compile(r'<code class="token-secret-value" id="new-token">(fct_[A-Za-z0-9_-]+)</code>')


def _create(auth: Auth, **form: Any) -> Any:
    data = {"name": "backup script", "scopes": ["read"], "expires_in_days": "30", **form}
    return auth.post("/settings/tokens", data)


def _secret(response: Any) -> str:
    found = SECRET_RE.search(response.get_data(as_text=True))
    assert found, "the new token is shown"
    return found.group(1)


def _api(client: FlaskClient, secret: str) -> int:
    return client.get("/api/v1/questions", headers={"Authorization": f"Bearer {secret}"}).status_code


def _tokens(app: Flask, username: str) -> list[ApiToken]:
    with app.app_context():
        user = db.session.scalars(select(User).where(User.username == username)).one()
        return api_tokens.tokens_of(user)


def test_a_token_is_created_shown_once_listed_and_works(app: Flask, client: FlaskClient, auth: Auth,
                                                        make_user: Callable[..., Any]) -> None:
    make_user("alice")
    auth.login("alice")
    page = client.get("/settings/tokens")
    assert page.status_code == 200 and "No tokens yet" in page.get_data(as_text=True)
    assert 'aria-current="page">API tokens</a>' in page.get_data(as_text=True)
    assert 'value="staff"' not in page.get_data(as_text=True)  # offered to staff only
    r = _create(auth, scopes=["read", "write"], expires_in_days="90")
    assert r.status_code == 200
    secret = _secret(r)
    html = r.get_data(as_text=True)
    assert "shown only this once" in html and "copy" in html.lower()
    assert "backup script" in html and "Scopes: read, write" in html and "last used never" in html
    assert _api(client, secret) == 200
    again = client.get("/settings/tokens").get_data(as_text=True)
    assert secret not in again and SECRET_RE.search(again) is None  # never shown again
    assert secret[:10] in again  # its first characters tell it apart
    assert "last used never" not in again and re.search(r"last used <time datetime=", again)
    [token] = _tokens(app, "alice")
    assert token.scope_list == ["read", "write"] and token.expires_at is not None
    assert (token.expires_at - token.created_at).days == 90
    assert token.token_hash != secret and secret not in token.token_hash


def test_revoking_a_token_refuses_it_at_once_and_revoke_all_ends_the_rest(app: Flask, client: FlaskClient,
                                                                          auth: Auth,
                                                                          make_user: Callable[..., Any]) -> None:
    make_user("alice")
    auth.login("alice")
    first = _secret(_create(auth, name="first"))
    second = _secret(_create(auth, name="second", expires_in_days="0"))
    third = _secret(_create(auth, name="third"))
    by_name = {t.name: t for t in _tokens(app, "alice")}
    assert by_name["second"].expires_at is None
    r = auth.post(f"/settings/tokens/{by_name['first'].id}/revoke")
    assert r.status_code == 302
    page = client.get("/settings/tokens").get_data(as_text=True)
    assert "is revoked" in page and "Revoked" in page
    assert _api(client, first) == 401 and _api(client, second) == 200
    r = client.get("/api/v1/questions", headers={"Authorization": f"Bearer {first}"})
    assert r.get_json()["error"]["code"] == "unauthorized"
    assert auth.post("/settings/tokens/revoke-all").status_code == 302
    assert "Revoked 2 tokens." in client.get("/settings/tokens").get_data(as_text=True)
    assert _api(client, second) == 401 and _api(client, third) == 401


def test_revoke_needs_the_csrf_token_and_another_members_token_is_404(app: Flask, client: FlaskClient, auth: Auth,
                                                                      make_user: Callable[..., Any]) -> None:
    bob = make_user("bob")
    with app.app_context():
        token, secret = api_tokens.create_token(db.session.get(User, bob.id), "bob's", ["read"], 30)
        db.session.commit()
        token_id = token.id
    make_user("alice")
    auth.login("alice")
    assert client.post(f"/settings/tokens/{token_id}/revoke").status_code == 400  # no CSRF token
    assert auth.post(f"/settings/tokens/{token_id}/revoke").status_code == 404
    assert _api(client, secret) == 200
    assert client.get("/settings/tokens").get_data(as_text=True).count("bob's") == 0


def test_the_server_enforces_the_limits_and_keeps_what_was_typed(app: Flask, client: FlaskClient, auth: Auth,
                                                                 make_user: Callable[..., Any]) -> None:
    make_user("alice")
    auth.login("alice")
    r = _create(auth, name="x" * 81, scopes=["write"])
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "Keep the name under 80 characters." in html
    assert 'value="write" checked' in html or 'checked value="write"' in html or re.search(
        r'<input[^>]*checked[^>]*value="write"|<input[^>]*value="write"[^>]*checked', html)
    r = _create(auth, name="", scopes=[])
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "Give the token a name" in html and "Choose at least one scope." in html
    r = _create(auth, name="my script", scopes=["read", "staff"])
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "Only staff can create tokens with the staff scope." in html
    assert 'value="my script"' in html  # the form keeps the input
    r = _create(auth, scopes=["root"])
    assert r.status_code == 400 and "Unknown scope: root." in r.get_data(as_text=True)
    r = _create(auth, expires_in_days="3650")
    assert r.status_code == 400 and "Choose an expiry of at most 365 days." in r.get_data(as_text=True)
    r = _create(auth, expires_in_days="soon")
    assert r.status_code == 400
    assert _tokens(app, "alice") == []
    app.config["API_TOKENS_PER_USER"] = 1
    assert _create(auth).status_code == 200
    r = _create(auth, name="one too many")
    assert r.status_code == 400 and "You have 1 active tokens" in r.get_data(as_text=True)
    assert len(_tokens(app, "alice")) == 1


def test_staff_may_create_a_staff_token(app: Flask, client: FlaskClient, auth: Auth,
                                        make_user: Callable[..., Any]) -> None:
    make_user("agent_ann", role="agent")
    auth.login("agent_ann")
    assert 'value="staff"' in client.get("/settings/tokens").get_data(as_text=True)
    r = _create(auth, scopes=["read", "staff"])
    assert r.status_code == 200 and "Scopes: read, staff" in r.get_data(as_text=True)


def test_the_page_is_for_signed_in_members_and_never_cached(client: FlaskClient, auth: Auth,
                                                            make_user: Callable[..., Any]) -> None:
    r = client.get("/settings/tokens")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    make_user("alice")
    auth.login("alice")
    assert "no-store" in client.get("/settings/tokens").headers["Cache-Control"]


def test_a_password_change_revokes_every_token(app: Flask, client: FlaskClient, auth: Auth,
                                               make_user: Callable[..., Any]) -> None:
    make_user("alice")
    auth.login("alice")
    secret = _secret(_create(auth))
    assert _api(client, secret) == 200
    r = auth.post("/settings/password", {"current_password": "correct-horse-battery",
                                         "new_password": "brand-new-password"})
    assert r.status_code == 302
    assert _api(client, secret) == 401
    assert all(t.revoked_at is not None for t in _tokens(app, "alice"))


def test_a_refused_password_change_revokes_nothing(app: Flask, client: FlaskClient, auth: Auth,
                                                   make_user: Callable[..., Any]) -> None:
    make_user("alice")
    auth.login("alice")
    secret = _secret(_create(auth))
    r = auth.post("/settings/password", {"current_password": "wrong-password", "new_password": "brand-new-password"})
    assert r.status_code == 400 and _api(client, secret) == 200


def test_a_reset_a_deletion_and_a_suspension_revoke_the_tokens(app: Flask, client: FlaskClient,
                                                                make_user: Callable[..., Any]) -> None:
    secrets: dict[str, str] = {}
    users = {name: make_user(name) for name in ("reset_rita", "deleting_dan", "suspended_sue")}
    mod = make_user("mod_mo", role="moderator")
    with app.app_context():
        for name, user in users.items():
            _, secrets[name] = api_tokens.create_token(db.session.get(User, user.id), "script", ["read"], 30)
        db.session.commit()
        rita = db.session.get(User, users["reset_rita"].id)
        password_reset.reset_password(reset_token(rita), "a-whole-new-password")
        account_data.delete_account(db.session.get(User, users["deleting_dan"].id), "correct-horse-battery")
        suspend_user(db.session.get(User, mod.id), db.session.get(User, users["suspended_sue"].id), 3, "Spam")
        db.session.commit()
        assert all(t.revoked_at is not None
                   for u in users.values() for t in api_tokens.tokens_of(db.session.get(User, u.id)))
    for secret in secrets.values():
        assert _api(client, secret) == 401
