"""Shared column helpers for the models."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import DateTime, Table
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite drops tzinfo; PostgreSQL keeps it. Storing naive UTC and re-attaching UTC on load
    gives the same Python values on both, so comparisons never mix naive and aware.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def table_of(model: Any) -> Table:
    """The Core table of a mapped class, typed as a Table (``__table__`` is typed as any FromClause),
    for INSERT … ON CONFLICT statements that the ORM does not build."""
    return cast(Table, model.__table__)
