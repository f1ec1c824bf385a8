"""Insights: deflection events and the daily counts they become (services/deflection.py).

Raw events live only as long as they must: a pending one waits for its window (did the same
visitor ask a question?), is then resolved and loses its visitor id, and every raw row is
deleted after the retention (``INSIGHTS_RETENTION_DAYS``). What stays is ``insight_daily``:
counts per day, kind and target, with no visitor in them.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .base import UTCDateTime, utcnow

# What a raw event is about to become. "pending": its window is open; "deflected": counted in
# insight_daily; "asked": the visitor asked a question within the window (not a deflection).
EVENT_STATES: tuple[str, ...] = ("pending", "deflected", "asked")


class DeflectionEvent(Model):
    """One moment a visitor may have found an answer instead of asking (raw, short-lived)."""

    __tablename__ = "deflection_events"
    __table_args__ = (
        # The sweep finds pending events whose window has closed; the purge finds old rows.
        Index("ix_deflection_events_status_created", "status", "created_at"),
        Index("ix_deflection_events_created", "created_at"),
        # Asking a question cancels the asker's pending events.
        Index("ix_deflection_events_visitor", "visitor"),
        Index("ix_deflection_events_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    # A random id per browser session (never the member's id), erased when the event resolves.
    visitor: Mapped[str | None] = mapped_column(String(40), default=None)
    # A signed-in visitor, so a question asked from another session still cancels; erased too.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    target_type: Mapped[str] = mapped_column(String(10), default="")  # "" | "question" | "article"
    target_id: Mapped[int] = mapped_column(default=0)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class InsightDaily(Model):
    """Counts per day, kind and target (target 0: none). Kept; holds no visitor or member."""

    __tablename__ = "insight_daily"
    __table_args__ = (
        # Per-target rankings over a date range ("which threads deflect most").
        Index("ix_insight_daily_target", "target_type", "target_id", "day"),
        Index("ix_insight_daily_kind_day", "kind", "day"),
    )

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    target_type: Mapped[str] = mapped_column(String(10), primary_key=True, default="")
    target_id: Mapped[int] = mapped_column(primary_key=True, default=0)
    count: Mapped[int] = mapped_column(default=0)


class SearchMissDaily(Model):
    """Searches that found nothing, per day and normalised query: content to write next."""

    __tablename__ = "search_misses_daily"
    __table_args__ = (Index("ix_search_misses_daily_query", "query", "day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    query: Mapped[str] = mapped_column(String(100), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class InsightMailSent(Model):
    """One row per member, mail kind and period sent: the primary key makes the weekly staff
    report ("weekly_report") and the monthly helpers' mail ("helped_monthly") idempotent."""

    __tablename__ = "insight_mails_sent"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
