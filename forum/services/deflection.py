"""Measuring deflection: the moments a customer found an answer instead of asking.

Rules (docs/insights.md, "Measuring deflection"):

- Window kinds ("suggestion", "search", "abandon") come from the browser's beacon
  (``POST /insights/beacon``, views/deflection.py) and wait as *pending* raw events with the
  visitor's random per-session id (and their member id when signed in). A visitor holds at most
  one pending window event: a later one within the window replaces its kind and target and
  restarts its clock, so three suggestions opened and then nothing is one deflection, credited
  to the last thing opened. "abandon" (the ask page showed suggestions) never replaces an opened
  suggestion or search result; they replace it.
- Asking a question (``question_asked``, subscribed to QuestionAsked) turns the asker's pending
  events within the window into "asked": not counted, visitor and member erased.
- ``resolve_due`` turns pending events whose window has closed into "deflected": counted in
  ``insight_daily`` (the event's UTC day), visitor and member erased. ``purge`` deletes raw rows
  older than INSIGHTS_RETENTION_DAYS. The job worker's periodic tick and ``flask insights
  sweep`` (cron) run both through ``sweep``.
- Immediate kinds ("solved_too", "article_helpful") are counted at once, in the writer's
  transaction, by the subscribers ``solved_too_changed`` and ``article_rated``.
- Every search a person runs adds 1 to kind "searches"; one that found nothing adds 1 to
  ``search_misses_daily`` for its normalised query (``record_search``, called after the
  response, so pages served from the page cache count too).

Nothing is recorded while INSIGHTS_ENABLED is off, for crawlers and scripts
(``viewcounts.is_bot``), or for staff (agents, moderators, admins: they preview suggestions
and search all day; they are not the customers being deflected).
"""
from __future__ import annotations

import csv
import json
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import IO, Any, Literal

from flask import current_app, has_request_context, request, session
from sqlalchemy import Connection, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .. import viewcounts
from ..events import ArticleRated, QuestionAsked, SolvedTooChanged
from ..extensions import db
from ..models import Article, DeflectionEvent, InsightDaily, Question, SearchMissDaily, User
from ..models.base import utcnow
from ..viewcounts import is_bot
from .errors import FieldError

#: The kinds that count as deflections, in display order.
DEFLECTION_KINDS: tuple[str, ...] = ("suggestion", "search", "solved_too", "article_helpful", "abandon")
#: Kinds that wait for their window (a question from the same visitor cancels them).
WINDOW_KINDS: tuple[str, ...] = ("suggestion", "search", "abandon")
#: insight_daily kind holding the number of searches per day (target ""/0): the denominator.
SEARCHES = "searches"
KIND_LABELS: dict[str, str] = {
    "suggestion": "Suggestion opened on the ask page",
    "search": "Search led to an answer",
    "solved_too": "“This solved my problem too”",
    "article_helpful": "Article rated helpful",
    "abandon": "Question abandoned after suggestions",
    SEARCHES: "Searches",
}
TARGET_TYPES: tuple[str, ...] = ("question", "article")
#: The session key of the visitor's random id (short: it rides in every cookie).
VISITOR_KEY = "dv"
#: Rows per statement in the sweep and the purge.
BATCH = 500
QUERY_MAX = 100

ExportFormat = Literal["csv", "jsonl"]
ExportTable = Literal["daily", "search-misses"]


# ---------------------------------------------------------------- settings and who counts


def enabled() -> bool:
    return bool(current_app.config.get("INSIGHTS_ENABLED", True))


def window() -> timedelta:
    """The deflection window (DEFLECTION_WINDOW_MINUTES, read at each call: a run-time setting)."""
    return timedelta(minutes=int(current_app.config["DEFLECTION_WINDOW_MINUTES"]))


def retention() -> timedelta:
    return timedelta(days=int(current_app.config["INSIGHTS_RETENTION_DAYS"]))


def counts_for(user: Any, user_agent: str | None) -> bool:
    """Whether what this viewer does is measured: the setting is on, the client is not a crawler
    or script, and the viewer is not staff."""
    if not enabled() or is_bot(user_agent):
        return False
    return not (getattr(user, "is_authenticated", False) and getattr(user, "is_staff", False))


def _request_user_agent() -> str | None:
    """The User-Agent of the request being answered; None outside a request (CLI, jobs), where
    no crawler can be behind the write."""
    return request.headers.get("User-Agent") if has_request_context() else "forum"


# ---------------------------------------------------------------- the visitor's random id


def visitor_id() -> str:
    """This browser session's random id, created on first need (kept in the signed session
    cookie under VISITOR_KEY; never derived from the member, the address or the browser)."""
    value = session.get(VISITOR_KEY)
    if not isinstance(value, str) or not value:
        value = secrets.token_urlsafe(16)
        session[VISITOR_KEY] = value
    return value


def current_visitor() -> str | None:
    """The visitor id of the request being answered, without creating one (None: none yet, or
    no request)."""
    if not has_request_context():
        return None
    value = session.get(VISITOR_KEY)
    return value if isinstance(value, str) and value else None


def keep_visitor(value: str | None) -> None:
    """Put a visitor id back into a session that was just cleared (sign-in starts a fresh
    session; the id is random and grants nothing, and keeping it lets a question asked right
    after signing in cancel what the visitor opened before)."""
    if value:
        session[VISITOR_KEY] = value


# ---------------------------------------------------------------- daily counts


def _insert_for(bind: Session | Connection) -> Callable[..., Any]:
    name = bind.get_bind().dialect.name if isinstance(bind, Session) else bind.dialect.name
    return pg_insert if name == "postgresql" else sqlite_insert


def add_daily(rows: Counter[tuple[date, str, str, int]], bind: Session | Connection | None = None) -> None:
    """Add counts to insight_daily: ``{(day, kind, target_type, target_id): n}``.

    One atomic upsert per row (``count = count + n``), so concurrent writers never lose a count.
    ``bind``: the request's session (default) or a connection of its own.
    """
    if not rows:
        return
    target = bind if bind is not None else db.session()
    insert = _insert_for(target)
    table = InsightDaily.__table__
    for (day, kind, target_type, target_id), n in sorted(rows.items()):
        stmt = insert(table).values(day=day, kind=kind, target_type=target_type, target_id=target_id, count=n)
        target.execute(stmt.on_conflict_do_update(
            index_elements=["day", "kind", "target_type", "target_id"],
            set_={"count": table.c.count + stmt.excluded.count}))


def add_misses(rows: Counter[tuple[date, str]], bind: Session | Connection | None = None) -> None:
    """Add counts to search_misses_daily: ``{(day, normalised query): n}`` (atomic upserts)."""
    if not rows:
        return
    target = bind if bind is not None else db.session()
    insert = _insert_for(target)
    table = SearchMissDaily.__table__
    for (day, query), n in sorted(rows.items()):
        stmt = insert(table).values(day=day, query=query, count=n)
        target.execute(stmt.on_conflict_do_update(index_elements=["day", "query"],
                                                  set_={"count": table.c.count + stmt.excluded.count}))


# ---------------------------------------------------------------- the beacon


def _target_ok(kind: str, target_type: str, target_id: int) -> bool:
    """Whether the opened thing exists and anyone may see it; for a search click-through, whether
    it is an answer: a question with an accepted answer, or a published article."""
    if target_type == "question":
        question = db.session.get(Question, target_id)
        if question is None or not question.is_visible:
            return False
        return kind != "search" or question.accepted_answer_id is not None
    article = db.session.get(Article, target_id)
    return article is not None and article.state == "published"


def _parse_target(kind: str, target_type: str, target_id: str) -> tuple[str, int]:
    if kind == "abandon":
        return "", 0
    if target_type not in TARGET_TYPES:
        raise FieldError("target_type", "The target type must be question or article.")
    if not re.fullmatch(r"[1-9][0-9]{0,17}", target_id or ""):
        raise FieldError("target_id", "The target id must be a positive number.")
    return target_type, int(target_id)


def record_beacon(viewer: Any, visitor: Callable[[], str], kind: str, target_type: str, target_id: str,
                  user_agent: str | None, now: datetime | None = None) -> bool:
    """Record what the browser reported: a suggestion or search result opened, or suggestions
    shown on the ask page ("abandon", no target). Returns whether anything was recorded.

    ``visitor`` gives this browser's random id (called only when something is recorded, so an
    ignored beacon sets no cookie). Ignored (False): the setting off, a crawler, staff, a target
    that does not exist or is hidden, deleted or unpublished, a search click on a question with
    no accepted answer, an "abandon" while an opened suggestion or result is pending.
    Raises FieldError for a malformed beacon (unknown kind or target type, a bad id).
    """
    if kind not in WINDOW_KINDS:
        raise FieldError("kind", "Unknown kind.")
    target = _parse_target(kind, target_type, target_id)
    if not counts_for(viewer, user_agent):
        return False
    if target[0] and not _target_ok(kind, *target):
        return False
    now = now or utcnow()
    visitor_key = visitor()
    user_id = viewer.id if getattr(viewer, "is_authenticated", False) else None
    pending = db.session.scalar(
        select(DeflectionEvent).where(DeflectionEvent.visitor == visitor_key, DeflectionEvent.status == "pending",
                                      DeflectionEvent.created_at > now - window())
        .order_by(DeflectionEvent.id.desc()).limit(1).with_for_update())
    if pending is None:
        db.session.add(DeflectionEvent(created_at=now, kind=kind, visitor=visitor_key, user_id=user_id,
                                       target_type=target[0], target_id=target[1]))
    elif kind == "abandon" and pending.kind != "abandon":
        return False  # an opened suggestion or result is the better explanation: keep it
    else:
        # One pending event per visitor: the latest thing opened, its clock restarted.
        pending.kind, (pending.target_type, pending.target_id) = kind, target
        pending.created_at = now
        pending.user_id = user_id or pending.user_id
    db.session.flush()
    return True


# ---------------------------------------------------------------- subscribers


def question_asked(event: QuestionAsked) -> None:
    """In the transaction: the asker's pending events within the window become "asked" (not
    counted), matched by this request's visitor id or by the member; both are erased."""
    now = utcnow()
    visitor = current_visitor()
    who = [DeflectionEvent.user_id == event.author_id]
    if visitor is not None:
        who.append(DeflectionEvent.visitor == visitor)
    db.session.execute(
        update(DeflectionEvent)
        .where(DeflectionEvent.status == "pending", DeflectionEvent.created_at > now - window(), or_(*who))
        .values(status="asked", visitor=None, user_id=None, resolved_at=now)
        .execution_options(synchronize_session=False))


def _immediate(user_id: int, kind: str, target_type: str, target_id: int) -> None:
    user = db.session.get(User, user_id)
    if not counts_for(user, _request_user_agent()):
        return
    add_daily(Counter({(utcnow().date(), kind, target_type, target_id): 1}))


def solved_too_changed(event: SolvedTooChanged) -> None:
    """In the transaction: a new "This solved my problem too" mark is a deflection today.

    Taking a mark back does not decrement: the event does not say on which day the mark was
    made, and the member did find the answer then.
    """
    if event.marked and event.question_id is not None:
        _immediate(event.user_id, "solved_too", "question", event.question_id)


def article_rated(event: ArticleRated) -> None:
    """In the transaction: "Was this helpful? Yes" on an article is a deflection today (a
    change from No to Yes too; a change to No takes nothing back)."""
    if event.helpful:
        _immediate(event.user_id, "article_helpful", "article", event.article_id)


# ---------------------------------------------------------------- searches


def normalise_query(query: str) -> str:
    """Lowercase, whitespace collapsed, at most QUERY_MAX characters ("" for an empty query)."""
    return " ".join(query.lower().split())[:QUERY_MAX].rstrip()


def record_search(viewer: Any, query: str, found: bool, user_agent: str | None,
                  today: date | None = None) -> bool:
    """Count one search (kind "searches") and, when it found nothing, its normalised query in
    search_misses_daily. Returns whether it was counted (not: setting off, crawler, staff).

    Never a database write per search: the counts wait with the page views (Redis or this
    process, ``viewcounts.count_search``) and reach the tables with their flush. Only without
    that store (VIEW_COUNTS_ENABLED off) is it written at once, on a connection of its own
    (this runs after a GET, which never commits the request's session). Raises the database's
    or Redis's error.
    """
    if not counts_for(viewer, user_agent):
        return False
    today = today or utcnow().date()
    missed = normalise_query(query) if not found else ""
    if viewcounts.count_search(today, missed):
        return True
    with db.engine.begin() as connection:  # no batching here (VIEW_COUNTS_ENABLED off): write now
        add_daily(Counter({(today, SEARCHES, "", 0): 1}), connection)
        if missed:
            add_misses(Counter({(today, missed): 1}), connection)
    return True


# ---------------------------------------------------------------- sweep and purge


@dataclass(frozen=True)
class SweepReport:
    deflected: int
    purged: int


def resolve_due(now: datetime | None = None) -> int:
    """Count every pending event whose window has closed (created before ``now`` − window) as a
    deflection on its UTC day, erase its visitor and member, and mark it resolved. Returns how
    many. Batched; idempotent: each row is counted by the one UPDATE that moved it out of
    "pending" (RETURNING), so overlapping sweeps never count a row twice. The caller commits.
    """
    now = now or utcnow()
    cutoff = now - window()
    total = 0
    while True:
        ids = select(DeflectionEvent.id).where(DeflectionEvent.status == "pending",
                                               DeflectionEvent.created_at <= cutoff).order_by(DeflectionEvent.id)
        batch = list(db.session.scalars(ids.limit(BATCH)))
        if not batch:
            return total
        moved = db.session.execute(
            update(DeflectionEvent)
            .where(DeflectionEvent.id.in_(batch), DeflectionEvent.status == "pending")
            .values(status="deflected", visitor=None, user_id=None, resolved_at=now)
            .returning(DeflectionEvent.created_at, DeflectionEvent.kind, DeflectionEvent.target_type,
                       DeflectionEvent.target_id)
            .execution_options(synchronize_session=False)).all()
        add_daily(Counter((created.date(), kind, target_type, target_id)
                          for created, kind, target_type, target_id in moved))
        total += len(moved)


def purge(now: datetime | None = None) -> int:
    """Delete raw events older than the retention (INSIGHTS_RETENTION_DAYS); returns how many.

    Pending events are left for ``resolve_due`` (``sweep`` runs it first), so a count is never
    lost. Batched; idempotent. The caller commits.
    """
    cutoff = (now or utcnow()) - retention()
    total = 0
    while True:
        batch = list(db.session.scalars(
            select(DeflectionEvent.id).where(DeflectionEvent.created_at < cutoff, DeflectionEvent.status != "pending")
            .order_by(DeflectionEvent.id).limit(BATCH)))
        if not batch:
            return total
        db.session.execute(delete(DeflectionEvent).where(DeflectionEvent.id.in_(batch))
                           .execution_options(synchronize_session=False))
        total += len(batch)


def sweep(now: datetime | None = None) -> SweepReport:
    """``resolve_due`` then ``purge`` (the job worker's tick and ``flask insights sweep``).
    Runs even with INSIGHTS_ENABLED off, so events recorded before it was turned off still
    lose their visitor ids and their raw rows. The caller commits."""
    now = now or utcnow()
    return SweepReport(resolve_due(now), purge(now))


# ---------------------------------------------------------------- export


def _export_rows(table: ExportTable, since: date) -> tuple[list[str], Iterator[dict[str, Any]]]:
    if table == "search-misses":
        fields = ["day", "query", "count"]
        misses = db.session.execute(
            select(SearchMissDaily.day, SearchMissDaily.query, SearchMissDaily.count)
            .where(SearchMissDaily.day >= since).order_by(SearchMissDaily.day, SearchMissDaily.query))
        return fields, (dict(zip(fields, row, strict=True)) for row in misses)
    fields = ["day", "kind", "target_type", "target_id", "count"]
    daily = db.session.execute(
        select(InsightDaily.day, InsightDaily.kind, InsightDaily.target_type, InsightDaily.target_id,
               InsightDaily.count)
        .where(InsightDaily.day >= since)
        .order_by(InsightDaily.day, InsightDaily.kind, InsightDaily.target_type, InsightDaily.target_id))
    return fields, (dict(zip(fields, row, strict=True)) for row in daily)


def export_daily(since: date, fmt: ExportFormat, out: IO[str], table: ExportTable = "daily") -> int:
    """Write the daily aggregates from ``since`` (inclusive) to ``out``; returns the rows written.

    ``table`` "daily": insight_daily rows (day, kind, target_type, target_id, count);
    "search-misses": search_misses_daily rows (day, query, count). Ordered by day, then the
    other key columns. ``fmt`` "csv" (a header line, then one line per row) or "jsonl" (one
    JSON object per line; day as YYYY-MM-DD). Raises ValueError for another format or table.
    """
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"unknown export format {fmt!r}")
    if table not in ("daily", "search-misses"):
        raise ValueError(f"unknown export table {table!r}")
    fields, rows = _export_rows(table, since)
    written = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "day": row["day"].isoformat()})
            written += 1
    else:
        for row in rows:
            out.write(json.dumps({**row, "day": row["day"].isoformat()}, ensure_ascii=False) + "\n")
            written += 1
    return written
