"""Flags, the moderation log, notes on users, watched words and announcements."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .base import UTCDateTime, utcnow
from .user import User

FLAG_REASONS = ("spam", "rude", "off_topic", "needs_staff", "other")
POST_TYPES = ("question", "answer", "comment")


class Flag(Model):
    """A member's report of a post; one per member per post (a database constraint)."""

    __tablename__ = "flags"
    __table_args__ = (
        UniqueConstraint("post_type", "post_id", "flagger_id", name="uq_flags_post_flagger"),
        CheckConstraint("post_type IN ('question', 'answer', 'comment')", name="post_type"),
        CheckConstraint("status IN ('pending', 'dismissed', 'actioned')", name="status"),
        Index("ix_flags_status_post", "status", "post_type", "post_id"),
        # /insights counts flags raised in a date range.
        Index("ix_flags_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_type: Mapped[str] = mapped_column(String(20))
    post_id: Mapped[int]
    flagger_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    outcome: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    flagger: Mapped[User] = relationship(foreign_keys=[flagger_id], lazy="joined", innerjoin=True)


class ModerationLog(Model):
    """Append-only record of every staff action: who, what, when, why, before and after."""

    __tablename__ = "moderation_log"
    __table_args__ = (Index("ix_moderation_log_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)  # None: the system / CLI
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int]
    reason: Mapped[str] = mapped_column(String(500), default="")
    before: Mapped[str] = mapped_column(Text, default="")  # JSON
    after: Mapped[str] = mapped_column(Text, default="")  # JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    actor: Mapped[User | None] = relationship(lazy="joined")


class UserNote(Model):
    """A private moderator note about a member (never shown to the member)."""

    __tablename__ = "user_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined", innerjoin=True)


class WatchedWord(Model):
    """A word or phrase that blocks a post outright or sends it to the review queue."""

    __tablename__ = "watched_words"
    __table_args__ = (CheckConstraint("action IN ('block', 'review')", name="action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phrase: Mapped[str] = mapped_column(String(100), unique=True)
    action: Mapped[str] = mapped_column(String(10))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Announcement(Model):
    """A site-wide banner (crisis mode): shown on every page and above the ask form."""

    __tablename__ = "announcements"
    __table_args__ = (CheckConstraint("severity IN ('info', 'warning', 'outage')", name="severity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str] = mapped_column(String(300))
    severity: Mapped[str] = mapped_column(String(10), default="info")
    incident_question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id"), default=None)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnnouncementDismissal(Model):
    __tablename__ = "announcement_dismissals"

    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    dismissed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
