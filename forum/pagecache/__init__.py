"""Whole anonymous pages from a cache, never stale: dependency generations.

Serving: a ``before_request`` hook answers an anonymous GET of a cacheable page (home, question
lists, tags, a question, articles, search) from the cache, before the view, Flask-Login or any
page query runs. Signed-in visitors (a session with ``_user_id`` or a remember-me cookie), a
pending flash message, and every other method bypass it. An ``after_request`` hook stores a
200 HTML (or Atom feed) answer that set no cookie (a session write would mean the page was personal).

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

import hashlib
import json
import time
from datetime import datetime, timezone
from typing import Any

import click
from flask import Flask, Response, current_app, g, has_request_context, request, session
from flask.cli import with_appcontext
from flask_login import current_user
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Mapper

from ..extensions import db
from ..models import Announcement
from ..theme import current_theme
from . import tables, writes
from .hits import install as install_fast_hits
from .hits import lookup, page_key
from .keys import (
    BANNERS,
    CACHEABLE_TYPES,
    ENDPOINT_KEYS,
    GLOBAL,
    HEADER,
    IRRELEVANT,
    SEQ,
    VIEWERS,
    keys_for_row,
    viewer_key,
)
from .store import DbGenerations, PageCache, current_cache
from .writes import note, on_event

__all__ = [
    "PageCache", "clear", "init_app", "keys_for_row", "note", "on_event", "page_cache_shared", "private_hit",
]


def _signed_in() -> bool:
    return bool(session.get("_user_id")) or request.cookies.get(current_app.config.get(
        "REMEMBER_COOKIE_NAME", "remember_token")) is not None


def _cache_key() -> str | None:
    """The page's key, or None when this request must not be served from or into the cache."""
    if request.method != "GET" or request.endpoint not in ENDPOINT_KEYS:
        return None
    if _signed_in() or session.get("_flashes"):
        return None
    return page_key(request, session.get("dismissed", []), current_theme())


def page_cache_shared() -> bool:
    """Template global: is this page being rendered for the shared cache? Then it must not embed
    anything of this visitor's session (the CSRF token). A signed-in member's own cached page
    (``private_hit``) is theirs alone and keeps its forms."""
    if not has_request_context():
        return False
    pending = g.get("page_cache")
    return pending is not None and not pending.get("private")


#: Endpoints a signed-in member's own page may be kept for (``private_hit``).
PRIVATE_ENDPOINTS = frozenset({"questions.show"})


def _private_key(user: Any) -> str | None:
    """The key of this signed-in member's page, or None when it must be rendered afresh: not a
    GET of a PRIVATE_ENDPOINTS page, staff (their pages show the support desk's private rows,
    which no generation follows), a pending flash message, or a session without its CSRF secret
    yet (the render adds one: the page would not be stored anyway)."""
    if request.method != "GET" or request.endpoint not in PRIVATE_ENDPOINTS or session.get("_flashes"):
        return None
    if not current_app.config.get("PAGE_CACHE_SIGNED_IN") or user.is_staff:
        return None
    secret = session.get("csrf_token")
    if not secret:
        return None
    # The session's CSRF secret is in the key: a page is only ever served to the session whose
    # token it embeds (a new sign-in is a new session, a new secret, a miss).
    session_tag = hashlib.sha256(str(secret).encode()).hexdigest()[:16]
    return f"u{user.id}:{session_tag}:" + page_key(request, session.get("dismissed", []), current_theme())


def private_hit() -> Response | None:
    """In the view, after every before-request hook and Flask-Login have accepted the visitor:
    this signed-in member's own copy of the page, if it is still exact; otherwise None, and the
    page is marked to be stored after it renders.

    Depends on what the anonymous page does (the rows loaded, the page's keys), on the member's
    row (``users:<id>``: reputation, role, badges decide what they may do) and on their own state
    (``viewer:<id>``, ``viewers``: votes, follows, drafts, the bell, dismissed banners; see
    ``keys.VIEWER_COLUMNS``). Kept in this process only (``PAGE_CACHE_SIGNED_IN_MAX_BYTES``), apart
    from the shared pages, so members' pages never push the anonymous ones out. Never raises: a
    cache that cannot be reached renders the page."""
    cache = current_cache()
    if cache is None or not current_user.is_authenticated:
        return None
    try:
        user = current_user._get_current_object()
        key = _private_key(user)
        if key is None:
            return None
        found = lookup(cache, key, cache.private_pages)
        if found is not None:
            response = Response(found[0], status=200, content_type=found[1])
            response.headers[HEADER] = "HIT"
            return response
        deps = _own_keys() | {f"users:{user.id}", viewer_key(user.id), VIEWERS}
        g.page_cache = {"key": key, "deps": deps, "seq": cache.generations.read([SEQ])[SEQ], "private": True}
    except Exception:  # any failure of the cache must leave the page working
        g.pop("page_cache", None)
        current_app.logger.warning("page cache unavailable", exc_info=True)
    return None


def _own_keys() -> set[str]:
    args = request.view_args or {}
    return {k.format(**args) for k in ENDPOINT_KEYS[str(request.endpoint)]} | {GLOBAL, BANNERS}


def _serve() -> Response | None:
    """before_request: answer from the cache, or mark the page to be stored after it renders.

    A cache that cannot be reached (Redis down, a database without the migration) serves the
    page uncached rather than failing it; the error is logged.
    """
    try:
        return _serve_or_mark()
    except Exception:  # any failure of the cache must leave the page working
        g.pop("page_cache", None)
        current_app.logger.warning("page cache unavailable", exc_info=True)
        return None


def _serve_or_mark() -> Response | None:
    cache = current_cache()
    key = _cache_key() if cache is not None else None
    if cache is None or key is None:
        return None
    found = lookup(cache, key)
    if found is not None:
        response = Response(found[0], status=200, content_type=found[1])
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
    """after_request: store a page rendered for the cache (see _serve); never fails the response."""
    try:
        return _store_page(response)
    except Exception:  # the page itself is fine; only storing it failed
        current_app.logger.warning("page cache: storing failed", exc_info=True)
        return response


def _store_page(response: Response) -> Response:
    pending = g.pop("page_cache", None)
    cache = current_cache()
    if pending is None or cache is None:
        return response
    response.headers[HEADER] = "MISS"
    private = bool(pending.get("private"))
    if (response.status_code != 200 or response.mimetype not in CACHEABLE_TYPES or response.direct_passthrough
            or session.modified or "no-store" in response.headers.get("Cache-Control", "")):  # views/private.py
        return response
    # A shared page must have set no cookie and have been rendered for nobody in particular; a
    # member's own page is theirs (their session's cookie is Flask's, written on a hit too).
    if not private and ("Set-Cookie" in response.headers or _signed_in()):
        return response
    deps = cache.generations.read(pending["deps"] | {SEQ})
    if deps.pop(SEQ) != pending["seq"]:
        return response  # a write committed while this page rendered: it may hold either state
    until = time.time() + cache.ttl
    change = _next_banner_change(datetime.now(timezone.utc))
    if change is not None:
        until = min(until, change)
    meta = json.dumps({"deps": deps, "type": response.content_type, "until": until}).encode()
    pages = cache.private_pages if private else cache.pages
    pages.set(pending["key"], meta + b"\n" + response.get_data(), int(until - time.time()))
    return response


def clear() -> None:
    """Drop every stored page and bump ``global`` (other processes' pages become misses)."""
    cache = current_cache()
    if cache is None:
        return
    cache.pages.clear()
    cache.private_pages.clear()
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
    if current_cache() is None:
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
    writes.install()
    tables.init_app()
    if not _hooks_installed:
        event.listen(Mapper, "load", _record_load)  # every mapped class
        _hooks_installed = True
    if not app.config.get("PAGE_CACHE_ENABLED"):
        return
    app.extensions["pagecache"] = PageCache(app)
    app.before_request(_serve)
    app.after_request(_store)
    install_fast_hits(app)
