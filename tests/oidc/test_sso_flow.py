"""Sign in with the company's account, end to end over HTTP against a real OpenID provider.

The provider (the certified ``oidc-provider`` for Node.js) runs on 127.0.0.1; the forum talks
to it for discovery, the code exchange, its keys and userinfo, and the test's "browser" signs in
there through its login and consent forms (tests/oidcprovider.py).
"""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import pytest
from sqlalchemy import func, select

from forum import create_app
from forum.extensions import db
from forum.models import User, UserIdentity
from forum.models.base import utcnow
from forum.services.sso import NO_PASSWORD
from tests.oidcprovider import ALICE, Browser, csrf_token
from tests.support import Auth


def current_username(client) -> str | None:
    """The username in the page header, or None when signed out."""
    page = client.get("/help/privileges").get_data(as_text=True)
    match = re.search(r'<li class="menu-who">Signed in as <strong>([^<]+)</strong>', page)
    return match.group(1) if match else None


def users() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(User.id))) or 0


def test_first_sign_in_creates_the_member_with_the_providers_verified_email(sso_app, client, oidc_provider) -> None:
    oidc_provider.set_account("maria-7", email="Maria.K@Acme.example", email_verified=True,
                              preferred_username="maria.k", name="Maria K")
    browser = Browser(client)
    authorize = urlsplit(browser.start())
    params = parse_qs(authorize.query)
    # The request Authlib built: code flow with PKCE (S256), a state and a nonce.
    assert params["response_type"] == ["code"] and params["code_challenge_method"] == ["S256"]
    assert params["code_challenge"][0] and params["state"][0] and params["nonce"][0]
    assert params["redirect_uri"] == ["http://localhost/sso/callback"]

    back = browser.callback(browser.at_provider(browser.last_authorize_url, "maria-7"))
    assert back.status_code == 302 and back.headers["Location"].endswith("/sso/continue")
    form = client.get("/sso/continue").get_data(as_text=True)
    assert 'value="maria_k"' in form  # derived from preferred_username, made valid
    assert "maria.k@acme.example" in form and "verified by your company account" in form
    assert users() == 0  # nothing is written before the POST

    done = client.post("/sso/continue", data={"csrf_token": csrf_token(form), "username": "maria_k"})
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert "Welcome, maria_k!" in client.get("/").get_data(as_text=True)
    assert current_username(client) == "maria_k"
    user = db.session.scalar(select(User))
    assert user.email == "maria.k@acme.example" and user.password_hash == NO_PASSWORD
    identity = db.session.scalar(select(UserIdentity))
    assert (identity.user_id, identity.issuer, identity.subject) == (user.id, oidc_provider.issuer, "maria-7")
    assert identity.email_verified is True
    if hasattr(User, "email_verified_at"):  # once the e-mail verification work is merged
        assert user.email_verified_at is not None


def test_second_sign_in_links_by_subject_even_after_the_provider_email_changed(sso_app, app, client, oidc_provider) -> None:
    oidc_provider.set_account("dev-42", email="dev@acme.example", email_verified=True, preferred_username="devon")
    browser = Browser(client)
    assert browser.sign_in("dev-42").status_code == 302
    first = db.session.scalar(select(User))
    Auth(client).logout()
    assert current_username(client) is None

    oidc_provider.set_account("dev-42", email="devon.new@acme.example", email_verified=True, preferred_username="dnew")
    again = Browser(app.test_client())  # another browser: signs in at the provider afresh
    back = again.callback(again.at_provider(again.start(), "dev-42"))
    assert back.headers["Location"].endswith("/sso/continue")
    page = again.client.get("/sso/continue").get_data(as_text=True)
    assert "Signing you in" in page and 'name="username"' not in page  # no new account offered
    done = again.client.post("/sso/continue", data={"csrf_token": csrf_token(page)})
    assert done.status_code == 302
    assert current_username(again.client) == "devon"
    assert users() == 1
    db.session.refresh(first)
    assert first.email == "dev@acme.example"  # the provider's new address takes nothing over


def test_an_existing_local_account_with_that_email_is_not_taken_over(sso_app, app, client, make_user, oidc_provider) -> None:
    owner = make_user("bob", email="bob@acme.example", password="bobs-own-password")
    oidc_provider.set_account("mallory-1", email="bob@acme.example", email_verified=True, preferred_username="bob")
    browser = Browser(client)
    back = browser.callback(browser.at_provider(browser.start(), "mallory-1"))
    assert back.status_code == 302
    page = client.get("/sso/continue")
    html = page.get_data(as_text=True)
    assert "already uses" in html and "never joined by e-mail address alone" in html
    assert 'name="username"' not in html  # no second account with that address either
    assert current_username(client) is None
    assert users() == 1 and db.session.scalar(select(func.count(UserIdentity.id))) == 0

    wrong = client.post("/sso/continue", data={"csrf_token": csrf_token(html), "password": "not-bobs-password"})
    assert wrong.status_code == 400 and "not the password of this account" in wrong.get_data(as_text=True)
    assert current_username(client) is None and db.session.scalar(select(func.count(UserIdentity.id))) == 0

    # Whoever also knows the account's password owns it: now the two are linked.
    right = client.post("/sso/continue", data={"csrf_token": csrf_token(html), "password": "bobs-own-password"})
    assert right.status_code == 302 and current_username(client) == "bob"
    identity = db.session.scalar(select(UserIdentity))
    assert (identity.user_id, identity.subject) == (owner.id, "mallory-1")
    Auth(client).logout()
    other = Browser(app.test_client())
    assert other.sign_in("mallory-1").status_code == 302
    assert current_username(other.client) == "bob" and users() == 1


def test_a_member_links_the_company_account_from_settings(sso_app, app, client, make_user, oidc_provider) -> None:
    owner = make_user("carol", email="carol@example.com")
    oidc_provider.set_account("carol-acme", email="carol.w@acme.example", email_verified=True)
    auth = Auth(client)
    assert auth.login("carol").status_code == 302
    settings = client.get("/settings/linked-accounts").get_data(as_text=True)
    assert "No company account is linked" in settings
    start = client.get("/settings/linked-accounts/link")
    assert start.status_code == 302 and "prompt=login" in start.headers["Location"]
    browser = Browser(client)
    back = browser.callback(browser.at_provider(start.headers["Location"], "carol-acme"))
    assert back.headers["Location"].endswith("/settings/linked-accounts")
    pending = client.get("/settings/linked-accounts").get_data(as_text=True)
    assert "Link this account" in pending and "carol.w@acme.example" in pending
    assert db.session.scalar(select(func.count(UserIdentity.id))) == 0  # not before the POST
    client.post("/settings/linked-accounts/confirm", data={"csrf_token": csrf_token(pending)})
    identity = db.session.scalar(select(UserIdentity))
    assert identity.user_id == owner.id and identity.subject == "carol-acme"

    auth.logout()
    other = Browser(app.test_client())
    assert other.sign_in("carol-acme").status_code == 302
    assert current_username(other.client) == "carol"

    # A member with a password may unlink it (signed in here through it).
    page = other.client.get("/settings/linked-accounts").get_data(as_text=True)
    other.client.post(f"/settings/linked-accounts/{identity.id}/unlink", data={"csrf_token": csrf_token(page)})
    assert db.session.scalar(select(func.count(UserIdentity.id))) == 0
    assert "No company account is linked" in other.client.get("/settings/linked-accounts").get_data(as_text=True)


def test_a_tampered_state_is_refused_with_a_clear_page(sso_app, client, oidc_provider) -> None:
    browser = Browser(client)
    callback = urlsplit(browser.at_provider(browser.start(), ALICE))
    query = parse_qs(callback.query)
    query["state"] = ["forged" + query["state"][0]]
    r = browser.callback(urlunsplit(callback._replace(query=urlencode(query, doseq=True))))
    assert r.status_code == 400
    assert "did not start in this browser" in r.get_data(as_text=True)
    assert current_username(client) is None and users() == 0


def test_a_replayed_callback_is_refused(sso_app, app, client, oidc_provider) -> None:
    browser = Browser(client)
    callback = browser.at_provider(browser.start(), ALICE)
    assert browser.callback(callback).status_code == 302
    again = browser.callback(callback)
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)
    # Nor does the same code work in another browser, which never started a sign-in.
    stolen = Browser(app.test_client()).callback(callback)
    assert stolen.status_code == 400
    assert current_username(app.test_client()) is None


def test_cancelling_at_the_provider_is_a_clear_page(sso_app, client, oidc_provider) -> None:
    browser = Browser(client)
    url = browser.start()
    interaction = urljoin(url, browser.http.get(url, allow_redirects=False, timeout=10).headers["Location"])
    abort = browser.http.get(interaction + "/abort", allow_redirects=False, timeout=10)  # "Cancel" at the provider
    callback = browser.at_provider(urljoin(interaction, abort.headers["Location"]), ALICE)
    page = browser.callback(callback)
    assert page.status_code == 400 and "cancelled" in page.get_data(as_text=True)


def test_a_taken_username_is_not_offered_and_the_person_chooses(sso_app, client, make_user, oidc_provider) -> None:
    make_user("alice")
    browser = Browser(client)
    back = browser.callback(browser.at_provider(browser.start(), ALICE))
    assert back.status_code == 302
    form = client.get("/sso/continue").get_data(as_text=True)
    assert 'value="alice"' not in form and 'value="Alice_Example"' in form
    taken = client.post("/sso/continue", data={"csrf_token": csrf_token(form), "username": "Alice"})
    assert taken.status_code == 400
    assert "That username is taken." in taken.get_data(as_text=True)
    assert 'value="Alice"' in taken.get_data(as_text=True)  # what they typed stays
    ok = client.post("/sso/continue", data={"csrf_token": csrf_token(form), "username": "alice_acme"})
    assert ok.status_code == 302 and current_username(client) == "alice_acme"


def test_without_a_usable_name_or_email_the_person_gives_both(sso_app, client, oidc_provider) -> None:
    oidc_provider.set_account("x-9", preferred_username="李", name="")
    browser = Browser(client)
    browser.callback(browser.at_provider(browser.start(), "x-9"))
    form = client.get("/sso/continue").get_data(as_text=True)
    assert "Choose a username" in form and 'name="email"' in form
    missing = client.post("/sso/continue", data={"csrf_token": csrf_token(form), "username": "li_acme", "email": ""})
    assert missing.status_code == 400 and "Enter an e-mail address." in missing.get_data(as_text=True)
    ok = client.post("/sso/continue", data={"csrf_token": csrf_token(form), "username": "li_acme",
                                            "email": "li@example.com"})
    assert ok.status_code == 302
    user = db.session.scalar(select(User))
    assert user.email == "li@example.com"
    assert db.session.scalar(select(UserIdentity)).email_verified is False  # we only have their word


def test_a_suspended_member_cannot_get_in_through_sso(sso_app, app, client, oidc_provider) -> None:
    oidc_provider.set_account("sus-1", email="sus@acme.example", email_verified=True, preferred_username="sus")
    assert Browser(client).sign_in("sus-1").status_code == 302
    user = db.session.scalar(select(User))
    user.suspended_until, user.suspension_reason = utcnow() + timedelta(days=3), "Spam"
    db.session.commit()
    other = Browser(app.test_client())
    r = other.sign_in("sus-1")
    assert r.status_code == 403 and "suspended" in r.get_data(as_text=True) and "Spam" in r.get_data(as_text=True)
    assert current_username(other.client) is None


def test_sso_only_hides_passwords_for_members_and_keeps_a_staff_break_glass(sso_app, app, client, make_user,
                                                                           oidc_provider) -> None:
    app.config["SSO_ONLY"] = True
    make_user("member_pw", password="correct-horse-battery")
    make_user("agent_pw", role="agent", password="correct-horse-battery")
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in with Acme" in page and 'type="password"' not in page
    assert "/login?password=1" in page  # the staff link
    assert client.get("/register").headers["Location"].startswith("/sso/login")
    auth = Auth(client)
    token = csrf_token(client.get("/login?password=1").get_data(as_text=True))
    refused = client.post("/register", data={"csrf_token": token, "username": "newbie",
                                             "email": "newbie@example.com", "password": "a-long-password"})
    assert refused.status_code == 302 and users() == 2

    member = client.post("/login?password=1", data={"csrf_token": token, "login": "member_pw",
                                                    "password": "correct-horse-battery"})
    assert member.status_code == 400 and "Members sign in with the button above" in member.get_data(as_text=True)
    assert current_username(client) is None

    # The member is not stranded: signing in with the company account that has their e-mail asks
    # for their password once and links the two.
    oidc_provider.set_account("member-sso", email="member_pw@example.com", email_verified=True)
    browser = Browser(client)
    browser.callback(browser.at_provider(browser.start(), "member-sso"))
    claim = client.get("/sso/continue").get_data(as_text=True)
    assert "already uses" in claim and "Settings → Linked accounts" not in claim  # no password sign-in to point to
    linked = client.post("/sso/continue", data={"csrf_token": csrf_token(claim), "password": "correct-horse-battery"})
    assert linked.status_code == 302 and current_username(client) == "member_pw"
    auth.logout()

    staff_page = client.get("/login?password=1").get_data(as_text=True)
    assert 'type="password"' in staff_page
    staff = client.post("/login?password=1", data={"csrf_token": csrf_token(staff_page), "login": "agent_pw",
                                                   "password": "correct-horse-battery"})
    assert staff.status_code == 302 and current_username(client) == "agent_pw"


def test_linked_accounts_unlink_keeps_a_way_to_sign_in(sso_app, app, client, make_user, oidc_provider) -> None:
    oidc_provider.set_account("only-1", email="only@acme.example", email_verified=True, preferred_username="only")
    Browser(client).sign_in("only-1")
    identity = db.session.scalar(select(UserIdentity))
    page = client.get("/settings/linked-accounts").get_data(as_text=True)
    assert "only@acme.example" in page and "Your only way to sign in" in page
    r = client.post(f"/settings/linked-accounts/{identity.id}/unlink", data={"csrf_token": csrf_token(page)})
    assert r.status_code == 302
    assert "cannot be unlinked" in client.get("/settings/linked-accounts").get_data(as_text=True)
    assert db.session.scalar(select(func.count(UserIdentity.id))) == 1


def test_settings_and_login_show_no_sso_when_it_is_not_configured(app, client, make_user) -> None:
    make_user("plain")
    assert "Sign in with" not in client.get("/login").get_data(as_text=True)
    assert client.get("/sso/login").status_code == 404
    Auth(client).login("plain")
    assert "Linked accounts" not in client.get("/settings/profile").get_data(as_text=True)


def test_sso_only_without_a_provider_stops_the_start() -> None:
    with pytest.raises(RuntimeError, match="FORUM_SSO_ONLY"):
        create_app("testing", {"SSO_ONLY": True})


def test_a_wrong_client_secret_fails_the_code_exchange_with_a_clear_page(sso_app, app, client, oidc_provider) -> None:
    app.config["OIDC_CLIENT_SECRET"] = "not-the-secret-the-provider-knows"
    browser = Browser(client)
    r = browser.callback(browser.at_provider(browser.start(), ALICE))
    assert r.status_code == 400 and "invalid_client" in r.get_data(as_text=True)
    assert current_username(client) is None and users() == 0


def test_an_unreachable_or_mismatched_provider_is_a_502_page(sso_app, app, client, oidc_provider) -> None:
    app.config["OIDC_ISSUER"] = oidc_provider.issuer + "/"  # discovery names it without the slash
    r = client.get("/sso/login")
    assert r.status_code == 502 and "misconfigured" in r.get_data(as_text=True)
    app.config["OIDC_ISSUER"] = "http://127.0.0.1:9"  # nothing listens on the discard port
    r = client.get("/sso/login")
    assert r.status_code == 502 and "could not be reached" in r.get_data(as_text=True)
