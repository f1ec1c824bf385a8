"""A small stage timer: where the CPU time of a write goes (load, rules, render, SQL, ...).

Used by the write benchmark (``tools/bench/writes.py``) to report the CPU cost per post by
stage. Code marks its stages with ``with stage("render"):``; nothing is measured unless the
current thread is inside ``recording()``, so in production a mark costs one attribute look-up.

Stages are *exclusive*: entering a stage pauses the one around it, so every CPU second of the
recorded thread is charged to exactly one stage, and the stages add up to the total. SQL is
its own stage (``watch_sql`` hooks the engine's cursor events), so "notify" is the Python
work of notifying, not the statements it sends. Time is the thread's CPU time
(``time.thread_time``), not wall time: waiting for PostgreSQL or a lock costs nothing here;
the benchmark reports the database server's CPU separately.

Why our own and not cProfile or pyinstrument: a profiler slows every Python call several
times over and reports functions, not the stages of a write that the issue asks about;
this costs two clock reads per stage boundary.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

__all__ = ["Totals", "recording", "stage", "watch_sql", "OTHER", "SQL"]

OTHER = "other"
SQL = "sql"


@dataclass
class Totals:
    """CPU seconds per stage and statements sent, for one recorded thread."""

    seconds: dict[str, float] = field(default_factory=dict)
    statements: int = 0

    def add(self, other: Totals) -> None:
        for name, value in other.seconds.items():
            self.seconds[name] = self.seconds.get(name, 0.0) + value
        self.statements += other.statements


class _State(threading.local):
    totals: Totals | None = None
    stack: list[str]
    mark: float = 0.0


_state = _State()


def _charge(now: float) -> None:
    totals = _state.totals
    assert totals is not None
    top = _state.stack[-1]
    totals.seconds[top] = totals.seconds.get(top, 0.0) + (now - _state.mark)
    _state.mark = now


@contextmanager
def recording() -> Iterator[Totals]:
    """Record this thread's CPU time by stage until the block ends; time outside any stage
    is charged to "other". Nested ``recording`` blocks are not supported (ValueError)."""
    if _state.totals is not None:
        raise ValueError("already recording on this thread")
    totals = Totals()
    _state.totals, _state.stack, _state.mark = totals, [OTHER], time.thread_time()
    try:
        yield totals
    finally:
        _charge(time.thread_time())
        _state.totals = None


def _enter(name: str) -> None:
    if _state.totals is not None:
        _charge(time.thread_time())
        _state.stack.append(name)


def _leave() -> None:
    if _state.totals is not None and len(_state.stack) > 1:
        _charge(time.thread_time())
        _state.stack.pop()


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Charge the block's CPU time to ``name`` (exclusive of stages nested in it)."""
    if _state.totals is None:
        yield
        return
    _enter(name)
    try:
        yield
    finally:
        _leave()


def _before_cursor(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    totals = _state.totals
    if totals is not None:
        totals.statements += 1
        _enter(SQL)


def _after_cursor(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    if _state.totals is not None and _state.stack[-1] == SQL:
        _leave()


def watch_sql(engine: Engine) -> None:
    """Charge the statements ``engine`` sends (and their count) to the "sql" stage.

    A statement that fails leaves the stage through ``handle_error``.
    """
    if not event.contains(engine, "before_cursor_execute", _before_cursor):
        event.listen(engine, "before_cursor_execute", _before_cursor)
        event.listen(engine, "after_cursor_execute", _after_cursor)
        event.listen(engine, "handle_error", lambda ctx: _after_cursor(None, None, "", None, None, False))
