"""`flask webhooks add` (scripts and the docs' curl session) and tools/webhook_receiver.py."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from forum.extensions import db
from forum.models import WebhookEndpoint
from forum.services import site_settings, webhooks
from tools.serving import free_port

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = [ipaddress.ip_address("93.184.215.14")]  # what hooks.example.com resolves to here (no DNS in tests)


@pytest.fixture(autouse=True)
def _public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    real = webhooks._resolve
    monkeypatch.setattr(webhooks, "_resolve", lambda host, port: PUBLIC if host.endswith("example.com") else real(host, port))


def _endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint)))


def test_an_admin_registers_an_endpoint_and_gets_its_secret_once(app: Flask, runner: FlaskCliRunner,
                                                                 make_user: Callable[..., Any]) -> None:
    make_user("chris", role="admin")
    result = runner.invoke(args=["webhooks", "add", "--admin", "chris", "--url", "https://hooks.example.com/forum",
                                 "--events", "question.created,case.opened", "--secret-only"])
    assert result.exit_code == 0, result.output
    [endpoint] = _endpoints()
    assert result.output.strip() == endpoint.secret and endpoint.secret.startswith("whsec_")
    assert endpoint.events.split() == ["question.created", "case.opened"] and endpoint.active


def test_the_command_refuses_what_the_admin_page_refuses(app: Flask, runner: FlaskCliRunner,
                                                         make_user: Callable[..., Any]) -> None:
    make_user("chris", role="admin")
    make_user("maria")
    private = runner.invoke(args=["webhooks", "add", "--admin", "chris", "--url", "http://127.0.0.1:9000/hook",
                                  "--events", "question.created"])
    assert private.exit_code != 0 and "private" in private.output
    unknown = runner.invoke(args=["webhooks", "add", "--admin", "chris", "--url", "https://hooks.example.com/",
                                  "--events", "question.created,question.exploded"])
    assert unknown.exit_code != 0 and "question.exploded" in unknown.output
    member = runner.invoke(args=["webhooks", "add", "--admin", "maria", "--url", "https://hooks.example.com/",
                                 "--events", "question.created"])
    assert member.exit_code != 0
    assert _endpoints() == []
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    try:
        allowed = runner.invoke(args=["webhooks", "add", "--admin", "chris", "--url", "http://127.0.0.1:9000/hook",
                                      "--events", "question.created"])
    finally:
        app.config["WEBHOOKS_ALLOW_PRIVATE"] = site_settings.default_of("WEBHOOKS_ALLOW_PRIVATE")
    assert allowed.exit_code == 0 and "secret (shown once): whsec_" in allowed.output
    assert len(_endpoints()) == 1


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_receiver_tool_accepts_a_signed_delivery_and_refuses_a_forged_one() -> None:
    secret, port = "whsec_test-secret", free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "tools" / "webhook_receiver.py"), "--port", str(port),
                             "--count", "1"], env={"WEBHOOK_SECRET": secret, "PATH": "/usr/bin:/bin"},
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().startswith("listening on")
        body = b'{"event":"question.created","data":{"question":{"id":7}}}'
        stamp = str(int(time.time()))
        good = "sha256=" + hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        url = f"http://127.0.0.1:{port}/hook"
        base = {"Content-Type": "application/json", "X-Forum-Event": "question.created"}
        assert _post(url, body, {**base, "X-Forum-Timestamp": stamp, "X-Forum-Signature": "sha256=" + "0" * 64}) == 401
        old = str(int(time.time()) - 3600)
        stale = "sha256=" + hmac.new(secret.encode(), f"{old}.".encode() + body, hashlib.sha256).hexdigest()
        assert _post(url, body, {**base, "X-Forum-Timestamp": old, "X-Forum-Signature": stale}) == 401
        assert _post(url, body, {**base, "X-Forum-Timestamp": stamp, "X-Forum-Signature": good}) == 204
        out, _ = proc.communicate(timeout=10)  # --count 1: it exits after the good one
    finally:
        proc.kill()
    lines = out.splitlines()
    assert [line.split(": {")[0] for line in lines] == ["question.created: BAD SIGNATURE"] * 2 + [
        "question.created: signature ok"]
    assert '"id": 7' in lines[2]
