"""Suggested edits: a member below the edit privilege proposes a change to someone else's post."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .base import UTCDateTime, utcnow
from .user import User

SUGGESTION_STATES = ("pending", "approved", "rejected", "superseded")
PENDING_ONLY = text("status = 'pending'")


class SuggestedEdit(Model):
    """The full proposed text of a question (title, body, tags) or an answer (body).

    ``base_revision`` is the post's revision number when the suggestion was made: if the post
    has moved on since, approving it would overwrite someone's edit, so it is superseded.
    At most one pending suggestion per post: a partial unique index, on SQLite and PostgreSQL.
    """

    __tablename__ = "suggested_edits"
    __table_args__ = (
        CheckConstraint("post_type IN ('question', 'answer')", name="post_type"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected', 'superseded')", name="status"),
        Index("uq_suggested_edits_pending_post", "post_type", "post_id", unique=True,
              sqlite_where=PENDING_ONLY, postgresql_where=PENDING_ONLY),
        Index("ix_suggested_edits_status_created", "status", "created_at"),
        Index("ix_suggested_edits_proposer_created", "proposer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_type: Mapped[str] = mapped_column(String(20))
    post_id: Mapped[int]
    # The thread the post belongs to (the question itself for a question).
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    proposer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(150), default="")
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(String(200), default="")
    base_revision: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    reject_reason: Mapped[str] = mapped_column(String(500), default="")
    # The revision the approval created.
    revision_number: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    proposer: Mapped[User] = relationship(foreign_keys=[proposer_id], lazy="joined", innerjoin=True)
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id], lazy="joined")

    @property
    def is_pending(self) -> bool:
        return self.status == "pending"
