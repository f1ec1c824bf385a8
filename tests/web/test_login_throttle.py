"""The sign-in throttle (forum/services/throttle.py) on in-process storage, and ProxyFix.

Across hosts (the counts in Redis) it is shown by tests/multihost/test_two_hosts.py.
"""
from __future__ import annotations

import logging
import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forum import web
from tools.serving import free_port

PASSWORD = "correct-horse-battery"


def _token(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match
    return match.group(1)


def login(client: FlaskClient, login: str, password: str, ip: str = "198.51.100.7",
          headers: dict[str, str] | None = None) -> object:
    """POST the real sign-in form from ``ip`` (the socket's address as the server sees it)."""
    return client.post("/login", data={"login": login, "password": password, "csrf_token": _token(client)},
                       environ_base={"REMOTE_ADDR": ip}, headers=headers or {})


def signed_in(client: FlaskClient) -> bool:
    return 'action="/logout"' in client.get("/").get_data(as_text=True)


@pytest.fixture
def limits(app: Flask):
    """Set the throttle's limits for this test (the throttle is built at its first use)."""
    def set_limits(per_account: str = "100 per 5 minutes", per_ip: str = "100 per 15 minutes") -> None:
        app.config.update(LOGIN_THROTTLE_PER_ACCOUNT=per_account, LOGIN_THROTTLE_PER_IP=per_ip)
    return set_limits


def test_ip_that_used_up_its_failures_is_refused_even_with_a_correct_password(client, make_user, limits) -> None:
    limits(per_ip="3 per 15 minutes")
    make_user("mallory")
    for name in ("alice", "bob", "carol"):  # guesses at three accounts, none of them existing
        assert login(client, name, "guess-guess-guess").status_code == 400

    response = login(client, "mallory", PASSWORD)

    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 15 * 60
    page = response.get_data(as_text=True)
    assert "Too many failed sign-ins" in page
    assert 'value="mallory"' in page  # the form again, keeping the typed name
    assert 'class="site-header"' in page  # in the site layout
    assert not signed_in(client)


def test_a_successful_sign_in_does_not_reset_the_count(client, make_user, limits) -> None:
    """An attacker can't clear their IP's failures by signing in to an account of their own."""
    limits(per_ip="3 per 15 minutes")
    make_user("mallory")
    make_user("victim")
    assert login(client, "victim", "guess-one-one").status_code == 400
    assert login(client, "victim", "guess-two-two").status_code == 400
    assert login(client, "mallory", PASSWORD).status_code == 302
    client.post("/logout", data={"csrf_token": _token(client, "/")})
    assert login(client, "victim", "guess-three-three").status_code == 400

    assert login(client, "victim", "guess-four-four").status_code == 429


def test_account_guessed_from_many_ips_is_locked_for_a_while(client, make_user, limits) -> None:
    limits(per_account="3 per 5 minutes")
    make_user("victim")
    make_user("bystander")
    for n in range(3):
        assert login(client, "victim", "guess-guess-guess", ip=f"203.0.113.{n}").status_code == 400

    refused = login(client, "victim", PASSWORD, ip="192.0.2.50")  # the owner, from home
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) <= 5 * 60
    # The IPs that guessed are not locked out of other accounts by the account's limit.
    assert login(client, "bystander", PASSWORD, ip="203.0.113.0").status_code == 302


def test_the_owner_gets_in_once_the_window_has_passed(client, make_user, limits) -> None:
    """An attacker cannot lock a customer out for longer than the per-account window."""
    limits(per_account="2 per 1 second")
    make_user("victim")
    login(client, "victim", "guess-guess-guess", ip="203.0.113.1")
    login(client, "victim", "guess-guess-guess", ip="203.0.113.2")
    refused = login(client, "victim", PASSWORD, ip="192.0.2.50")
    assert refused.status_code == 429

    time.sleep(int(refused.headers["Retry-After"]) + 0.1)

    assert login(client, "victim", PASSWORD, ip="192.0.2.50").status_code == 302


def test_unknown_and_real_accounts_are_throttled_alike(client, make_user, limits) -> None:
    limits(per_account="2 per 5 minutes")
    make_user("realname")
    statuses = {}
    for name in ("realname", "nosuchname"):
        for n in range(2):
            login(client, name, "guess-guess-guess", ip=f"203.0.113.{n}")
        statuses[name] = login(client, name, "guess-guess-guess", ip="203.0.113.9").status_code
    assert statuses == {"realname": 429, "nosuchname": 429}


def test_username_and_email_count_against_one_account(client, make_user, limits) -> None:
    limits(per_account="2 per 5 minutes")
    make_user("victim", email="victim@example.com")
    login(client, "victim", "guess-guess-guess", ip="203.0.113.1")
    login(client, "VICTIM@example.com", "guess-guess-guess", ip="203.0.113.2")
    assert login(client, "Victim", PASSWORD, ip="203.0.113.3").status_code == 429


def test_throttle_can_be_turned_off(app, client, make_user, limits) -> None:
    limits(per_ip="1 per 15 minutes")
    app.config["LOGIN_THROTTLE_ENABLED"] = False
    make_user("mallory")
    login(client, "mallory", "guess-guess-guess")
    assert login(client, "mallory", PASSWORD).status_code == 302


def test_unreachable_redis_lets_sign_ins_through(app, client, make_user, limits, caplog) -> None:
    """An outage of the shared store must not lock every customer out; it is logged."""
    limits(per_ip="1 per 15 minutes")
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    make_user("alice")
    with caplog.at_level(logging.WARNING, logger="forum.services.throttle"):
        assert login(client, "alice", "guess-guess-guess").status_code == 400
        assert login(client, "alice", PASSWORD).status_code == 302
    assert "throttle store unreachable" in caplog.text


# ---------------------------------------------------------------- behind a reverse proxy


def test_without_proxy_fix_a_forged_forwarded_for_does_not_escape_the_ip_limit(client, make_user, limits) -> None:
    limits(per_ip="2 per 15 minutes")
    make_user("mallory")
    for n in range(2):
        login(client, "someone", "guess-guess-guess", headers={"X-Forwarded-For": f"203.0.113.{n}"})

    response = login(client, "mallory", PASSWORD, headers={"X-Forwarded-For": "203.0.113.99"})

    assert response.status_code == 429


def test_behind_a_proxy_each_visitor_is_counted_by_their_own_address(app, client, make_user, limits) -> None:
    """With PROXY_FIX_X_FOR=1 the address nginx puts in X-Forwarded-For is the client IP:
    every visitor arrives from the proxy's address, yet one visitor's failures lock only them."""
    app.config["PROXY_FIX_X_FOR"] = 1
    web.install_proxy_fix(app)  # what create_app does with FORUM_PROXY_FIX_X_FOR=1
    limits(per_ip="2 per 15 minutes")
    make_user("alice")
    proxy = "10.0.0.2"
    for _ in range(2):
        login(client, "someone", "guess-guess-guess", ip=proxy, headers={"X-Forwarded-For": "203.0.113.66"})

    attacker = login(client, "alice", PASSWORD, ip=proxy, headers={"X-Forwarded-For": "203.0.113.66"})
    customer = login(client, "alice", PASSWORD, ip=proxy, headers={"X-Forwarded-For": "192.0.2.10"})

    assert attacker.status_code == 429
    assert customer.status_code == 302


def test_proxy_fix_is_set_from_the_environment(monkeypatch, tmp_path) -> None:
    from forum import create_app

    monkeypatch.setenv("FORUM_PROXY_FIX_X_FOR", "1")
    monkeypatch.setenv("FORUM_PROXY_FIX_X_PROTO", "1")
    proxied = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})

    @proxied.route("/_whoami")
    def whoami() -> str:
        from flask import request
        return f"{request.remote_addr} {request.scheme}"

    seen = proxied.test_client().get("/_whoami", headers={"X-Forwarded-For": "203.0.113.5",
                                                          "X-Forwarded-Proto": "https"})
    assert seen.get_data(as_text=True) == "203.0.113.5 https"

    monkeypatch.delenv("FORUM_PROXY_FIX_X_FOR")
    monkeypatch.delenv("FORUM_PROXY_FIX_X_PROTO")
    direct = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})
    direct.add_url_rule("/_whoami", view_func=whoami)
    seen = direct.test_client().get("/_whoami", headers={"X-Forwarded-For": "203.0.113.5",
                                                         "X-Forwarded-Proto": "https"},
                                    environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert seen.get_data(as_text=True) == "10.0.0.2 http"


def test_a_mistyped_limit_stops_the_app_at_start(monkeypatch, tmp_path) -> None:
    from forum import create_app

    monkeypatch.setenv("FORUM_LOGIN_THROTTLE_PER_IP", "ten a minute")
    with pytest.raises(ValueError, match="LOGIN_THROTTLE_PER_IP"):
        create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})
