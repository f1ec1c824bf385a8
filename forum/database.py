"""Per-connection database settings."""
from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine


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
