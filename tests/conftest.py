"""Shared fixtures: one app per test on SQLite and (when available) PostgreSQL.

Every test that uses ``app`` runs once per backend: ``[sqlite]`` always, ``[postgresql]``
when FORUM_TEST_DATABASE_URL is set. With CI=true a missing PostgreSQL fails the run
instead of skipping it.
"""
from __future__ import annotations

import contextvars
import gc
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import event, text

from forum import create_app
from forum.extensions import db
from tests.support import HUB_BODY, Auth, pg_url_or_skip, production_privileges


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database with the current schema, created once per backend per session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        url = pg_url_or_skip()
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        if request.param == "postgresql":
            # Whatever an earlier run (or an older schema) left behind goes, constraints and all.
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        db.create_all()
        db.engine.dispose()
    yield url


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked ``postgres`` checks something only PostgreSQL has (EXPLAIN plans): its
    ``[sqlite]`` copy is deselected rather than skipped, so a CI run shows no skip."""
    drop = [item for item in items if (item.get_closest_marker("postgres") or item.get_closest_marker("pg_search"))
            and getattr(item, "callspec", None) is not None
            and item.callspec.params.get("database_url") == "sqlite"]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = [item for item in items if item not in drop]


def _wipe(app: Flask) -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    # DELETE beats TRUNCATE on small tables in PostgreSQL (4 ms against 20 ms here).
    with db.engine.begin() as conn:
        # Questions and answers point at each other (the accepted answer): break the cycle first.
        conn.execute(text("UPDATE questions SET accepted_answer_id = NULL, duplicate_of_id = NULL"))
        for name in tables:
            conn.execute(text(f"DELETE FROM {name}"))


class _MemoryBytecodeCache(BytecodeCache):
    """Compiled templates shared by the per-test apps (compiling them dominated test time)."""

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = _MemoryBytecodeCache()


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own application context.

    Tests hold an app context open for their factories; without this, requests would share
    its ``g`` (Flask-Login's cached user, the CSRF token) and its database session, which no
    real request does.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        return contextvars.Context().run(super().open, *args, **kwargs)


def _wipe_search_tables() -> None:
    """The PostgreSQL search backend's tables (not models: create_all leaves them to us)."""
    from search.postgres import create_schema

    with db.engine.begin() as conn:
        create_schema(conn)
        conn.execute(text("DELETE FROM search_documents"))
        conn.execute(text("DELETE FROM search_words"))


@pytest.fixture
def app(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app; a test marked ``pg_search`` gets the PostgreSQL search backend (PostgreSQL only)."""
    pg_search = request.node.get_closest_marker("pg_search") is not None
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SEARCH_INDEX_DIR": ":memory:",
            "SEARCH_BACKEND": "postgres" if pg_search else "whoosh",
        },
    )
    app.test_client_class = IsolatedClient
    app.jinja_env.bytecode_cache = TEMPLATE_CACHE
    with app.app_context():
        if pg_search:
            _wipe_search_tables()
        yield app
        db.session.remove()
        _wipe(app)
        if pg_search:
            _wipe_search_tables()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


_seq = itertools.count(1)


@pytest.fixture
def make_user(app: Flask) -> Callable[..., Any]:
    """Create a user: make_user(role="agent", username=..., password=...).

    The address counts as confirmed (so notification mail flows) unless ``verified=False``.
    """
    from forum.models import Role
    from forum.services import accounts

    def make(username: str | None = None, role: str = "member", password: str = "correct-horse-battery",
             email: str | None = None, verified: bool = True) -> Any:
        n = next(_seq)
        username = username or f"user{n}"
        user = accounts.register(
            accounts.Registration(username, email or f"{username.lower()}@example.com", password),
            role=Role(role), allow_reserved=True, verified=verified,
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_question(app: Flask, make_user: Callable[..., Any]) -> Callable[..., Any]:
    from forum.services import questions

    def make(author: Any = None, title: str | None = None, body: str = "The hub keeps blinking orange after the update.",
             tags: str = "setup") -> Any:
        author = author or make_user()
        n = next(_seq)
        q = questions.ask_question(author, questions.QuestionInput(title or f"Hub question number {n} about pairing", body, tags))
        db.session.commit()
        return q

    return make


@pytest.fixture
def make_answer(app: Flask, make_user: Callable[..., Any]) -> Callable[..., Any]:
    from forum.services import answers

    def make(question: Any, author: Any = None, body: str = "Hold the reset button for ten seconds.") -> Any:
        a = answers.post_answer(author or make_user(), question, body)
        db.session.commit()
        return a

    return make


@pytest.fixture
def production_thresholds(app: Flask) -> Flask:
    """The privilege thresholds of production (tests otherwise lower the vote and comment ones)."""
    production_privileges(app)
    return app


@pytest.fixture
def asked_and_answered(make_user: Callable[..., Any], make_question: Callable[..., Any],
                       make_answer: Callable[..., Any]) -> tuple[Any, Any]:
    """A question by "asker" (body `HUB_BODY`) and an answer to it by "helper"."""
    q = make_question(author=make_user("asker"), title="Hub blinks orange after update", body=HUB_BODY)
    a = make_answer(q, author=make_user("helper"), body="Hold the reset button for ten seconds.")
    return q, a


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], Any]:
    """Use as ``with count_queries() as qc: ...``; ``qc.count`` is the number of SQL statements."""
    from contextlib import contextmanager

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)

    return counting




def pytest_sessionstart(session: pytest.Session) -> None:
    """Make the garbage collector cheap for a suite that builds an app per test.

    Each test creates and drops a Flask app, a Jinja environment, SQLAlchemy sessions and an
    index: many container objects, so CPython's default thresholds (700 allocations) ran full
    collections of an ever larger heap over and over; measured, a quarter of the web tests'
    time. Objects alive at start (imported modules) are frozen out of collection, and the
    young generation is collected every 50,000 allocations instead. Cycles are still freed,
    only in bigger batches.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
