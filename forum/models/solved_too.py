"""'This solved my problem too': one mark per member per question."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .base import UTCDateTime, utcnow


class SolvedToo(Model):
    """A member said the thread solved their problem too (a database constraint: once per thread)."""

    __tablename__ = "solved_too"
    __table_args__ = (
        UniqueConstraint("user_id", "question_id", name="uq_solved_too_user_question"),
        # The daily limit counts a member's marks made today.
        Index("ix_solved_too_user_created", "user_id", "created_at"),
        Index("ix_solved_too_question", "question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
