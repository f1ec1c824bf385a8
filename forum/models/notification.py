"""Notifications behind the bell, following, per-event preferences and the e-mail outbox."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .base import UTCDateTime, utcnow
from .user import User

MAIL_STATES = ("pending", "sending", "sent", "failed")
#: Events about new posts on a thread the member cares about: while one is unread, the next of
#: the same event on the same thread counts it up instead of adding a line (as GitHub and
#: Discourse do), so the follower of an incident thread with 200 answers has one line, not 200.
COLLAPSING = ("answer", "comment", "follow")
#: The unread rows of those events about a thread: the predicate of the unique partial index.
COLLAPSING_WHERE = ("read_at IS NULL AND target IS NOT NULL AND event IN ("
                    + ", ".join(f"'{event}'" for event in COLLAPSING) + ")")


class Notification(Model):
    """One line in a member's notification list; unread while ``read_at`` is empty."""

    __tablename__ = "notifications"
    # (user_id, read_at) answers the bell's unread count; (user_id, created_at) the newest-first list;
    # (user_id, target) finds what a member's visit to a thread, case or article marks read.
    # At most one unread entry per member, event and thread for the events that collapse
    # (COLLAPSING): a new one counts that entry up instead (services/notifications._deliver).
    __table_args__ = (
        Index("ix_notifications_user_read", "user_id", "read_at"),
        Index("ix_notifications_user_created", "user_id", "created_at"),
        Index("ix_notifications_user_target", "user_id", "target"),
        Index("uq_notifications_unread_thread", "user_id", "event", "target", unique=True,
              postgresql_where=text(COLLAPSING_WHERE), sqlite_where=text(COLLAPSING_WHERE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    subject: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # What the notification is about, as "question:12", "case:3" or "article:4" (None: a badge,
    # a flag's outcome): viewing that page marks the member's unread ones about it read.
    target: Mapped[str | None] = mapped_column(String(40), default=None)
    # How many things this entry stands for: the unread answers, comments or activity on one
    # thread since the member last looked (1 for everything else).
    count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The line's ``count`` when its e-mail was composed (None: not mailed yet, because the member
    # had e-mail off or no confirmed address). One e-mail per unread line: a write mails the
    # member only when the INSERT sets this to the count it returns (services/notifications._mailed).
    mailed_count: Mapped[int | None] = mapped_column(Integer, default=None)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="joined")


class QuestionFollow(Model):
    """A member follows a question (automatic when they ask or answer it); one row per pair."""

    __tablename__ = "question_follows"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True,
                                             index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TagFollow(Model):
    """A member follows a tag (for the daily digest); one row per pair."""

    __tablename__ = "tag_follows"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationPreference(Model):
    """A member's choice for one event; without a row the defaults in services/notifications apply.

    The pseudo-event "digest" holds the daily digest switch in ``email``.
    """

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    event: Mapped[str] = mapped_column(String(20), primary_key=True)
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)


class DigestSent(Model):
    """One row per member per day a digest went out: the primary key makes the digest idempotent."""

    __tablename__ = "digests_sent"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxMail(Model):
    """An e-mail to send. The row is the source of truth: a send is retried until sent or failed.

    pending -> sending (claimed by one worker) -> sent; a failed attempt goes back to pending
    with ``next_attempt_at`` pushed back exponentially, and to failed after MAIL_MAX_ATTEMPTS.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status"),
        Index("ix_mail_outbox_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    event: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    unsubscribe_url: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class NotificationFanout(Model):
    """The followers of a large thread still to tell of one thing, told by a job after the commit.

    A write tells at most ``FOLLOWERS_INLINE`` followers itself (with a job queue); the rest,
    those with an id above ``after_user_id``, are told in batches by
    ``notifications.fan_out``, which moves ``after_user_id`` on with each batch and sets
    ``done_at`` at the end. ``exclude`` lists the members the write told already, whatever of
    (the ids, space-separated), and the actor.
    """

    __tablename__ = "notification_fanouts"
    # The sweep looks for the unfinished ones.
    __table_args__ = (Index("ix_notification_fanouts_done_created", "done_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    subject: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(String(500), default="")
    target: Mapped[str | None] = mapped_column(String(40), default=None)
    exclude: Mapped[str] = mapped_column(Text, default="")
    after_user_id: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
