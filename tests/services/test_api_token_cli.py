"""flask api-token create: a token for scripts, with the settings page's checks, its secret printed once."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from forum.extensions import db
from forum.models import ApiToken
from forum.services import api_tokens


def test_create_prints_a_secret_that_signs_api_calls(app: Flask, runner: FlaskCliRunner,
                                                     make_user: Callable[..., Any]) -> None:
    make_user("maria")
    result = runner.invoke(args=["api-token", "create", "--user", "maria", "--name", "nightly export",
                                 "--scopes", "read,write", "--days", "7"])
    assert result.exit_code == 0, result.output
    secret = result.output.split("Secret, shown once: ")[1].split()[0]
    assert secret.startswith(api_tokens.SECRET_PREFIX) and "read, write" in result.output
    token = db.session.scalars(select(ApiToken)).one()
    assert token.name == "nightly export" and token.scopes == "read write" and token.token_hash != secret
    assert (token.expires_at - token.created_at).days == 7
    r = app.test_client().get("/api/v1/questions", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200 and r.headers["Cache-Control"].startswith("private")


def test_secret_only_prints_just_the_secret(runner: FlaskCliRunner, make_user: Callable[..., Any]) -> None:
    make_user("ana", role="agent")
    result = runner.invoke(args=["api-token", "create", "--user", "ana", "--name", "triage bot",
                                 "--scopes", "read,write,staff", "--days", "0", "--secret-only"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().startswith(api_tokens.SECRET_PREFIX) and "\n" not in result.output.strip()
    token = db.session.scalars(select(ApiToken)).one()
    assert token.scopes == "read write staff" and token.expires_at is None


def test_the_settings_pages_checks_apply(runner: FlaskCliRunner, make_user: Callable[..., Any]) -> None:
    make_user("maria")
    refused = runner.invoke(args=["api-token", "create", "--user", "maria", "--name", "x", "--scopes", "read,staff"])
    assert refused.exit_code != 0 and "Only staff" in refused.output
    too_long = runner.invoke(args=["api-token", "create", "--user", "maria", "--name", "x", "--days", "9999"])
    assert too_long.exit_code != 0 and "expires_in_days" in too_long.output
    nobody = runner.invoke(args=["api-token", "create", "--user", "nobody", "--name", "x"])
    assert nobody.exit_code != 0
    unknown = runner.invoke(args=["api-token", "create", "--user", "maria", "--name", "x", "--scopes", "admin"])
    assert unknown.exit_code != 0 and "Unknown scope" in unknown.output
    assert db.session.scalars(select(ApiToken)).all() == []
