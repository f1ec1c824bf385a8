"""The write side: what a transaction touched, bumped when it commits."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import current_app, g, has_request_context
from sqlalchemy import Column, ColumnElement, Delete, Insert, Result, Table, TextClause, Update, event, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList

from ..database import after_real_commit
from ..events import ArticleChanged, Event, SiteSettingChanged, TagEdited
from ..extensions import db
from .keys import (
    ARTICLES,
    BANNERS,
    BUMPS,
    GLOBAL,
    IRRELEVANT,
    KEPT_TABLES,
    KEY_COLUMNS,
    LISTS,
    PRESELECT_LIMIT,
    REBUMP,
    VIEWER_COLUMNS,
    VIEWERS,
    keys_for_row,
    viewer_key,
)
from .store import DbGenerations, RedisGenerations, cache_enabled, current_cache


def note(session: Session, keys: Iterable[str] | None) -> None:
    """Remember keys to bump at commit; None (an unmapped write) bumps ``global``.

    A write in a signed-in member's request also bumps their ``viewer:<id>``, whatever it
    touched: their own kept pages (``pagecache.private_hit``) then show everything they did,
    including what no table maps to them (a first post that makes them a member no longer new)."""
    bumps = session.info.setdefault(BUMPS, set())
    bumps.update({GLOBAL} if keys is None else keys)
    if has_request_context():
        user = g.get("_login_user")  # Flask-Login's user of this request, if it was loaded
        if user is not None and user.is_authenticated:
            bumps.add(viewer_key(user.id))


def on_event(event: Event) -> None:
    """Subscriber of every domain event: its question's page and the lists, its article, or its
    tag (TagEdited: the tag page and the lists)."""
    if not cache_enabled():
        return
    keys: set[str] = set()
    if event.question_id is not None:
        keys |= {f"questions:{event.question_id}", LISTS}
    if isinstance(event, ArticleChanged):
        keys |= {f"articles:{event.article_id}", ARTICLES}
    if isinstance(event, TagEdited):
        keys |= {f"tags:{event.tag_id}", LISTS}
    if isinstance(event, SiteSettingChanged):
        # Every signed-in page may show it (a privilege's threshold decides a button); the
        # anonymous ones only when it is on pages (the footer's tagline).
        keys.add(GLOBAL if event.on_pages else VIEWERS)
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
    if not cache_enabled():
        return
    for obj in [*session.new, *session.dirty, *session.deleted]:
        found = _row_of(obj)
        if found is None:
            note(session, None)
        else:
            note(session, keys_for_row(*found))


#: Execution option: the generation keys a statement touches, given by its caller where the
#: statement does not show them (an INSERT ... SELECT whose rows the caller knows: the fan-out
#: job's bell rows, notifications.fan_out). Without it such a write bumps every member's pages.
TOUCHES = "page_cache_touches"


def _on_execute(state: ORMExecuteState) -> Result[Any] | None:
    if not cache_enabled():
        return None
    given = state.execution_options.get(TOUCHES)
    if given is not None:
        note(state.session, given)
        return None
    stmt = state.statement
    if not isinstance(stmt, Insert | Update | Delete):
        if isinstance(stmt, TextClause):
            words = stmt.text.lstrip().split(None, 1)[:1]
            if words and words[0].upper() in {"INSERT", "UPDATE", "DELETE", "REPLACE"}:
                note(state.session, None)  # raw SQL we cannot map
        return None
    table = getattr(stmt.table, "name", None)
    if table in KEPT_TABLES:
        note(state.session, {KEPT_TABLES[table]})  # any row of it: the whole table is kept
        return None
    if table is None or (table in IRRELEVANT and table not in VIEWER_COLUMNS):
        return None
    if table == "announcements":
        note(state.session, {BANNERS})
        return None
    owner = VIEWER_COLUMNS.get(table)
    # A member's own state maps by its member alone (an UPDATE or DELETE pinned to one member
    # runs without selecting its rows first).
    names = [owner] if owner is not None else [name for name in KEY_COLUMNS if name in stmt.table.c]
    columns = [stmt.table.c[name] for name in names]
    # Rows that cannot be mapped: every page (global), or for a member's own state every
    # member's kept pages (viewers) and no anonymous page.
    unknown = {VIEWERS} if owner is not None else None
    if isinstance(stmt, Insert):
        inserted = _insert_rows(stmt, state.parameters, state.session)
        if inserted is None:
            note(state.session, unknown)
        for row in inserted or ():
            note(state.session, keys_for_row(table, row))
        return None
    where = stmt.whereclause
    if where is None:
        note(state.session, unknown)
        return None
    params = state.parameters
    if params is not None and not isinstance(params, Mapping):
        note(state.session, unknown)  # an executemany UPDATE or DELETE: each set may name other rows
        return None
    pinned = _pinned(where, stmt.table, [column.name for column in columns], params or {}) if columns else None
    if pinned is not None:
        # Every row the statement can touch has these key values: run it and read its rowcount
        # instead of selecting the rows first (one statement instead of two; the same keys).
        result = state.invoke_statement()
        # With RETURNING (touch_question's) SQLite counts the rows only once they are fetched,
        # which is the caller's to do: bump then, as an UPDATE that matched nothing costs a hit.
        if getattr(result, "returns_rows", False) or getattr(result, "rowcount", 1):
            note(state.session, keys_for_row(table, pinned))
        return result
    # The statement's named parameters, if any, are the select's too.
    rows = state.session.execute(select(*columns).where(where).limit(PRESELECT_LIMIT + 1),
                                 dict(params or {})).mappings().all()
    if len(rows) > PRESELECT_LIMIT:
        note(state.session, unknown)
        return None
    for mapped in rows:
        note(state.session, keys_for_row(table, dict(mapped)))
    return None


def _pinned(where: ColumnElement[Any], table: Any, names: list[str],
            params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The key values of ``names`` when ``where`` fixes every one of them to a bound value
    (``id = 12 AND ...``); None when any is free, so the rows have to be selected to know them.
    A bound value is the clause's own, or the execution's ``params`` for a named parameter
    (``bindparam("question_id")``): a statement built once and run with parameters maps as
    one built per call does."""
    terms = list(where.clauses) if isinstance(where, BooleanClauseList) and where.operator is operators.and_ \
        else [where]
    found: dict[str, Any] = {}
    for term in terms:
        if not (isinstance(term, BinaryExpression) and term.operator is operators.eq):
            continue
        left, right = term.left, term.right
        if isinstance(left, BindParameter):
            left, right = right, left
        if not (isinstance(left, Column) and isinstance(left.table, Table) and left.table.name == table.name
                and left.name in names and isinstance(right, BindParameter) and right.callable is None):
            continue
        value = params.get(right.key, right.value)
        if value is not None and not isinstance(value, list | tuple):
            found[left.name] = value
    return found if len(found) == len(names) else None


def _insert_rows(stmt: Insert, parameters: Any, session: Session) -> list[dict[str, Any]] | None:
    """The KEY_COLUMNS values of the rows an INSERT writes (from .values() or executemany
    parameters); None when they cannot be read (INSERT … SELECT), which bumps ``global``."""
    rows: list[dict[str, Any]] = []
    if getattr(stmt, "select", None) is not None:
        return None
    if isinstance(parameters, list):
        # An executemany (an ORM bulk INSERT, such as the stored related questions) carries its
        # rows in the parameters, and its statement does not compile outside its execution.
        params: dict[str, Any] = {}
    else:
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
    cache = current_cache() if cache_enabled() else None
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
    if not (keys or again) or not cache_enabled():
        return
    cache = current_cache()
    try:
        if keys and cache is not None and isinstance(cache.generations, RedisGenerations):
            cache.generations.bump(session, keys)
        elif again and cache is not None and isinstance(cache.generations, DbGenerations):
            with db.engine.begin() as connection:
                cache.generations.bump(connection, again)
    except Exception:
        # The write is committed; the pages it touched expire within PAGE_CACHE_TTL.
        current_app.logger.exception("page cache: generation bump failed")


_installed = False


def install() -> None:
    """Listen to every Flask-SQLAlchemy session (once per process; each app decides whether to use it)."""
    global _installed
    if _installed:
        return
    from flask_sqlalchemy.session import Session as FlaskSession

    event.listen(FlaskSession, "do_orm_execute", _on_execute)
    event.listen(FlaskSession, "before_commit", _before_commit)
    after_real_commit("pagecache", _after_flush, _after_commit, (BUMPS, REBUMP))
    _installed = True
