"""Small tables every write reads, kept in each process and exact across hosts.

Every post is checked against the watched words, and every post, vote or acceptance asks which
webhook endpoints listen: two SELECTs through the ORM, about 0.9 ms of CPU a post (profiled
in ``tools.bench.writes``), for tables that change a few times a month. The page cache already
has what keeping them needs: a generation per key, shared by every process and host (Redis, or
the ``page_cache_generations`` table), bumped by every write through the session
(``writes.py``: ``keys_for_row`` maps a row of one of these tables to its ``table:<name>``
key). So a process keeps what it loaded together with the generations it read *before*
loading, and loads again once they moved: after another host's change as soon as that change
committed (the same moment a cached page would go), never on a timer. One read of three keys
(both tables' and ``global``: an MGET, or a SELECT on the generations' own connection) per
transaction replaces both queries.

Not kept: without the page cache (``PAGE_CACHE_ENABLED`` off) there are no generations; inside
a transaction that itself wrote the table (its bump is not visible before the commit) and while
the generations cannot be read (Redis down: the post still goes through) the loader runs every
time, as before; and a kept copy is loaded again once it is ``PAGE_CACHE_TTL`` old, as a page
expires, in case a bump was lost with Redis.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy.orm import Session

from ..database import after_real_commit
from ..extensions import db
from .keys import BUMPS, GLOBAL, KEPT_TABLES
from .store import cache_enabled, current_cache

T = TypeVar("T")
log = logging.getLogger(__name__)

EXTENSION = "pagecache.tables"
SEEN = "pagecache.tables.seen"  # session.info: the generations this transaction read


def kept(table: str, loader: Callable[[], T]) -> T:
    """``loader()``, the rows of ``table`` (one of ``KEPT_TABLES``) as plain values, loaded
    again only when a write to the table (or one that bumps ``global``) committed since.

    ``loader`` must return values that outlive the session (no ORM instances: they would be
    detached after the request) and that nobody mutates. Raises what ``loader`` raises, and
    KeyError for a table that is not in ``KEPT_TABLES``.
    """
    key = KEPT_TABLES[table]
    cache = current_cache() if cache_enabled() else None
    session = db.session()
    pending = session.info.get(BUMPS)
    if cache is None or (pending and (key in pending or GLOBAL in pending)):
        return loader()
    # Read before loading: a write committing in between leaves newer rows under an older
    # generation, which the next read finds moved (loaded again), never the other way round.
    # One read for every kept table, reused until the transaction ends (a post asks for two).
    transaction = session.get_transaction()
    memo: tuple[Any, dict[str, int]] | None = session.info.get(SEEN)
    if memo is not None and transaction is not None and memo[0] is transaction:
        seen = memo[1]
    else:
        try:
            seen = cache.generations.read([*KEPT_TABLES.values(), GLOBAL])
        except Exception:  # Redis down: the post goes on, reading the table itself
            log.warning("kept tables: generations unreadable; %s read from the database", table, exc_info=True)
            return loader()
        if transaction is not None:
            session.info[SEEN] = (transaction, seen)
    version = (seen[key], seen[GLOBAL])
    held: dict[str, tuple[tuple[int, int], float, Any]] = current_app.extensions.setdefault(EXTENSION, {})
    found = held.get(table)
    now = time.monotonic()
    # PAGE_CACHE_TTL bounds it as it bounds a page: a bump lost with Redis down is not forever.
    if found is not None and found[0] == version and now - found[1] < current_app.config["PAGE_CACHE_TTL"]:
        return found[2]
    value = loader()
    held[table] = (version, now, value)  # one assignment: no lock needed between threads
    return value


def _transaction_ended(session: Session) -> None:
    session.info.pop(SEEN, None)


def init_app() -> None:
    """Forget the generations read once the transaction that read them ends (once per process)."""
    after_real_commit("pagecache.tables", None, _transaction_ended, (SEEN,))

