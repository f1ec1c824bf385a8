"""Helpers shared by test modules (fixtures live in conftest.py)."""
from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from flask import Flask
from flask.testing import FlaskClient

T = TypeVar("T")

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_URL_GIVEN = os.environ.get("FORUM_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("FORUM_TEST_REDIS_URL", "")
REPO = Path(__file__).resolve().parents[1]
#: The pytest-xdist worker running this process ("gw0", "gw1", ...), or None in a plain run.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")


def _database_of_this_worker(url: str) -> str:
    """Each pytest-xdist worker gets a database of its own beside the given one (``<name>_gw0``),
    created on first use, so workers never wipe each other's tables. In a plain run: ``url``.
    .ci/run drops the workers' databases with its own."""
    if not url or not WORKER:
        return url
    base, _, rest = url.rpartition("/")
    name, sep, query = rest.partition("?")
    mine = f"{name}_{WORKER}"
    import psycopg  # only when PostgreSQL is configured

    server = re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql://", base)
    with psycopg.connect(f"{server}/postgres{sep}{query}", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (mine,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{mine}"')
    return f"{base}/{mine}{sep}{query}"


def shared_data_dir() -> Path | None:
    """The ../shared/data folder beside the repository, or None when absent (fails in CI)."""
    env = os.environ.get("FORUM_SHARED_DATA")
    path = Path(env) if env else REPO.parent / "shared" / "data"
    if path.is_dir():
        return path
    if IN_CI:
        pytest.fail(f"shared data missing at {path} (required in CI)")
    return None


def pg_url_or_skip() -> str:
    """The PostgreSQL test URL; skips without one, except in CI where it fails."""
    if not PG_URL:
        if IN_CI:
            pytest.fail("FORUM_TEST_DATABASE_URL must be set in CI")
        pytest.skip("PostgreSQL not configured (set FORUM_TEST_DATABASE_URL)")
    return normalise_url(PG_URL)


def normalise_url(url: str) -> str:
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)


PG_URL = _database_of_this_worker(PG_URL_GIVEN)


class Auth:
    """Log a test client in and out through the real forms (CSRF token included)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def csrf_token(self, path: str = "/login") -> str:
        html = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf-token" content="([^"]+)"', html)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, login: str, password: str = "correct-horse-battery", **extra: Any) -> Any:
        return self.client.post("/login", data={"login": login, "password": password,
                                                "csrf_token": self.csrf_token(), **extra})

    def logout(self) -> Any:
        return self.client.post("/logout", data={"csrf_token": self.csrf_token("/")})

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """POST with a fresh CSRF token taken from the home page."""
        payload = {"csrf_token": self.csrf_token("/"), **(data or {})}
        return self.client.post(path, data=payload, **kwargs)


#: The body of the question in the `asked_and_answered` fixture (tests/conftest.py).
HUB_BODY = "After the firmware update the hub blinks orange and the app cannot find it."


def production_privileges(app: Any, *, create_tag: bool = False) -> None:
    """Put the production PRIVILEGE_* thresholds back (TestingConfig lowers some to 1).

    Creating tags stays at the test value unless ``create_tag``: fixtures ask questions with
    new tags from fresh accounts (tests/services/test_tags.py checks that threshold).
    """
    from config import Config

    keys = [k for k in dir(Config) if k.startswith("PRIVILEGE_") and (create_tag or k != "PRIVILEGE_CREATE_TAG")]
    app.config.update({k: getattr(Config, k) for k in keys})


def set_reputation(user: Any, reputation: int) -> Any:
    """Give ``user`` this reputation through a ledger row (so ``recompute`` finds no drift) and commit."""
    from forum.extensions import db
    from forum.services.reputation import _record

    db.session.refresh(user)
    _record(user.id, reputation - user.reputation, "test_grant", None, None, None)
    db.session.commit()
    db.session.refresh(user)
    return user
def redis_url_or_skip() -> str:
    """The Redis test URL; skips without one, except in CI where it fails (like PostgreSQL)."""
    if not REDIS_URL:
        if IN_CI:
            pytest.fail("FORUM_TEST_REDIS_URL must be set in CI")
        pytest.skip("Redis not configured (set FORUM_TEST_REDIS_URL)")
    return REDIS_URL


@contextmanager
def page_cache_on(app: Flask, backend: str, prefix: str) -> Iterator[Flask]:
    """``app`` with the page cache on. ``backend`` "redis": pages and generations in Redis
    (FORUM_TEST_REDIS_URL, skipped without it) under ``<prefix>:<random>:``, whose keys are deleted
    after; any other backend (the tests' ids say "memory" or "database"): pages in this process
    and generations in the database."""
    from forum import pagecache

    app.config["PAGE_CACHE_ENABLED"] = True
    if backend == "redis":
        app.config["REDIS_URL"] = redis_url_or_skip()
        app.config["PAGE_CACHE_PREFIX"] = f"{prefix}:{uuid.uuid4().hex}:"
    pagecache.init_app(app)
    try:
        yield app
    finally:
        app.extensions["pagecache"].close()
        if backend == "redis":
            import redis

            client = redis.Redis.from_url(app.config["REDIS_URL"])
            for name in client.scan_iter(match=app.config["PAGE_CACHE_PREFIX"] + "*"):
                client.delete(name)
            client.close()


def run_together(n: int, work: Callable[[int], T], timeout: float = 120) -> list[T]:
    """Call ``work(i)`` for i in range(n), each in its own thread, released at the same moment.

    Returns the results in order; fails the test with the first errors if any call raised.
    """
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout)
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not errors, errors[:3]
    return results
