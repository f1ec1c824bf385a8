"""Fixtures for the end-to-end browser tests: a live server and headless Chromium.

* ``live_server`` (session): the app on a fresh SQLite file, served by Werkzeug on a free port
  in a daemon thread; yields the base URL (``http://127.0.0.1:<port>``).
* ``browser`` (session): the system Chromium (``FORUM_CHROMIUM``, default /usr/bin/chromium)
  driven by Playwright. Without Chromium or Playwright the tests skip, except with CI=true
  where they fail: CI must run them.
* ``new_page`` / ``page``: a fresh browser context per page (own cookies, so two pages are two
  customers); on failure every page of the test is screenshotted into test-artifacts/e2e/.
* ``axe_script`` (session): axe-core's source for accessibility checks, installed from npm into
  tests/e2e/axe on first use (``tests/e2e/a11y.py``; fails without npm under CI=true).

Every test collected under tests/e2e/ gets the ``browser`` marker (``-m "not browser"`` skips
them all).
"""
from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from forum import create_app
from forum.extensions import db
from tests.e2e.helpers import PASSWORD, unique_username
from tests.support import IN_CI, REPO

E2E_DIR = Path(__file__).resolve().parent
ARTIFACTS = REPO / "test-artifacts" / "e2e"
CHROMIUM = os.environ.get("FORUM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1280, "height": 900}
# Fail fast: every page here answers in milliseconds; 15 s leaves room for two test workers
# sharing two cores with the OpenID provider and the live servers.
DEFAULT_TIMEOUT_MS = 15_000

_log = logging.getLogger("tests.e2e.server")
_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


# --------------------------------------------------------------------------- markers, reports

def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A conftest's collection hook sees every item of the session, so filter on the path.
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


# --------------------------------------------------------------------------- live server

class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr; errors go to a logger pytest captures and shows on failure.

    (Werkzeug's own ``_log`` would attach a StreamHandler bound to whatever stderr pytest had
    captured at the time, which outlives that capture.)
    """

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        _log.log(logging.ERROR if type == "error" else logging.INFO, message.rstrip(), *args)

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        # Werkzeug's dev server skips closing the response body when the browser hangs up
        # while it drains the socket (run_wsgi's ``finally``), which leaks a static file's
        # handle; a page navigating away mid-download does exactly that.
        body = (environ or {}).get(_BODY_KEY)
        if body is not None and hasattr(body, "close"):
            body.close()


_BODY_KEY = "tests.e2e.response_body"


def _remember_body(app: Flask) -> Callable[[dict[str, Any], Any], Any]:
    """The app as WSGI, keeping each response body on its environ for ``connection_dropped``."""
    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        body = app(environ, start_response)
        environ[_BODY_KEY] = body
        return body
    return wsgi


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free port in a daemon thread; yields the base URL and, on exit, stops
    the server and closes the app's pooled database connections (else ResourceWarning)."""
    server: BaseWSGIServer = make_server("127.0.0.1", 0, _remember_body(app), threaded=True,
                                         request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()  # serve_forever() returns and closes the listening socket itself
        thread.join(timeout=10)
        server.server_close()  # idempotent; covers a thread that never got going
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@dataclass(frozen=True)
class LiveServer:
    app: Flask
    url: str


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("e2e")
    app = create_app("testing", {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/e2e.db",
        "SEARCH_INDEX_DIR": str(tmp / "index"),
    })
    with app.app_context():
        db.create_all()
    with serving(app) as url:
        yield LiveServer(app, url)


@pytest.fixture(scope="session")
def live_server(live: LiveServer) -> str:
    """Base URL of the running forum, e.g. ``http://127.0.0.1:41234``."""
    return live.url


@pytest.fixture
def seed_question(live: LiveServer) -> Callable[..., str]:
    """Create a user and a question straight through the services; returns the question's path.

    For tests about viewing a thread, not about asking one (that flow has its own test).
    """
    from forum.services import accounts
    from forum.services import questions as qsvc
    from forum.views.questions import question_url

    def seed(title: str, body: str, tags: str = "setup", username: str | None = None) -> str:
        username = username or unique_username("seed")
        with live.app.test_request_context():
            try:
                user = accounts.register(accounts.Registration(username, f"{username}@example.com", PASSWORD))
                question = qsvc.ask_question(user, qsvc.QuestionInput(title, body, tags))
                db.session.commit()
                return question_url(question)
            finally:
                db.session.remove()

    return seed


# --------------------------------------------------------------------------- browser, pages

def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (browser tests are required in CI)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser(live_server: str) -> Iterator[Any]:
    # Depends on live_server so that the server outlives the browser at teardown: Chromium
    # closes its keep-alive connections before the server shuts down.
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import expect, sync_playwright
    except ImportError as exc:
        _unavailable(f"Playwright is not importable: {exc}")
    # Assertions wait as long as actions do (their own default is 5 s): a POST that answers in
    # milliseconds alone can take seconds while the other test worker loads both cores.
    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"no Chromium at {CHROMIUM} (set FORUM_CHROMIUM)")
    playwright = sync_playwright().start()
    try:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            _unavailable(f"Chromium at {CHROMIUM} did not start: {exc.message.splitlines()[0]}")
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:120]


@pytest.fixture
def new_page(browser: Any, live_server: str, request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """``new_page(width=1280, height=900)``: a page in its own fresh context (own cookies)."""
    contexts: list[Any] = []

    def make(width: int = VIEWPORT["width"], height: int = VIEWPORT["height"]) -> Any:
        context = browser.new_context(base_url=live_server, viewport={"width": width, "height": height})
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make

    reports = request.node.stash.get(_REPORTS, {})
    failed = any(r.failed for r in reports.values())
    for i, context in enumerate(contexts):
        if failed:
            for j, pg in enumerate(context.pages):
                try:
                    ARTIFACTS.mkdir(parents=True, exist_ok=True)
                    pg.screenshot(path=str(ARTIFACTS / f"FAILED-{_slug(request.node.name)}-{i}{j}.png"), full_page=True)
                except Exception:  # noqa: BLE001 - a nicety; never mask the real failure
                    pass
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    """One page, 1280x900, in a fresh context."""
    return new_page()


@pytest.fixture(scope="session")
def axe_script() -> str:
    """axe-core's source, from tests/e2e/axe (``npm ci`` there first if needed; tests/e2e/a11y.py)."""
    from tests.e2e.a11y import axe_source
    return axe_source()


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
