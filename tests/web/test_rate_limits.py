"""Rate limits per route (forum/ratelimit.py) over HTTP, on in-process storage.

The same limits on Redis, shared by 4 gunicorn workers, are in tests/web/test_limits_workers.py.
"""
from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forum.extensions import db
from forum.ratelimit import limited

PASSWORD = "correct-horse-battery"
HOME = "198.51.100.7"


@pytest.fixture
def limits(app: Flask):
    """Turn rate limits on (TestingConfig turns them off) with the given settings."""
    def set_limits(**settings: str) -> None:
        app.config.update(RATE_LIMITS_ENABLED=True, LOGIN_THROTTLE_ENABLED=False,
                          **{f"RATE_LIMIT_{k.upper()}": v for k, v in settings.items()})
    return set_limits


def _token(client: FlaskClient, path: str = "/login", ip: str = HOME) -> str:
    html = client.get(path, environ_base={"REMOTE_ADDR": ip}).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match
    return match.group(1)


def _post(client: FlaskClient, path: str, data: dict[str, str], ip: str = HOME, **kwargs: object):
    return client.post(path, data={**data, "csrf_token": _token(client, "/", ip=ip)},
                       environ_base={"REMOTE_ADDR": ip}, **kwargs)


def _sign_in(client: FlaskClient, name: str, ip: str = HOME) -> None:
    assert _post(client, "/login", {"login": name, "password": PASSWORD}, ip=ip).status_code == 302


def _retry_after(response) -> int:
    value = int(response.headers["Retry-After"])
    assert value >= 1
    return value


# ---------------------------------------------------------------- forms keep what was typed


def test_sign_in_attempts_over_the_ip_limit_get_the_form_back_with_the_name_kept(client, make_user, limits) -> None:
    limits(login_per_ip="3 per minute")
    make_user("alice")
    for _ in range(3):
        assert _post(client, "/login", {"login": "alice", "password": "wrong-wrong-wrong"}).status_code == 400

    refused = _post(client, "/login", {"login": "alice", "password": PASSWORD})

    assert refused.status_code == 429
    assert _retry_after(refused) <= 60
    page = refused.get_data(as_text=True)
    assert "Too many sign-in attempts from your network. Try again in" in page
    assert 'value="alice"' in page and PASSWORD not in page  # the name kept, the password not echoed
    assert 'class="site-header"' in page  # in the site layout
    # Another address is not affected.
    other = client.application.test_client()
    assert _post(other, "/login", {"login": "alice", "password": PASSWORD}, ip="192.0.2.50").status_code == 302


def test_registrations_over_the_ip_limit_keep_name_and_address(client, limits) -> None:
    limits(register_per_ip="2 per hour")
    for n in range(2):
        fresh = client.application.test_client()
        assert _post(fresh, "/register", {"username": f"newbie{n}", "email": f"newbie{n}@example.com",
                                          "password": PASSWORD}).status_code == 302

    refused = _post(client, "/register", {"username": "third_one", "email": "third@example.com", "password": PASSWORD})

    assert refused.status_code == 429
    assert 30 * 60 < _retry_after(refused) <= 3600
    page = refused.get_data(as_text=True)
    assert 'value="third_one"' in page and 'value="third@example.com"' in page
    assert "Too many new accounts from your network. Try again in 60 minutes." in page
    assert PASSWORD not in page
    # Looking at the form is not counted: only submitting it.
    assert client.get("/register", environ_base={"REMOTE_ADDR": HOME}).status_code == 200


# ---------------------------------------------------------------- search: a page that keeps the query


def test_searching_too_fast_shows_the_search_page_with_the_query_and_the_wait(client, limits) -> None:
    limits(search_per_ip="2 per minute")
    for _ in range(2):
        assert client.get("/search?q=hub+offline", environ_base={"REMOTE_ADDR": HOME}).status_code == 200

    refused = client.get("/search?q=hub+blinks+orange", environ_base={"REMOTE_ADDR": HOME})

    assert refused.status_code == 429
    assert _retry_after(refused) <= 60
    page = refused.get_data(as_text=True)
    assert 'name="q" value="hub blinks orange"' in page
    assert "You're searching faster than we can answer. Try again in" in page.replace("&#39;", "'")
    assert 'class="site-header"' in page
    assert client.get("/search?q=hub", environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 200


def test_a_member_is_limited_per_account_whatever_the_address(client, make_user, limits) -> None:
    limits(search_per_ip="100 per minute", search_per_account="2 per minute")
    make_user("maria")
    _sign_in(client, "maria")
    for n in range(2):
        assert client.get("/search?q=hub", environ_base={"REMOTE_ADDR": f"203.0.113.{n}"}).status_code == 200
    assert client.get("/search?q=hub", environ_base={"REMOTE_ADDR": "203.0.113.99"}).status_code == 429


def test_staff_searching_all_day_are_not_limited(client, make_user, limits) -> None:
    limits(search_per_ip="2 per minute", search_per_account="2 per minute")
    make_user("agent_sam", role="agent")
    _sign_in(client, "agent_sam")
    statuses = {client.get(f"/search?q=hub+{n}", environ_base={"REMOTE_ADDR": HOME}).status_code for n in range(6)}
    assert statuses == {200}


# ---------------------------------------------------------------- JSON helpers of the composer


def test_similar_questions_while_typing_answer_json_429(client, limits) -> None:
    limits(similar_per_ip="3 per minute")
    for _ in range(3):
        assert client.get("/search/similar?title=hub+keeps+blinking", environ_base={"REMOTE_ADDR": HOME}).status_code == 200

    refused = client.get("/search/similar?title=hub+keeps+blinking+orange", environ_base={"REMOTE_ADDR": HOME})

    assert refused.status_code == 429
    assert refused.is_json and refused.get_json()["error"]["status"] == 429
    assert "Try again in" in refused.get_json()["error"]["message"]
    assert _retry_after(refused) <= 60


def test_preview_is_limited_per_account_and_answers_json(client, make_user, limits) -> None:
    limits(preview_per_ip="", preview_per_account="2 per minute")
    make_user("maria")
    _sign_in(client, "maria")
    token = _token(client, "/")
    for n in range(2):
        ok = client.post("/preview", data={"body": "**bold**", "csrf_token": token},
                         environ_base={"REMOTE_ADDR": f"203.0.113.{n}"})
        assert ok.status_code == 200 and "<strong>" in ok.get_json()["html"]

    refused = client.post("/preview", data={"body": "**bold**", "csrf_token": token},
                          environ_base={"REMOTE_ADDR": "203.0.113.50"})

    assert refused.status_code == 429 and refused.is_json
    assert "preview is updating too often" in refused.get_json()["error"]["message"]
    _retry_after(refused)


# ---------------------------------------------------------------- settings


def test_limits_can_be_turned_off(app, client, limits) -> None:
    limits(search_per_ip="1 per minute")
    app.config["RATE_LIMITS_ENABLED"] = False
    assert {client.get("/search?q=hub").status_code for _ in range(4)} == {200}


def test_an_empty_setting_turns_that_limit_off(client, limits) -> None:
    limits(search_per_ip="")
    assert {client.get("/search?q=hub").status_code for _ in range(4)} == {200}


def test_a_mistyped_limit_stops_the_app_at_start(monkeypatch, tmp_path) -> None:
    from forum import create_app

    monkeypatch.setenv("FORUM_RATE_LIMIT_SEARCH_PER_IP", "sixty a minute")
    with pytest.raises(ValueError, match="RATE_LIMIT_SEARCH_PER_IP"):
        create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})


def test_an_unknown_limit_name_is_refused_at_import() -> None:
    with pytest.raises(ValueError, match="unknown rate limit"):
        limited("serach")


# ---------------------------------------------------------------- the posting limit's 429 says when, too


@pytest.fixture
def member(app, client, make_user):
    """A signed-in member (not a new one) allowed one post of each kind per 10 minutes."""
    app.config.update(POST_RATE_LIMITS_ENABLED=True, POST_RATE_MEMBER_QUESTIONS=1, POST_RATE_MEMBER_ANSWERS=1,
                      POST_RATE_MEMBER_COMMENTS=1)
    author = make_user("maria")
    author.reputation = 50
    db.session.commit()
    _sign_in(client, "maria")
    return author


def test_asking_too_fast_gives_the_question_back_with_the_wait(client, member) -> None:
    question = {"title": "Hub blinks orange after the update", "body": "It blinks orange and the app cannot find it.",
                "tags": "setup"}
    assert _post(client, "/questions/ask", question).status_code == 302

    refused = _post(client, "/questions/ask", {"title": "Doorbell chime plays twice for one press",
                                               "body": "Both chimes ring, one second apart, since Monday.",
                                               "tags": "doorbell"})

    assert refused.status_code == 429
    assert 9 * 60 < _retry_after(refused) <= 10 * 60  # POST_RATE_WINDOW_MINUTES
    page = refused.get_data(as_text=True).replace("&#39;", "'")
    assert "You're posting too fast" in page and "Try again in 10 minutes." in page
    assert 'value="Doorbell chime plays twice for one press"' in page
    assert "Both chimes ring, one second apart, since Monday." in page
    assert 'value="doorbell"' in page


def test_answering_and_commenting_too_fast_give_the_text_back(client, member, make_question) -> None:
    from forum.services.questions import slugify

    q = make_question()
    assert _post(client, f"/questions/{q.id}/answers", {"body": "Hold the reset button for ten seconds."}).status_code == 302
    refused = _post(client, f"/questions/{q.id}/answers", {"body": "Or unplug it for a full minute, then retry."})
    assert refused.status_code == 429 and _retry_after(refused) > 60
    page = refused.get_data(as_text=True)
    assert "Or unplug it for a full minute, then retry." in page and "posting too fast" in page

    assert _post(client, f"/questions/{q.id}/comments", {"body": "Which firmware version is it on?"}).status_code == 302
    refused = _post(client, f"/questions/{q.id}/comments", {"body": "And which app version, please?"})
    assert refused.status_code == 429 and _retry_after(refused) > 60
    assert "And which app version, please?" in refused.get_data(as_text=True)
    assert client.get(f"/questions/{q.id}/{slugify(q.title)}").status_code == 200  # nothing half-stored


def test_an_unreachable_redis_lets_requests_through(tmp_path, caplog) -> None:
    """An outage of the shared store must not take search or sign-in down; it is logged."""
    import logging

    from forum import create_app
    from tools.serving import free_port

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'r.db'}",
                                 "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
                                 "RATE_LIMITS_ENABLED": True, "RATE_LIMIT_SEARCH_PER_IP": "1 per minute"})
    with caplog.at_level(logging.ERROR, logger="flask-limiter"):
        statuses = [app.test_client().get("/search").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert "Failed to rate limit" in caplog.text
