"""Per-connection database settings, and hooks for work that must wait for the real commit."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers run beside one writer, and
    # the busy timeout makes a second writer wait instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


_installed = False


def init_app(app: Flask) -> None:
    global _installed
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") and not _installed:
        # Registered once per process on the Engine class and filtered by dialect, since
        # engines are created lazily by Flask-SQLAlchemy.
        @event.listens_for(Engine, "connect")
        def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
            if type(dbapi_connection).__module__.startswith("sqlite3"):
                _sqlite_pragmas(dbapi_connection, connection_record)

        _installed = True


_commit_hooks: set[str] = set()


def after_real_commit(name: str, collect: Callable[[Session, Any], None] | None, act: Callable[[Session], None],
                      keys: tuple[str, ...]) -> None:
    """Run work that must wait for the real commit (index writes, handing mail to the job layer).

    ``collect(session, flush_context)`` (if given) runs at every flush and notes what it needs in
    ``session.info[key]``; ``act(session)`` runs once the outermost transaction has committed
    and pops those keys; a rollback forgets them. SQLAlchemy also fires after_commit and
    after_rollback when a SAVEPOINT is released or rolled back, while the real transaction is
    still open: acting then would read uncommitted rows from another connection, or wait on
    SQLite's write lock, so those are ignored (ids a rolled-back savepoint noted are harmless:
    the work finds nothing for them). Registered once per ``name`` and process on Flask-SQLAlchemy's
    session class, shared by every app; ``act`` finds its app through ``current_app``.
    """
    if name in _commit_hooks:
        return

    def after_commit(session: Session) -> None:
        if not session.in_nested_transaction():
            act(session)

    def after_rollback(session: Session) -> None:
        if not session.in_nested_transaction():
            for key in keys:
                session.info.pop(key, None)

    if collect is not None:
        event.listen(FlaskSession, "after_flush", collect)
    event.listen(FlaskSession, "after_commit", after_commit)
    event.listen(FlaskSession, "after_rollback", after_rollback)
    _commit_hooks.add(name)
