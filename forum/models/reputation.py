"""Votes on questions and answers, and the append-only reputation ledger."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .base import UTCDateTime, utcnow
from .user import User

VOTE_POST_TYPES = ("question", "answer")


class Vote(Model):
    """One member's current vote on one post (a database constraint: one per member per post)."""

    __tablename__ = "votes"
    __table_args__ = (
        UniqueConstraint("user_id", "post_type", "post_id", name="uq_votes_user_post"),
        CheckConstraint("value IN (-1, 1)", name="value"),
        CheckConstraint("post_type IN ('question', 'answer')", name="post_type"),
        Index("ix_votes_post", "post_type", "post_id"),
        # The daily vote cap counts a voter's votes cast today; the serial-voting sweep scans
        # the votes changed in its window.
        Index("ix_votes_user_created", "user_id", "created_at"),
        Index("ix_votes_updated", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    post_type: Mapped[str] = mapped_column(String(20))
    post_id: Mapped[int]
    value: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReputationEvent(Model):
    """Append-only: every change to a user's reputation is one row; undoing writes a reversing row.

    ``amount`` is what was actually granted (after the daily cap), so a reversal is exact.
    User.reputation always equals 1 + the sum of a user's rows (``flask reputation recompute``).
    """

    __tablename__ = "reputation_events"
    __table_args__ = (
        Index("ix_reputation_events_user_created", "user_id", "created_at"),
        Index("ix_reputation_events_post", "post_type", "post_id"),
        # Covers the weekly and monthly leaderboards (sum of amount per user since a date)
        # with an index-only range scan.
        Index("ix_reputation_events_created_user", "created_at", "user_id", "amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount: Mapped[int]
    reason: Mapped[str] = mapped_column(String(40))
    post_type: Mapped[str | None] = mapped_column(String(20), default=None)
    post_id: Mapped[int | None] = mapped_column(default=None)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The all-time leaderboard reads the top of users by reputation; defined here rather than on
# User because it exists for the ledger's totals.
Index("ix_users_reputation", User.reputation, User.id)
