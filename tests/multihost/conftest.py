"""Two app hosts on one PostgreSQL and one Redis: the ``hosts`` fixture.

Each host is its own gunicorn (2 workers) started with the production config and the same
secret key, with its own instance folder (its own Whoosh index, mail folder), as two web
servers behind a load balancer would be. They share a PostgreSQL database made for the
session (``<test database>_hosts``, migrated with ``flask db upgrade``, dropped afterwards)
and the Redis of FORUM_TEST_REDIS_URL under a key prefix and job queue of their own. Both
trust one proxy's X-Forwarded-For (as behind nginx), so each test client can be a visitor
with an address of its own. Secure cookies are off: the tests speak plain HTTP.

Without FORUM_TEST_DATABASE_URL or FORUM_TEST_REDIS_URL the tests skip, and with CI=true
they fail instead.
"""
from __future__ import annotations

import itertools
import os
import re
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from redis import Redis
from rq import Queue
from sqlalchemy import create_engine, make_url, text

from tests.support import pg_url_or_skip, redis_url_or_skip, set_reputation
from tests.support_http import REPO, Browserish, gunicorn

PASSWORD = "correct-horse-battery"
# Tighter than production so the throttle test needs few (slow, production-cost) hash checks.
THROTTLE_PER_IP = 5
THROTTLE_PER_ACCOUNT = 8
_ips = itertools.count(1)
_names = itertools.count(1)


@dataclass
class Hosts:
    """Host A and host B (base URLs), the shared stores, and helpers to drive them."""

    a: str
    b: str
    database_url: str
    redis: Redis
    redis_prefix: str
    app: Flask  # in this process, on the shared database: only to create accounts
    logs: list[Path] = field(default_factory=list)

    def client(self, host: str | None = None, ip: str | None = None) -> Browserish:
        """A new visitor (cookie jar, own address in X-Forwarded-For) talking to ``host`` (A)."""
        n = next(_ips)
        return Browserish(host or self.a, {"X-Forwarded-For": ip or f"198.18.{n // 250}.{n % 250 + 1}"})

    def make_user(self, name: str | None = None, role: str = "member", reputation: int = 0) -> str:
        """Create an account straight in the shared database; returns its username."""
        from forum.extensions import db
        from forum.models import Role
        from forum.services import accounts

        name = name or f"host_user{next(_names)}_{uuid.uuid4().hex[:6]}"
        with self.app.app_context():
            user = accounts.register(accounts.Registration(name, f"{name.lower()}@example.com", PASSWORD),
                                     role=Role(role), allow_reserved=True)
            db.session.commit()
            if reputation:
                set_reputation(user, reputation)
            db.session.remove()
        return name

    def signed_in(self, name: str, host: str | None = None) -> Browserish:
        """A visitor signed in as ``name`` through the real form on ``host`` (A)."""
        browser = self.client(host)
        status = browser.login(name, PASSWORD)
        assert status == 302, f"sign-in as {name} answered {status}"
        return browser

    def eventually(self, client: Browserish, path: str, contains: str, timeout: float = 5.0) -> str:
        """GET ``path`` until the page (status 200) contains ``contains``; returns the page.

        For what another host may show a moment later (a cache entry being replaced); fails
        with the last answer when ``timeout`` seconds pass.
        """
        deadline = time.monotonic() + timeout
        while True:
            status, page, _ = client.get(path)
            if status == 200 and contains in page:
                return page
            if time.monotonic() > deadline:
                raise AssertionError(f"{client.base}{path} never showed {contains!r} (last: {status})\n"
                                     + _visible(page)[:1500])
            time.sleep(0.1)

    def log_tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.logs)


def _visible(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def _hosts_database(base_url: str) -> tuple[str, Any]:
    """Create ``<test database>_hosts`` (dropped first if a crashed run left it); returns its URL
    and the server's maintenance engine that later drops it."""
    url = make_url(base_url)
    name = f"{url.database}_hosts"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False), admin


@pytest.fixture(scope="session")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    base_url = pg_url_or_skip()
    redis_url = redis_url_or_skip()
    tmp = tmp_path_factory.mktemp("hosts")
    database_url, admin = _hosts_database(base_url)
    run = uuid.uuid4().hex[:10]
    prefix, queue_name = f"test-hosts-{run}", f"test-hosts-{run}"
    secret = secrets.token_hex(32)
    common = {
        "FORUM_ENV": "production",
        "FORUM_SECRET_KEY": secret,
        "FORUM_DATABASE_URL": database_url,
        "FORUM_REDIS_URL": redis_url,
        "FORUM_REDIS_KEY_PREFIX": prefix,
        "FORUM_JOBS_QUEUE": queue_name,
        "FORUM_SESSION_COOKIE_SECURE": "false",
        "FORUM_REMEMBER_COOKIE_SECURE": "false",
        "FORUM_PROXY_FIX_X_FOR": "1",
        # Fresh members tag their questions with new tags here (the privilege has its own tests).
        "FORUM_PRIVILEGE_CREATE_TAG": "1",
        "FORUM_LOGIN_THROTTLE_PER_IP": f"{THROTTLE_PER_IP} per 15 minutes",
        "FORUM_LOGIN_THROTTLE_PER_ACCOUNT": f"{THROTTLE_PER_ACCOUNT} per 5 minutes",
        # Search shared through the database (the pgsearch branch adds the setting; until then
        # it is ignored and each host searches its own Whoosh index).
        "FORUM_SEARCH_BACKEND": "postgres",
    }
    redis = Redis.from_url(redis_url)
    try:
        migrate_env = {**os.environ, **common, "FLASK_APP": "forum:create_app", "PYTHONPATH": str(REPO),
                       "FORUM_INSTANCE_PATH": str(tmp / "migrate")}
        done = subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=REPO, env=migrate_env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr

        from forum import create_app

        app = create_app("production", {"SECRET_KEY": secret, "SQLALCHEMY_DATABASE_URI": database_url,
                                        "SEARCH_INDEX_DIR": str(tmp / "seed-index"), "JOBS_QUEUE": queue_name})
        with ExitStack() as stack:
            bases = []
            logs = []
            for name in ("a", "b"):
                log = tmp / f"host-{name}.log"
                logs.append(log)
                bases.append(stack.enter_context(gunicorn(
                    {**common, "FORUM_INSTANCE_PATH": str(tmp / f"instance-{name}")}, workers=2, log=log)))
            yield Hosts(bases[0], bases[1], database_url, redis, prefix, app, logs)
            with app.app_context():
                from forum.extensions import db
                db.engine.dispose()
    finally:
        queue = Queue(queue_name, connection=redis)
        queue.empty()
        for registry in (queue.scheduled_job_registry, queue.failed_job_registry, queue.finished_job_registry):
            for job_id in registry.get_job_ids():
                registry.remove(job_id, delete_job=True)
        redis.srem("rq:queues", queue.key)
        for key in redis.scan_iter(f"{prefix}:*"):
            redis.delete(key)
        redis.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(database_url).database}" WITH (FORCE)'))
        admin.dispose()
