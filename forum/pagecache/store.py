"""Where pages and generations live: in Redis, or in this process and the database."""
from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache
from flask import Flask, current_app
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import PageCacheGeneration
from .keys import SEQ


class DbGenerations:
    """The ``page_cache_generations`` table: read with one SELECT, bumped in the writer's transaction."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.local = threading.local()
        # The driver's placeholder, known once the engine exists (the first read, in an app context).
        self.mark: str | None = None

    def read(self, keys: Iterable[str]) -> dict[str, int]:
        """One SELECT on a connection this thread keeps for it (autocommit: it holds no snapshot).

        Raises the driver's error when the database is unreachable twice in a row.
        """
        wanted = sorted(set(keys))
        # Driver-level SQL on a connection of its own: this runs on every hit, and through the
        # session it cost a pool checkout, a pre-ping, a compile of the IN list and a rollback,
        # more than the query itself (profiled). No app context is needed once the thread has
        # its connection (the WSGI fast path runs without one: hits.FastHits).
        for attempt in (1, 2):
            connection = self._connection()
            sql = (f"SELECT key, generation FROM page_cache_generations "
                   f"WHERE key IN ({', '.join([self.mark or '?'] * len(wanted))})")
            try:
                cursor = connection.cursor()
                cursor.execute(sql, tuple(wanted))
                found: dict[str, int] = dict(cursor.fetchall())
                cursor.close()
                break
            except Exception:
                self.close()  # a dropped connection (database restart): open a new one once
                if attempt == 2:
                    raise
        return {k: int(found.get(k, 0)) for k in wanted}

    def _connection(self) -> Any:
        held = getattr(self.local, "connection", None)
        if held is None or getattr(self.local, "pid", None) != os.getpid():
            with self.app.app_context():
                engine = db.engine
            self.mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
            raw = engine.raw_connection()
            driver: Any = raw.driver_connection
            raw.detach()  # ours for the life of the thread, outside the pool
            if engine.dialect.name == "sqlite":
                driver.isolation_level = None  # autocommit: every SELECT sees the latest commit
            else:
                driver.autocommit = True
            self.local.connection, self.local.pid, self.local.raw = driver, os.getpid(), raw
            held = driver
        return held

    def close(self) -> None:
        raw = getattr(self.local, "raw", None)
        self.local.connection = self.local.raw = None
        if raw is not None:
            with contextlib.suppress(Exception):  # closing a connection that already died
                raw.close()

    def bump(self, session: Session | Connection, keys: set[str]) -> None:
        # Sorted, so two writers lock the same rows in the same order (no deadlock on PostgreSQL).
        bind = session.get_bind() if isinstance(session, Session) else session
        insert = pg_insert if bind.dialect.name == "postgresql" else sqlite_insert
        stmt = insert(PageCacheGeneration).values([{"key": k, "generation": 1} for k in sorted(keys | {SEQ})])
        session.execute(stmt.on_conflict_do_update(index_elements=["key"],
                                                   set_={"generation": PageCacheGeneration.generation + 1}))


class RedisGenerations:
    """Generations in Redis: MGET to read, one MULTI of INCRs after the real commit."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client, self.prefix = client, prefix

    def read(self, keys: Iterable[str]) -> dict[str, int]:
        wanted = sorted(set(keys))
        values = self.client.mget([self.prefix + k for k in wanted])
        return {k: int(v or 0) for k, v in zip(wanted, values, strict=True)}

    def bump(self, session: Session, keys: set[str]) -> None:
        pipe = self.client.pipeline(transaction=True)
        for key in sorted(keys | {SEQ}):
            pipe.incr(self.prefix + key)
        pipe.execute()


class MemoryPages:
    """Pages of this process: an LRU bounded in bytes, entries expire after ``ttl`` seconds."""

    def __init__(self, max_bytes: int, ttl: int) -> None:
        self.cache: TTLCache[str, bytes] = TTLCache(maxsize=max_bytes, ttl=ttl, getsizeof=len)
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            return self.cache.get(key)

    def set(self, key: str, value: bytes, ttl: int) -> None:
        # TTLCache has one ttl; a shorter one (a banner due to start) is checked on read.
        if len(value) > self.cache.maxsize:
            return
        with self.lock:
            self.cache[key] = value

    def clear(self) -> None:
        with self.lock:
            self.cache.clear()


class RedisPages:
    """Pages in Redis, shared by every process and host, each with its own expiry."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client, self.prefix = client, prefix

    def get(self, key: str) -> bytes | None:
        value: bytes | None = self.client.get(self.prefix + key)
        return value

    def set(self, key: str, value: bytes, ttl: int) -> None:
        self.client.set(self.prefix + key, value, ex=max(ttl, 1))

    def clear(self) -> None:
        for name in self.client.scan_iter(match=self.prefix + "*", count=1000):
            self.client.delete(name)


class TwoLevelPages:
    """Pages in this process first, then in Redis (shared by every process and host).

    A hit in the process saves a round trip: the hit then costs one MGET of its generations.
    A page found only in Redis is copied into the process. Both levels are checked against the
    generations before use, so neither can serve a stale page.
    """

    def __init__(self, local: MemoryPages, shared: RedisPages) -> None:
        self.local, self.shared = local, shared

    def get(self, key: str) -> bytes | None:
        value = self.local.get(key)
        if value is None:
            value = self.shared.get(key)
            if value is not None:
                self.local.set(key, value, 0)
        return value

    def set(self, key: str, value: bytes, ttl: int) -> None:
        self.local.set(key, value, ttl)
        self.shared.set(key, value, ttl)

    def clear(self) -> None:
        self.local.clear()
        self.shared.clear()


@dataclass(frozen=True)
class Checked:
    """A stored page this process found exact when ``seq`` read ``seq`` (``hits.lookup``)."""

    raw: bytes  # the stored entry itself (identity tells it is the same one)
    offset: int  # where the body starts, after the JSON header line
    content_type: str
    until: float
    deps: dict[str, int]
    seq: int


#: How many checked pages a process remembers; past it the memory starts again (pages stay stored).
CHECKED_MAX = 4096


class PageCache:
    def __init__(self, app: Flask) -> None:
        cfg = app.config
        self.checked: dict[str, Checked] = {}
        self.ttl = int(cfg["PAGE_CACHE_TTL"])
        local = MemoryPages(int(cfg["PAGE_CACHE_MAX_BYTES"]), self.ttl)
        # Signed-in members' own pages (pagecache.private_hit): this process only, a budget of their own.
        self.private_pages = MemoryPages(int(cfg.get("PAGE_CACHE_SIGNED_IN_MAX_BYTES", 0)), self.ttl)
        self.pages: MemoryPages | TwoLevelPages
        self.generations: DbGenerations | RedisGenerations
        if cfg.get("REDIS_URL"):
            import redis

            client = redis.Redis.from_url(cfg["REDIS_URL"])
            prefix = cfg["PAGE_CACHE_PREFIX"]
            self.pages = TwoLevelPages(local, RedisPages(client, prefix + "page:"))
            self.generations = RedisGenerations(client, prefix + "gen:")
        else:
            self.pages = local
            self.generations = DbGenerations(app)

    def remember(self, key: str, checked: Checked) -> None:
        if len(self.checked) >= CHECKED_MAX:
            self.checked = {}  # a plain dict replaced whole: safe under threads without a lock
        self.checked[key] = checked

    def close(self) -> None:
        """Close this thread's connection for generations (tests; a process exit does it otherwise)."""
        if isinstance(self.generations, DbGenerations):
            self.generations.close()


def current_cache() -> PageCache | None:
    cache: PageCache | None = current_app.extensions.get("pagecache")
    return cache


def cache_enabled() -> bool:
    try:
        return "pagecache" in current_app.extensions
    except RuntimeError:
        return False
