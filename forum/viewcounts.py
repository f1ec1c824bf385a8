"""Page views of questions and articles, counted without a database write per view (and, the
same way, searches per day and the searches that found nothing: ``count_search``).

A view is counted after the response is built (an ``after_request`` hook), so a page served
from the anonymous page cache (its ``before_request`` hook answers before the view runs) counts
as well as a rendered one. Counted: a GET of a question or article page answered 200 to a
visitor whose User-Agent is not a known crawler or script (``BOT_PATTERN``; an empty one
counts as a script). HEAD requests, redirects and errors are not counted. Headless browsers
are counted: they are what people's tools and our own end-to-end tests use, and what
crawlers use too often announces itself ("Googlebot").

Where the counts wait:
- with ``REDIS_URL``, in Redis hashes (``HINCRBY <prefix>:views:question <id> 1``), shared by
  every process and host; a flush takes a hash with ``RENAME`` (atomic), so two hosts flushing
  at once never add the same views twice;
- otherwise in this process's memory, under a lock.

``flush()`` adds what waited to ``questions.view_count`` / ``articles.view_count`` with one
executemany UPDATE per table (``view_count = view_count + n``, rows in id order) on a
connection of its own, in one short transaction, never inside a request's transaction. The
pages of the flushed questions and articles are then bumped in the page cache (in that
transaction with database generations, after it with Redis), so a cached page shows its count
at most one flush late; each viewed page costs one cache miss per flush, not one per view
(lists that show a flushed question are re-rendered too). If the UPDATE fails the counts are
given back to the store for the next flush. A background thread per web
process flushes every VIEW_FLUSH_SECONDS (started by the first counted view in that process,
so forked workers each get their own); ``flask views flush`` flushes on demand (with Redis,
every host's views; without, only its own process's, which is none: use it with Redis or in
tests). Views waiting in a process's memory are flushed when it exits normally; a crash loses
at most one interval of views, which is acceptable for a popularity count.
"""
from __future__ import annotations

import atexit
import logging
import os
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Literal, Protocol, cast

import click
from flask import Flask, Response, current_app, request
from flask.cli import with_appcontext
from redis import Redis
from redis.exceptions import ResponseError
from sqlalchemy import bindparam, update

from .extensions import db
from .models import Article, Question
from .pagecache.hits import COUNT_VIEW
from .pagecache.store import DbGenerations, RedisGenerations, current_cache

log = logging.getLogger(__name__)

Kind = Literal["question", "article"]
Key = tuple[Kind, int]
KINDS: tuple[Kind, ...] = ("question", "article")
SEARCH_KINDS: tuple[str, ...] = ("searches", "misses")
MODELS: dict[Kind, type[Question] | type[Article]] = {"question": Question, "article": Article}
# The pages whose views count: endpoint -> (kind, the view argument holding the id).
PAGES: dict[str, tuple[Kind, str]] = {"questions.show": ("question", "question_id"),
                                      "articles.show": ("article", "article_id")}
# Crawlers, link previewers and scripts. Matched case-insensitively anywhere in the User-Agent.
BOT_PATTERN = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|archiver|curl/|wget/|python-requests|python-urllib|aiohttp|httpx|"
    r"go-http-client|java/|libwww|okhttp|scrapy|facebookexternalhit|embedly|preview|monitor|pingdom|"
    r"uptime|lighthouse", re.IGNORECASE)


def is_bot(user_agent: str | None) -> bool:
    """Whether a request with this User-Agent is a crawler or a script (not counted)."""
    return not (user_agent or "").strip() or BOT_PATTERN.search(user_agent or "") is not None


Field = tuple[str, str]  # (kind, field): ("question", "12"), or ("misses", "2026-12-06\tquery")


class Store(Protocol):
    def add(self, kind: str, field: str) -> None: ...

    def take(self) -> Counter[Field]: ...

    def give_back(self, counts: Counter[Field]) -> None: ...


class MemoryStore:
    """This process's counts, under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[Field] = Counter()

    def add(self, kind: str, field: str) -> None:
        with self._lock:
            self._counts[(kind, field)] += 1

    def take(self) -> Counter[Field]:
        with self._lock:
            taken, self._counts = self._counts, Counter()
        return taken

    def give_back(self, counts: Counter[Field]) -> None:
        with self._lock:
            self._counts.update(counts)


class RedisStore:
    """Counts in one Redis hash per kind (``<prefix>:<name>:<kind>``), shared by every process
    and host."""

    def __init__(self, url: str, prefix: str, name: str, kinds: tuple[str, ...]) -> None:
        self.redis = Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self.prefix = f"{prefix}:{name}"
        self.kinds = kinds

    def _key(self, kind: str) -> str:
        return f"{self.prefix}:{kind}"

    def add(self, kind: str, field: str) -> None:
        self.redis.hincrby(self._key(kind), field, 1)

    def take(self) -> Counter[Field]:
        taken: Counter[Field] = Counter()
        for kind in self.kinds:
            moving = f"{self.prefix}:flushing:{kind}:{uuid.uuid4().hex}"
            try:
                self.redis.rename(self._key(kind), moving)
            except ResponseError:  # "no such key": nothing of this kind since the last flush
                continue
            pipe = self.redis.pipeline()
            pipe.hgetall(moving)
            pipe.delete(moving)
            fields, _ = pipe.execute()
            for field, n in fields.items():
                taken[(kind, field.decode())] += int(n)
        return taken

    def give_back(self, counts: Counter[Field]) -> None:
        pipe = self.redis.pipeline()
        for (kind, field), n in counts.items():
            pipe.hincrby(self._key(kind), field, n)
        pipe.execute()


class ViewCounts:
    """One app's store and its flush thread."""

    def __init__(self, app: Flask) -> None:
        url = app.config.get("REDIS_URL")
        prefix = app.config["REDIS_KEY_PREFIX"]
        self.store: Store = RedisStore(url, prefix, "views", KINDS) if url else MemoryStore()
        # Searches per day and the queries that found nothing (services/deflection.py).
        self.searches: Store = RedisStore(url, prefix, "searches", SEARCH_KINDS) if url else MemoryStore()
        self.every = float(app.config.get("VIEW_FLUSH_SECONDS") or 0)
        self._thread_pid: int | None = None
        self._lock = threading.Lock()

    def start_flusher(self, app: Flask) -> None:
        """Start this process's flush thread once (again in a forked child)."""
        if self.every <= 0 or self._thread_pid == os.getpid():
            return
        with self._lock:
            if self._thread_pid == os.getpid():
                return
            self._thread_pid = os.getpid()
            stop = threading.Event()

            def loop() -> None:
                while not stop.wait(self.every):
                    _flush_quietly(app)

            threading.Thread(target=loop, name="forum-view-flush", daemon=True).start()
            if isinstance(self.store, MemoryStore) or isinstance(self.searches, MemoryStore):
                atexit.register(_flush_quietly, app)


def _counts(app: Flask | None = None) -> ViewCounts | None:
    return (app or current_app).extensions.get("viewcounts")


def record(kind: Kind, ident: int, app: Flask | None = None) -> None:
    """Count one view of a question or article for ``app`` (default: the current one; the page
    cache's WSGI fast path has no app context). Never raises: a store that cannot be reached
    loses the view (logged), never the page."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    counts = _counts(app)
    if counts is None:
        return
    try:
        counts.store.add(kind, str(ident))
    except Exception:  # Redis down: the page matters more than its count
        log.warning("view count unavailable", exc_info=True)
        return
    counts.start_flusher(app)


def flush() -> int:
    """Add every waiting view to the database, after the writers of ``ALSO_FLUSH`` (the search
    counts); returns how many views were written.

    Raises the database's error (the counts are given back to their store first) or Redis's.
    """
    counts = _counts()
    if counts is None:
        return 0
    for writer in current_app.extensions.get(ALSO_FLUSH, ()):
        writer()
    fields = counts.store.take()
    if not fields:
        return 0
    taken: Counter[Key] = Counter({(cast(Kind, kind), int(ident)): n for (kind, ident), n in fields.items()})
    cache = current_cache()
    pages = {f"{MODELS[kind].__tablename__}:{ident}" for kind, ident in taken}
    try:
        with db.engine.begin() as connection:
            for kind in KINDS:
                model = MODELS[kind]
                rows = [{"ident": ident, "n": n} for (k, ident), n in sorted(taken.items()) if k == kind]
                if rows:
                    connection.execute(update(model).where(model.id == bindparam("ident"))
                                       .values(view_count=model.view_count + bindparam("n")), rows)
            if cache is not None and isinstance(cache.generations, DbGenerations):
                cache.generations.bump(connection, pages)
    except Exception:
        counts.store.give_back(fields)
        raise
    if cache is not None and isinstance(cache.generations, RedisGenerations):
        try:
            cache.generations.bump(db.session(), pages)
        except Exception:  # the counts are written; the cached pages show them within PAGE_CACHE_TTL
            log.warning("page cache: bump after the view flush failed", exc_info=True)
    return sum(taken.values())


# ---------------------------------------------------------------- searches
# A search results page may come from the page cache thousands of times a second in a crisis:
# counting it must not write to the database per request either. The counts wait beside the
# views and go to insight_daily ("searches") and search_misses_daily with the same flush.


def count_search(day: date, missed_query: str) -> bool:
    """Count one search on ``day`` and, when ``missed_query`` is not empty, one search that found
    nothing for it. Returns False when counts are off here (the caller writes at once instead).
    Raises Redis's error."""
    counts = _counts()
    if counts is None:
        return False
    counts.searches.add("searches", day.isoformat())
    if missed_query:
        counts.searches.add("misses", f"{day.isoformat()}\t{missed_query}")
    counts.start_flusher(current_app._get_current_object())  # type: ignore[attr-defined]
    return True


def take_searches() -> Counter[Field]:
    """The waiting search counts, taken from their store (give them back if writing fails)."""
    counts = _counts()
    return counts.searches.take() if counts is not None else Counter()


def give_back_searches(taken: Counter[Field]) -> None:
    counts = _counts()
    if counts is not None:
        counts.searches.give_back(taken)


#: The ``app.extensions`` key of the writers every flush of that app runs before the views
#: (services/deflection.py adds its search counts' writer, wired in forum/subscribers.py; this
#: module must not import the services). Per app: two apps in one process (tests) keep their own.
ALSO_FLUSH = "viewcounts.also_flush"


def also_flush(app: Flask, writer: Callable[[], object]) -> None:
    """Have every flush of ``app``'s counts also call ``writer`` (once, however often it is added)."""
    writers: list[Callable[[], object]] = app.extensions.setdefault(ALSO_FLUSH, [])
    if writer not in writers:
        writers.append(writer)


def _flush_quietly(app: Flask) -> None:
    with app.app_context():
        try:
            flush()
        except Exception:  # the next interval tries again with the counts given back
            log.warning("view count flush failed", exc_info=True)


def _counted_page(endpoint: str, view_args: dict[str, object] | None) -> Key | None:
    """The question or article a page of ``endpoint`` with these view arguments shows, if its
    views count (``PAGES``)."""
    page = PAGES.get(endpoint)
    if page is None:
        return None
    kind, arg = page
    ident = (view_args or {}).get(arg)
    return (kind, ident) if isinstance(ident, int) else None


def _count_view(response: Response) -> Response:
    """after_request: count a 200 GET of a question or article page from a person's browser."""
    page = _counted_page(str(request.endpoint), request.view_args)
    if (page is None or request.method != "GET" or response.status_code != 200
            or is_bot(request.headers.get("User-Agent"))):
        return response
    record(*page)
    return response


@click.group("views")
def views_cli() -> None:
    """Page view counts."""


@views_cli.command("flush")
@with_appcontext
def flush_command() -> None:
    """Write the waiting view counts to the database now."""
    click.echo(f"{flush()} views written.")


def init_app(app: Flask) -> None:
    app.cli.add_command(views_cli)
    if not app.config.get("VIEW_COUNTS_ENABLED", True):
        return
    app.extensions["viewcounts"] = ViewCounts(app)
    app.extensions[COUNT_VIEW] = count_hit  # the page cache's fast path counts its hits with it
    app.after_request(_count_view)


def count_hit(app: Flask, endpoint: str, view_args: dict[str, object], user_agent: str | None) -> None:
    """Count a page served by the page cache's WSGI fast path as ``_count_view`` counts a
    rendered one (no app context there). Never raises."""
    page = _counted_page(endpoint, view_args)
    if page is not None and not is_bot(user_agent):
        record(*page, app)
