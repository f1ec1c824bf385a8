"""Fixtures of the single sign-on tests: a real OpenID provider on 127.0.0.1 (tests/oidcprovider.py)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.oidcprovider import CLIENT_ID, CLIENT_SECRET, SITE, Provider, running_provider


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    with running_provider(tmp_path_factory.mktemp("oidc")) as provider:
        yield provider


@pytest.fixture
def sso_app(app: Flask, oidc_provider: Provider) -> Flask:
    """The app signing in through the test provider."""
    app.config.update(OIDC_ISSUER=oidc_provider.issuer, OIDC_CLIENT_ID=CLIENT_ID, OIDC_CLIENT_SECRET=CLIENT_SECRET,
                      OIDC_LABEL="Sign in with Acme", SITE_URL=SITE)
    return app
