"""Whole anonymous pages from a cache, never stale: dependency generations.

Serving: a ``before_request`` hook answers an anonymous GET of a cacheable page (home, question
lists, tags, a question, articles, search) from the cache, before the view, Flask-Login or any
page query runs. Signed-in visitors (a session with ``_user_id`` or a remember-me cookie), a
pending flash message, and every other method bypass it. An ``after_request`` hook stores a
200 HTML answer that set no cookie (a session write would mean the page was personal).

Correctness: each stored page keeps the *generation* of everything it read: keys such as
``questions:12``, ``answers:40``, ``users:7``, ``lists``, ``articles``, ``banners`` and ``global``.
The view's endpoint gives the page's own keys; every ORM row loaded while rendering adds
``<table>:<id>``. A write bumps the generations of what it touched, found in three ways that
overlap on purpose (a missed bump is a stale page; an extra one only a miss):

1. the domain events (``on_event``, subscribed in forum/subscribers.py): an event's question
   and lists, an article event's article;
2. every row the session flushes (new, changed, deleted), mapped by table (``keys_for_row``);
3. every INSERT/UPDATE/DELETE statement sent through the session (atomic counters such as
   ``score = score + 1``): the rows it matches are selected first with the same WHERE clause
   and mapped the same way.

A table not known to be irrelevant to anonymous pages, and not mapped, bumps ``global``, which
every page reads, so a write nobody thought of can cost hits, never correctness.

Where generations live: with ``REDIS_URL``, in Redis (pages too), bumped in one MULTI after the
real commit; otherwise in the ``page_cache_generations`` table, bumped inside the writer's
transaction (so every process agrees the moment it commits), with pages in a per-process LRU
bounded in bytes (cachetools). A hit checks all its generations in one round trip (MGET, or one
SELECT). A page is stored with the generations read *after* it rendered, and only if the write
sequence (``seq``, bumped by every write) did not move while it rendered: a write that
committed mid-render makes that page a miss rather than a stale hit.

Why our own code rather than Flask-Caching: its ``cached`` decorator keys by path and deletes by
key; it has no notion of which rows a page read, so exact invalidation would be ours anyway.
"""
from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, Protocol

import click
from cachetools import TTLCache
from flask import Flask, Response, current_app, g, has_request_context, request, session
from flask.cli import with_appcontext
from sqlalchemy import Connection, Delete, Insert, TextClause, Update, event, func, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapper, ORMExecuteState, Session

from .database import after_real_commit
from .events import ArticleChanged, Event
from .extensions import db
from .models import Announcement, PageCacheGeneration

GLOBAL, SEQ, LISTS, ARTICLES, BANNERS = "global", "seq", "lists", "articles", "banners"
BUMPS = "forum.pagecache.bumps"
REBUMP = "forum.pagecache.rebump"
HEADER = "X-Cache"

# Endpoint -> the page's own keys (view args filled in). Only these endpoints are cached.
ENDPOINT_KEYS: dict[str, tuple[str, ...]] = {
    "main.index": (LISTS, ARTICLES),
    "questions.index": (LISTS,),
    "questions.tags": (LISTS,),
    "questions.tag": (LISTS,),
    "questions.show": ("questions:{question_id}",),
    "articles.index": (ARTICLES,),
    "articles.show": (ARTICLES, "articles:{article_id}"),
    "search.index": (LISTS, ARTICLES),
}

# Tables whose rows no anonymous page shows: per-user state, staff-only data, queues and logs.
IRRELEVANT = frozenset({
    "page_cache_generations", "search_pending", "mail_outbox", "notifications", "notification_preferences",
    "digests_sent", "question_follows", "tag_follows", "announcement_dismissals", "reputation_events", "votes",
    "flags", "moderation_log", "user_notes", "watched_words", "post_mentions", "support_playbooks",
    "support_on_duty", "support_alerts", "canned_replies", "case_events", "support_cases", "suggested_edits",
    "revisions", "question_triage",
})

# Columns a row's keys are computed from (selected before an UPDATE or DELETE runs).
KEY_COLUMNS = ("id", "question_id", "answer_id", "article_id", "user_id", "target_type", "target_id",
               "source_type", "source_id")
_SOURCE_TABLES = {"question": "questions", "answer": "answers", "comment": "comments", "article": "articles"}
_PRESELECT_LIMIT = 1000


def keys_for_row(table: str, row: Mapping[str, Any]) -> set[str] | None:
    """The generation keys a change to ``row`` of ``table`` bumps; None when unknown (-> global).

    ``row`` holds whichever of KEY_COLUMNS are known (a new row may lack its id).
    """
    if table in IRRELEVANT:
        return set()
    if table == "announcements":
        return {BANNERS}
    keys: set[str] = set()
    if row.get("id") is not None:
        keys.add(f"{table}:{row['id']}")
    if row.get("question_id") is not None:
        keys |= {f"questions:{row['question_id']}", LISTS}
    if row.get("answer_id") is not None:
        keys.add(f"answers:{row['answer_id']}")
    if table in ("questions", "answers", "tags"):
        return keys | {LISTS}
    if table in ("articles", "article_tags", "article_feedback"):
        if row.get("article_id") is not None:
            keys.add(f"articles:{row['article_id']}")
        return keys | {ARTICLES}
    if table in ("comments", "question_tags"):
        return keys if row.get("question_id") is not None else None
    if table == "users":
        return keys if row.get("id") is not None else set()  # a new member is on no cached page yet
    if table == "user_badges":
        return {f"users:{row['user_id']}"} if row.get("user_id") is not None else None
    if table == "post_links":
        # A link shows as a card on its source and as a backlink on its target.
        ends = [(row.get("source_type"), row.get("source_id")), (row.get("target_type"), row.get("target_id"))]
        if any(kind not in _SOURCE_TABLES or ident is None for kind, ident in ends):
            return None
        return {f"{_SOURCE_TABLES[str(kind)]}:{ident}" for kind, ident in ends}
    if row.get("question_id") is not None:
        return keys
    return None


# ---------------------------------------------------------------- storage


class Generations(Protocol):
    def read(self, keys: Iterable[str]) -> dict[str, int]: ...
    def bump(self, session: Session, keys: set[str]) -> None: ...


class DbGenerations:
    """The ``page_cache_generations`` table: read with one SELECT, bumped in the writer's transaction."""

    def __init__(self) -> None:
        self.local = threading.local()

    def read(self, keys: Iterable[str]) -> dict[str, int]:
        """One SELECT on a connection this thread keeps for it (autocommit: it holds no snapshot).

        Raises the driver's error when the database is unreachable twice in a row.
        """
        wanted = sorted(set(keys))
        # Driver-level SQL on a connection of its own: this runs on every hit, and through the
        # session it cost a pool checkout, a pre-ping, a compile of the IN list and a rollback,
        # more than the query itself (profiled).
        mark = "?" if db.engine.dialect.paramstyle == "qmark" else "%s"
        sql = f"SELECT key, generation FROM page_cache_generations WHERE key IN ({', '.join([mark] * len(wanted))})"
        for attempt in (1, 2):
            connection = self._connection()
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
            raw = db.engine.raw_connection()
            driver: Any = raw.driver_connection
            raw.detach()  # ours for the life of the thread, outside the pool
            if db.engine.dialect.name == "sqlite":
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


class PageCache:
    def __init__(self, app: Flask) -> None:
        cfg = app.config
        self.ttl = int(cfg["PAGE_CACHE_TTL"])
        self.pages: MemoryPages | RedisPages
        self.generations: DbGenerations | RedisGenerations
        if cfg.get("REDIS_URL"):
            import redis

            client = redis.Redis.from_url(cfg["REDIS_URL"])
            prefix = cfg["PAGE_CACHE_PREFIX"]
            self.pages = RedisPages(client, prefix + "page:")
            self.generations = RedisGenerations(client, prefix + "gen:")
        else:
            self.pages = MemoryPages(int(cfg["PAGE_CACHE_MAX_BYTES"]), self.ttl)
            self.generations = DbGenerations()


    def close(self) -> None:
        """Close this thread's connection for generations (tests; a process exit does it otherwise)."""
        if isinstance(self.generations, DbGenerations):
            self.generations.close()


def _cache() -> PageCache | None:
    cache: PageCache | None = current_app.extensions.get("pagecache")
    return cache


# ---------------------------------------------------------------- write side


def note(session: Session, keys: Iterable[str] | None) -> None:
    """Remember keys to bump at commit; None (an unmapped write) bumps ``global``."""
    session.info.setdefault(BUMPS, set()).update({GLOBAL} if keys is None else keys)


def on_event(event: Event) -> None:
    """Subscriber of every domain event: its question's page and the lists, or its article."""
    keys: set[str] = set()
    if event.question_id is not None:
        keys |= {f"questions:{event.question_id}", LISTS}
    if isinstance(event, ArticleChanged):
        keys |= {f"articles:{event.article_id}", ARTICLES}
    if keys:
        note(db.session(), keys)


def _row_of(obj: Any) -> tuple[str, dict[str, Any]] | None:
    state = inspect(obj)
    table = getattr(state.mapper.local_table, "name", None)
    if table is None:
        return None
    row: dict[str, Any] = {}
    loaded = state.dict
    for attr in state.mapper.column_attrs:
        name = attr.columns[0].name
        if name in KEY_COLUMNS and attr.key in loaded:
            row[name] = loaded[attr.key]
    if row.get("id") is None and state.identity is not None and len(state.identity) == 1:
        row["id"] = state.identity[0]
    return table, row


def _after_flush(session: Session, flush_context: Any) -> None:
    if not _app_has_cache():
        return
    for obj in [*session.new, *session.dirty, *session.deleted]:
        found = _row_of(obj)
        if found is None:
            note(session, None)
        else:
            note(session, keys_for_row(*found))


def _on_execute(state: ORMExecuteState) -> None:
    if not _app_has_cache():
        return
    stmt = state.statement
    if not isinstance(stmt, Insert | Update | Delete):
        if isinstance(stmt, TextClause):
            words = stmt.text.lstrip().split(None, 1)[:1]
            if words and words[0].upper() in {"INSERT", "UPDATE", "DELETE", "REPLACE"}:
                note(state.session, None)  # raw SQL we cannot map
        return
    table = getattr(stmt.table, "name", None)
    if table is None or table in IRRELEVANT:
        return
    if table == "announcements":
        note(state.session, {BANNERS})
        return
    columns = [stmt.table.c[name] for name in KEY_COLUMNS if name in stmt.table.c]
    if isinstance(stmt, Insert):
        inserted = _insert_rows(stmt, state.parameters, state.session)
        if inserted is None:
            note(state.session, None)
        for row in inserted or ():
            note(state.session, keys_for_row(table, row))
        return
    where = stmt.whereclause
    if where is None:
        note(state.session, None)
        return
    rows = state.session.execute(select(*columns).where(where).limit(_PRESELECT_LIMIT + 1)).mappings().all()
    if len(rows) > _PRESELECT_LIMIT:
        note(state.session, None)
        return
    for mapped in rows:
        note(state.session, keys_for_row(table, dict(mapped)))


def _insert_rows(stmt: Insert, parameters: Any, session: Session) -> list[dict[str, Any]] | None:
    """The KEY_COLUMNS values of the rows an INSERT writes (from .values() or executemany
    parameters); None when they cannot be read (INSERT … SELECT), which bumps ``global``."""
    rows: list[dict[str, Any]] = []
    if getattr(stmt, "select", None) is not None:
        return None
    try:
        params = stmt.compile(dialect=session.get_bind().dialect).params
    except Exception:  # noqa: BLE001 - whatever the compiler refuses, the write is not mapped
        return None
    multi = [k for k in params if "_m" in k]
    if multi:
        count = 1 + max(int(k.rsplit("_m", 1)[1]) for k in multi if k.rsplit("_m", 1)[1].isdigit())
        for i in range(count):
            rows.append({c: params[f"{c}_m{i}"] if i else params.get(c, params.get(f"{c}_m0"))
                         for c in KEY_COLUMNS if f"{c}_m{i}" in params or (i == 0 and c in params)})
    elif any(c in params for c in KEY_COLUMNS):
        rows.append({c: params[c] for c in KEY_COLUMNS if c in params})
    extra = parameters if isinstance(parameters, list) else [parameters] if parameters else []
    rows.extend({c: p[c] for c in KEY_COLUMNS if c in p} for p in extra if isinstance(p, Mapping))
    return rows or [{}]


def _before_commit(session: Session) -> None:
    """DB generations: bump inside the writer's transaction, after its last flush."""
    cache = _cache() if _app_has_cache() else None
    if cache is None or not isinstance(cache.generations, DbGenerations):
        return
    session.flush()
    keys = session.info.pop(BUMPS, None)
    if keys:
        cache.generations.bump(session, keys)
        # Search pages read the index, which is written after the commit (forum/search_sync.py):
        # bump their keys once more then, or a search rendered in between would be stored as new.
        session.info[REBUMP] = keys & {LISTS, ARTICLES}


def _after_commit(session: Session) -> None:
    """Redis generations: bump once the transaction really committed (after the index write:
    this hook is registered after search_sync's). DB generations: the second bump of REBUMP."""
    keys = session.info.pop(BUMPS, None)
    again = session.info.pop(REBUMP, None)
    if not (keys or again) or not _app_has_cache():
        return
    cache = _cache()
    try:
        if keys and cache is not None and isinstance(cache.generations, RedisGenerations):
            cache.generations.bump(session, keys)
        elif again and cache is not None and isinstance(cache.generations, DbGenerations):
            with db.engine.begin() as connection:
                cache.generations.bump(connection, again)
    except Exception:
        # The write is committed; the pages it touched expire within PAGE_CACHE_TTL.
        current_app.logger.exception("page cache: generation bump failed")


def _app_has_cache() -> bool:
    try:
        return "pagecache" in current_app.extensions
    except RuntimeError:
        return False


# ---------------------------------------------------------------- read side


def _signed_in() -> bool:
    return bool(session.get("_user_id")) or request.cookies.get(current_app.config.get(
        "REMEMBER_COOKIE_NAME", "remember_token")) is not None


def _cache_key() -> str | None:
    """The page's key, or None when this request must not be served from or into the cache."""
    if request.method != "GET" or request.endpoint not in ENDPOINT_KEYS:
        return None
    if _signed_in() or session.get("_flashes"):
        return None
    query = "&".join(f"{k}={v}" for k, v in sorted(request.args.items(multi=True)))
    # Banners an anonymous visitor dismissed live in their session: one variant per set.
    dismissed = ",".join(str(i) for i in sorted(session.get("dismissed", [])))
    return f"{request.host}{request.path}?{query}|d={dismissed}"


def page_cache_shared() -> bool:
    """Template global: is this page being rendered for the shared cache? Then it must not embed
    anything of this visitor's session (the CSRF token)."""
    return has_request_context() and g.get("page_cache") is not None


def _own_keys() -> set[str]:
    args = request.view_args or {}
    return {k.format(**args) for k in ENDPOINT_KEYS[str(request.endpoint)]} | {GLOBAL, BANNERS}


def _serve() -> Response | None:
    cache = _cache()
    key = _cache_key() if cache is not None else None
    if cache is None or key is None:
        return None
    raw = cache.pages.get(key)
    if raw is not None:
        head, _, body = raw.partition(b"\n")
        meta = json.loads(head)
        if meta["until"] > time.time() and cache.generations.read(meta["deps"]) == meta["deps"]:
            response = Response(body, status=200, content_type=meta["type"])
            response.headers[HEADER] = "HIT"
            return response
    g.page_cache = {"key": key, "deps": _own_keys(), "seq": cache.generations.read([SEQ])[SEQ]}
    return None


def _record_load(target: Any, context: Any) -> None:
    """ORM load hook: a row rendered on a page being cached becomes one of its dependencies."""
    if not has_request_context():
        return
    pending = g.get("page_cache")
    if pending is None:
        return
    state = inspect(target)
    table = getattr(state.mapper.local_table, "name", None)
    if table and table not in IRRELEVANT and state.identity is not None:
        pending["deps"].add(f"{table}:{':'.join(str(i) for i in state.identity)}")


def _next_banner_change(now: datetime) -> float | None:
    """When a scheduled banner starts or a running one ends: a page must not outlive that moment."""
    nearest = db.session.execute(select(func.min(Announcement.starts_at)).where(Announcement.starts_at > now)).scalar()
    ending = db.session.execute(select(func.min(Announcement.ends_at)).where(Announcement.ends_at > now)).scalar()
    times = [t for t in (nearest, ending) if t is not None]
    if not times:
        return None
    return min(t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t for t in times).timestamp()


def _store(response: Response) -> Response:
    pending = g.pop("page_cache", None)
    cache = _cache()
    if pending is None or cache is None:
        return response
    response.headers[HEADER] = "MISS"
    if (response.status_code != 200 or response.mimetype != "text/html" or response.direct_passthrough
            or session.modified or "Set-Cookie" in response.headers or _signed_in()):
        return response
    deps = cache.generations.read(pending["deps"] | {SEQ})
    if deps.pop(SEQ) != pending["seq"]:
        return response  # a write committed while this page rendered: it may hold either state
    until = time.time() + cache.ttl
    change = _next_banner_change(datetime.now(timezone.utc))
    if change is not None:
        until = min(until, change)
    meta = json.dumps({"deps": deps, "type": response.content_type, "until": until}).encode()
    cache.pages.set(pending["key"], meta + b"\n" + response.get_data(), int(until - time.time()))
    return response


def clear() -> None:
    """Drop every stored page and bump ``global`` (other processes' pages become misses)."""
    cache = _cache()
    if cache is None:
        return
    cache.pages.clear()
    session = db.session()
    if isinstance(cache.generations, DbGenerations):
        cache.generations.bump(session, {GLOBAL})
        session.commit()
    else:
        cache.generations.bump(session, {GLOBAL})


@click.group("cache")
def cache_cli() -> None:
    """The anonymous page cache."""


@cache_cli.command("clear")
@with_appcontext
def clear_command() -> None:
    """Empty the page cache (every process's pages are misses from now on)."""
    if _cache() is None:
        click.echo("The page cache is off (PAGE_CACHE_ENABLED).")
        return
    clear()
    click.echo("Page cache cleared.")


_hooks_installed = False


def init_app(app: Flask) -> None:
    """Serve and store pages when PAGE_CACHE_ENABLED; the write hooks are installed either way
    (once per process), since another app in the process may cache."""
    global _hooks_installed
    app.cli.add_command(cache_cli)
    if not _hooks_installed:
        from flask_sqlalchemy.session import Session as FlaskSession

        event.listen(FlaskSession, "do_orm_execute", _on_execute)
        event.listen(FlaskSession, "before_commit", _before_commit)
        event.listen(Mapper, "load", _record_load)  # every mapped class
        after_real_commit("pagecache", _after_flush, _after_commit, (BUMPS, REBUMP))
        _hooks_installed = True
    if not app.config.get("PAGE_CACHE_ENABLED"):
        return
    app.extensions["pagecache"] = PageCache(app)
    app.before_request(_serve)
    app.after_request(_store)
