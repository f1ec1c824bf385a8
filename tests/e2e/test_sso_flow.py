"""Single sign-on in Chromium: the button, the real provider's login and consent pages, the
"Create your account" form, on the next sign-in the "Continue" page that submits itself, and
linking from settings (which a form would not do: CSP's form-action stops its redirect)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from forum.extensions import db
from forum.services import accounts
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import PASSWORD, unique_username
from tests.oidcprovider import CLIENT_ID, CLIENT_SECRET, running_provider


def sign_in_at_provider(page: Any, login: str) -> None:
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any password")
    page.click("button[type=submit]")
    if page.locator("input[name=prompt][value=consent]").count():
        page.click("button[type=submit]")


def test_sign_in_with_the_company_account_in_a_browser(live: LiveServer, new_page: Callable[..., Any],
                                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with running_provider(tmp_path, (f"{live.url}/sso/callback",)) as provider:
        for key, value in {"OIDC_ISSUER": provider.issuer, "OIDC_CLIENT_ID": CLIENT_ID,
                           "OIDC_CLIENT_SECRET": CLIENT_SECRET, "OIDC_LABEL": "Sign in with Acme",
                           "SITE_URL": live.url}.items():
            monkeypatch.setitem(live.app.config, key, value)
        provider.set_account("e2e-ines", email="ines@acme.example", email_verified=True, preferred_username="ines.r")

        page = new_page(width=360, height=800)
        page.goto("/login")
        page.click("text=Sign in with Acme")
        sign_in_at_provider(page, "e2e-ines")
        page.wait_for_url("**/sso/continue")
        assert page.input_value("input[name=username]") == "ines_r"
        assert "ines@acme.example" in page.inner_text("main")
        page.click("text=Create my account")
        page.wait_for_url(f"{live.url}/")
        assert page.text_content(".menu-who strong") == "ines_r"  # the account menu names the member
        page.click("details.account-menu > summary")
        page.click("text=Log out")

        # Next time: the provider still knows this browser, and /sso/continue submits itself.
        page.goto("/login")
        page.click("text=Sign in with Acme")
        page.wait_for_url(f"{live.url}/")
        assert page.text_content(".menu-who strong") == "ines_r"


def test_link_the_company_account_from_settings_in_a_browser(live: LiveServer, new_page: Callable[..., Any],
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    username = unique_username("linker")
    with live.app.app_context():
        accounts.register(accounts.Registration(username, f"{username}@example.com", PASSWORD))
        db.session.commit()
        db.session.remove()
    with running_provider(tmp_path, (f"{live.url}/sso/callback",)) as provider:
        for key, value in {"OIDC_ISSUER": provider.issuer, "OIDC_CLIENT_ID": CLIENT_ID,
                           "OIDC_CLIENT_SECRET": CLIENT_SECRET, "SITE_URL": live.url}.items():
            monkeypatch.setitem(live.app.config, key, value)
        provider.set_account("e2e-linker", email="linker@acme.example", email_verified=True)
        page = new_page()
        page.goto("/login?password=1")
        page.fill("input[name=login]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.goto("/settings/linked-accounts")
        page.click("text=Link your company account")
        sign_in_at_provider(page, "e2e-linker")
        page.wait_for_url("**/settings/linked-accounts")
        page.click("text=Link this account")
        page.wait_for_url("**/settings/linked-accounts")
        assert "linker@acme.example" in page.inner_text("table.linked-accounts")
