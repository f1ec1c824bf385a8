"""Drafts: what a member typed in a composer and has not posted yet."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .base import UTCDateTime, utcnow


class Draft(Model):
    """One composer's unsent text for one member, saved as they type (``services/drafts.py``).

    ``key`` names the composer: "ask", "answer:<question id>", "comment:q<question id>",
    "comment:a<answer id>", "case:<case id>" (a message) or "resolve:<case id>" (the public
    summary). Posting from that composer deletes the row in the same transaction.
    """

    __tablename__ = "drafts"
    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_drafts_user_key"),
        Index("ix_drafts_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
