"""Guesses at one account from many addresses cannot lock its owner out of a browser they
signed in from before (the device cookie of forum/services/throttle.py), while every other
browser, the attacker's included, meets the account's limit."""
from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forum.services.throttle import DEVICE_COOKIE

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def tight(app: Flask) -> None:
    app.config.update(LOGIN_THROTTLE_PER_ACCOUNT="3 per 5 minutes", LOGIN_THROTTLE_PER_IP="100 per 15 minutes")


def login(client: FlaskClient, name: str, password: str, ip: str) -> int:
    html = client.get("/login", environ_base={"REMOTE_ADDR": ip}).get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    return client.post("/login", data={"login": name, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": ip}).status_code


def logout(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def guess_from_many_addresses(app: Flask, name: str, times: int = 3) -> None:
    for n in range(times):
        assert login(app.test_client(), name, "guess-guess-guess", f"203.0.113.{n}") == 400


def test_the_owners_own_browser_gets_in_while_the_account_is_under_attack(app, make_user) -> None:
    make_user("victim")
    home = app.test_client()
    assert login(home, "victim", PASSWORD, "192.0.2.10") == 302
    assert home.get_cookie(DEVICE_COOKIE) is not None
    logout(home)

    guess_from_many_addresses(app, "victim")

    assert login(app.test_client(), "victim", PASSWORD, "192.0.2.99") == 429  # a browser never used: locked
    assert login(home, "victim", PASSWORD, "192.0.2.10") == 302  # the customer's own: not


def test_guesses_from_the_trusted_browser_itself_are_still_limited(app, make_user) -> None:
    make_user("victim")
    laptop = app.test_client()
    assert login(laptop, "victim", PASSWORD, "192.0.2.10") == 302
    logout(laptop)
    for _ in range(3):
        assert login(laptop, "victim", "guess-guess-guess", "192.0.2.10") == 400
    assert login(laptop, "victim", PASSWORD, "192.0.2.10") == 429


def test_a_browser_trusted_for_another_account_gets_no_pass(app, make_user) -> None:
    """The attacker signs in to an account of their own first: that cookie is for that account only."""
    make_user("victim")
    make_user("mallory")
    attacker = app.test_client()
    assert login(attacker, "mallory", PASSWORD, "198.51.100.5") == 302
    logout(attacker)
    guess_from_many_addresses(app, "victim")
    assert login(attacker, "victim", PASSWORD, "198.51.100.5") == 429


def test_a_forged_device_cookie_is_ignored(app, make_user) -> None:
    victim = make_user("victim")
    forger = app.test_client()
    forger.set_cookie(DEVICE_COOKIE, f'{{"u": {victim.id}, "d": "made-up"}}')
    guess_from_many_addresses(app, "victim")
    assert login(forger, "victim", PASSWORD, "198.51.100.6") == 429


def test_racing_guesses_get_no_more_wrong_password_answers_than_the_limit(app, make_user, monkeypatch) -> None:
    """Twenty guesses checked at the same moment (each password check slowed down so that all
    pass the first look at the window) get exactly the limit's worth of "wrong password"
    answers; the rest are throttled. Before, all twenty were answered."""
    import time

    from forum.services import accounts, throttle
    from tests.support import run_together

    app.config.update(LOGIN_THROTTLE_PER_ACCOUNT="100 per 5 minutes", LOGIN_THROTTLE_PER_IP="10 per 15 minutes")
    make_user("victim")
    real = accounts.check_password

    def slow(user, password):
        time.sleep(0.3)
        return real(user, password)

    monkeypatch.setattr(accounts, "check_password", slow)

    def guess(i: int) -> str:
        with app.app_context():
            try:
                return "wrong" if throttle.sign_in("victim", f"guess-{i}-guess", "203.0.113.5") is None else "in"
            except throttle.LoginThrottled:
                return "throttled"

    outcomes = run_together(20, guess)

    assert (outcomes.count("wrong"), outcomes.count("throttled")) == (10, 10)
