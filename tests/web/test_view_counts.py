"""View counts: counted per page view without a database write, written in batches, crawlers
and HEAD requests left out, cached anonymous pages counted too, shared by hosts through Redis."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
import redis
from flask import Flask
from sqlalchemy import select

from forum import pagecache, viewcounts
from forum.extensions import db
from forum.models import Article, Question
from forum.services import articles
from tests.support import redis_url_or_skip, run_together

BROWSER = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/126.0.0.0 Safari/537.36")
HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36"


def _views(model, ident: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(model.view_count).where(model.id == ident))


@pytest.fixture
def question(make_question):
    q = make_question(title="Doorbell camera stops recording at night")
    return {"id": q.id, "url": f"/questions/{q.id}/doorbell-camera-stops-recording-at-night"}


@pytest.fixture
def browser(app: Flask):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = BROWSER
    return client


def test_views_are_counted_without_a_write_per_view_and_written_in_one_batch(
        app: Flask, browser, question, count_queries) -> None:
    assert browser.get(question["url"]).status_code == 200  # warm up (templates, first queries)
    with count_queries() as qc:
        for _ in range(4):
            assert browser.get(question["url"]).status_code == 200
    writes = [s for s in qc.statements if re.match(r"\s*(UPDATE|INSERT|DELETE)", s, re.I)]
    assert writes == [] and not any("view_count =" in s for s in qc.statements)
    assert _views(Question, question["id"]) == 0  # nothing written yet
    with count_queries() as qc:
        assert viewcounts.flush() == 5
    assert len([s for s in qc.statements if s.lstrip().upper().startswith("UPDATE")]) == 1
    assert _views(Question, question["id"]) == 5
    assert viewcounts.flush() == 0  # what was written is not written again


def test_the_page_says_one_view_and_then_views(app: Flask, browser, question) -> None:
    browser.get(question["url"])
    viewcounts.flush()
    html = browser.get(question["url"]).get_data(as_text=True)
    assert re.search(r'class="view-count">1 view<', html)
    viewcounts.flush()
    html = browser.get(question["url"]).get_data(as_text=True)
    assert re.search(r'class="view-count">2 views<', html)
    listing = browser.get("/questions").get_data(as_text=True)
    assert "3 views" not in listing and re.search(r'stat-views">2 views<', listing)


@pytest.mark.parametrize("agent", [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/8.5.0", "Wget/1.21.4", "python-requests/2.32.3", "facebookexternalhit/1.1", "",
])
def test_crawlers_and_scripts_are_not_counted(app: Flask, question, agent: str) -> None:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = agent
    assert client.get(question["url"]).status_code == 200
    assert viewcounts.flush() == 0


def test_head_requests_redirects_and_missing_pages_are_not_counted_but_headless_browsers_are(
        app: Flask, browser, question) -> None:
    assert browser.head(question["url"]).status_code == 200
    assert browser.get(f"/questions/{question['id']}").status_code == 301  # the slug redirect
    assert browser.get("/questions/999999").status_code == 404
    assert viewcounts.flush() == 0
    headless = app.test_client()
    headless.environ_base["HTTP_USER_AGENT"] = HEADLESS
    headless.get(question["url"])
    assert viewcounts.flush() == 1


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_pages_served_from_the_anonymous_cache_are_counted(app: Flask, browser, question, store: str) -> None:
    app.config["PAGE_CACHE_ENABLED"] = True
    prefix = f"test:{uuid.uuid4().hex}"
    if store == "redis":
        app.config.update(REDIS_URL=redis_url_or_skip(), REDIS_KEY_PREFIX=prefix, PAGE_CACHE_PREFIX=f"{prefix}:pc:")
        app.extensions["viewcounts"] = viewcounts.ViewCounts(app)
    pagecache.init_app(app)
    try:
        assert browser.get(question["url"]).headers["X-Cache"] == "MISS"
        hits = [browser.get(question["url"]).headers["X-Cache"] for _ in range(3)]
        assert hits == ["HIT"] * 3
        assert viewcounts.flush() == 4
        assert _views(Question, question["id"]) == 4
        # The flush bumps the page: the next visitor sees the new count, not the cached "0 views".
        fresh = browser.get(question["url"])
        assert fresh.headers["X-Cache"] == "MISS" and 'class="view-count">4 views<' in fresh.get_data(as_text=True)
        assert browser.get(question["url"]).headers["X-Cache"] == "HIT"
    finally:
        app.extensions["pagecache"].close()
        if store == "redis":
            client = redis.Redis.from_url(app.config["REDIS_URL"])
            for name in client.scan_iter(match=f"{prefix}:*"):
                client.delete(name)
            client.close()


def test_article_views_are_counted_and_shown(app: Flask, browser, make_user) -> None:
    staff = make_user(role="agent")
    article = articles.create_article(staff, articles.ArticleInput(
        "Resetting the hub to factory settings", "Hold the button for ten seconds.", "setup"))
    articles.set_state(staff, article, "published")
    db.session.commit()
    url = browser.get(f"/articles/{article.id}").headers.get("Location") or f"/articles/{article.id}"
    for _ in range(3):
        assert browser.get(url).status_code == 200
    assert viewcounts.flush() == 3
    assert _views(Article, article.id) == 3
    assert re.search(r'class="view-count">3 views<', browser.get(url).get_data(as_text=True))
    assert "3 views" in browser.get("/articles").get_data(as_text=True)


def test_a_failed_write_gives_the_views_back_for_the_next_flush(app: Flask, browser, question, monkeypatch) -> None:
    browser.get(question["url"])
    browser.get(question["url"])

    def broken_begin():
        raise RuntimeError("database down")

    engine = db.engine
    monkeypatch.setattr(type(engine), "begin", lambda self: broken_begin())
    with pytest.raises(RuntimeError):
        viewcounts.flush()
    monkeypatch.undo()
    assert viewcounts.flush() == 2 and _views(Question, question["id"]) == 2


def test_the_cli_flushes(app: Flask, runner, browser, question) -> None:
    browser.get(question["url"])
    result = runner.invoke(args=["views", "flush"])
    assert result.exit_code == 0 and "1 views written" in result.output
    assert _views(Question, question["id"]) == 1


# ---------------------------------------------------------------- several hosts (Redis)


@pytest.fixture
def redis_hosts(app: Flask) -> Iterator[tuple[Flask, Flask]]:
    """Two apps ("hosts") on one database and one Redis, with a key prefix of this test's own."""
    from forum import create_app

    url = redis_url_or_skip()
    prefix = f"test:{uuid.uuid4().hex}"
    other = create_app("testing", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                   "SEARCH_INDEX_DIR": ":memory:", "REDIS_URL": url, "REDIS_KEY_PREFIX": prefix})
    app.config.update(REDIS_URL=url, REDIS_KEY_PREFIX=prefix)
    app.extensions["viewcounts"] = viewcounts.ViewCounts(app)
    yield app, other
    client = redis.Redis.from_url(url)
    for name in client.scan_iter(match=f"{prefix}:*"):
        client.delete(name)
    client.close()
    with other.app_context():
        db.engine.dispose()


def test_two_hosts_count_in_redis_and_concurrent_flushes_write_each_view_once(redis_hosts, question) -> None:
    first, second = redis_hosts
    for host, n in ((first, 3), (second, 4)):
        client = host.test_client()
        client.environ_base["HTTP_USER_AGENT"] = BROWSER
        for _ in range(n):
            assert client.get(question["url"]).status_code == 200
    assert _views(Question, question["id"]) == 0

    def flush_on(i: int) -> int:
        with (first if i % 2 else second).app_context():
            return viewcounts.flush()

    written = run_together(4, flush_on)
    assert sum(written) == 7
    assert _views(Question, question["id"]) == 7


def test_the_job_workers_periodic_tick_flushes_too(app: Flask, browser, question) -> None:
    from forum import jobs

    browser.get(question["url"])
    jobs.periodic(app, None)
    assert _views(Question, question["id"]) == 1


def test_each_app_runs_its_own_flush_writers_once_before_the_views(app: Flask, browser, question) -> None:
    # Registered per app (app.extensions), not per process: another app's writer never runs
    # here, and adding one twice (an app set up again) runs it once.
    ran: list[str] = []
    viewcounts.also_flush(Flask("other"), lambda: ran.append("other"))

    def writer() -> None:
        ran.append(f"views waiting: {_views(Question, question['id'])}")

    viewcounts.also_flush(app, writer)
    viewcounts.also_flush(app, writer)
    browser.get(question["url"])
    assert viewcounts.flush() == 1
    assert ran == ["views waiting: 0"]  # before the views were written
