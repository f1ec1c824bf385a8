"""The page cache's WSGI fast path (forum/pagecache/hits.py): the same bytes and headers as the
hook's hits, only for cookie-less anonymous GETs of pages without a rate limit, views counted."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forum import pagecache, viewcounts, web
from forum.extensions import db
from forum.models import Question
from forum.services import announcements, questions
from tests.support import Auth, page_cache_on

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"


@pytest.fixture(params=["memory", "redis"])
def cached(request: pytest.FixtureRequest, app: Flask) -> Iterator[Flask]:
    with page_cache_on(app, request.param, "test:pagecache") as on:
        yield on


@pytest.fixture
def hook_hits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the before_request hook answered from the cache (not the fast path)."""
    answered: list[str] = []
    original = pagecache._serve_or_mark

    def spy() -> Any:
        response = original()
        if response is not None:
            from flask import request
            answered.append(request.path)
        return response

    monkeypatch.setattr(pagecache, "_serve_or_mark", spy)
    return answered


@pytest.fixture
def path(cached: Flask, asked_and_answered: tuple[Any, Any]) -> str:
    q, _ = asked_and_answered
    return f"/questions/{q.id}/{questions.slugify(q.title)}"


def _anonymous_with_a_session(app: Flask) -> FlaskClient:
    """An anonymous visitor whose browser holds a session cookie (as after opening a form)."""
    client = app.test_client()
    with client.session_transaction() as s:
        s["seen"] = 1
    return client


def test_a_cookieless_hit_skips_flask_and_equals_the_hooks_hit(app: Flask, path: str, hook_hits: list[str]) -> None:
    visitor = app.test_client()
    first = visitor.get(path)
    assert first.status_code == 200 and first.headers["X-Cache"] == "MISS"
    fast = visitor.get(path)
    assert fast.headers["X-Cache"] == "HIT" and hook_hits == []  # answered before Flask ran
    slow = _anonymous_with_a_session(app).get(path)
    assert slow.headers["X-Cache"] == "HIT" and hook_hits == [path]
    assert fast.get_data() == slow.get_data() == first.get_data()
    wanted = {"Content-Type", "Content-Length", "X-Cache", "Vary", "Content-Security-Policy",
              "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"}
    assert wanted <= set(fast.headers.keys())
    assert {k: v for k, v in fast.headers.items()} == {k: v for k, v in slow.headers.items()}


def test_every_public_page_but_search_takes_the_fast_path(app: Flask, path: str, hook_hits: list[str]) -> None:
    visitor = app.test_client()
    for page in ("/", "/questions", "/questions?tab=unanswered", "/tags", "/tags/setup", path, "/articles"):
        assert visitor.get(page).status_code == 200
        assert visitor.get(page).headers["X-Cache"] == "HIT", page
    assert hook_hits == []
    visitor.get("/search?q=hub")
    assert visitor.get("/search?q=hub").headers["X-Cache"] == "HIT"
    assert hook_hits == ["/search"]  # counted for the insights by an after_request hook


def test_a_write_makes_the_fast_path_miss(app: Flask, path: str, make_user: Any) -> None:
    visitor = app.test_client()
    visitor.get(path)
    assert visitor.get(path).headers["X-Cache"] == "HIT"
    q = db.session.scalar(db.select(Question).order_by(Question.id.desc()))
    assert q is not None
    from forum.services import answers
    answers.post_answer(make_user("third"), q, "Hold the reset button for ten seconds, then pair again.")
    db.session.commit()
    r = visitor.get(path)
    assert r.headers["X-Cache"] == "MISS" and "Hold the reset button for ten seconds" in r.get_data(as_text=True)


def test_signed_in_members_and_dismissed_banners_never_get_the_shared_page(
        app: Flask, path: str, make_user: Any, hook_hits: list[str]) -> None:
    staff = make_user("moddy", role="moderator")
    item = announcements.create_announcement(staff, "Cloud sync is down in Europe", "outage")
    db.session.commit()
    anonymous = app.test_client()
    anonymous.get(path)
    assert "Cloud sync is down in Europe" in anonymous.get(path).get_data(as_text=True)
    dismisser = app.test_client()
    dismisser.post(f"/announcements/{item.id}/dismiss", data={"next": "/"})
    assert "Cloud sync is down in Europe" not in dismisser.get(path).get_data(as_text=True)
    make_user("member")
    member = app.test_client()
    Auth(member).login("member")
    r = member.get(path)
    assert "X-Cache" not in r.headers and "Log out" in r.get_data(as_text=True)


def test_the_theme_cookie_picks_its_own_variant(app: Flask, path: str) -> None:
    dark = app.test_client()
    dark.set_cookie("theme", "dark")
    dark.get(path)
    r = dark.get(path)
    assert r.headers["X-Cache"] == "HIT" and 'data-theme="dark"' in r.get_data(as_text=True)
    light = app.test_client()
    assert 'data-theme="dark"' not in light.get(path).get_data(as_text=True)


def test_fast_hits_count_as_views_and_crawlers_do_not(app: Flask, path: str, asked_and_answered: Any) -> None:
    q, _ = asked_and_answered
    viewcounts.flush()
    person = app.test_client()
    person.environ_base["HTTP_USER_AGENT"] = BROWSER
    for _ in range(3):
        person.get(path)
    crawler = app.test_client()
    crawler.environ_base["HTTP_USER_AGENT"] = "Googlebot/2.1 (+http://www.google.com/bot.html)"
    assert crawler.get(path).headers["X-Cache"] == "HIT"
    assert viewcounts.flush() == 3
    db.session.expire_all()
    assert db.session.get(Question, q.id).view_count == 3


def test_behind_a_proxy_the_forwarded_host_keys_the_page(app: Flask, asked_and_answered: Any) -> None:
    app.config.update(PAGE_CACHE_ENABLED=True, PROXY_FIX_X_HOST=1)
    web.install_proxy_fix(app)
    pagecache.init_app(app)
    try:
        visitor = app.test_client()
        one = {"X-Forwarded-Host": "help.example.com"}
        other = {"X-Forwarded-Host": "support.example.org"}
        assert visitor.get("/questions", headers=one).headers["X-Cache"] == "MISS"
        assert visitor.get("/questions", headers=one).headers["X-Cache"] == "HIT"
        assert visitor.get("/questions", headers=other).headers["X-Cache"] == "MISS"
    finally:
        app.extensions["pagecache"].close()
