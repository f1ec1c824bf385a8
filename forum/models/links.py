"""Links between posts (linked threads, backlinks) and the mentions already notified."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .base import UTCDateTime, utcnow

LINK_SOURCES = ("question", "answer", "comment", "article")
LINK_TARGETS = ("question", "article")


class PostLink(Model):
    """A post that links to a question or article of this site; rebuilt on every edit of the source.

    Deleted or hidden sources keep their rows (a restore brings the backlink back): readers
    filter on the source's visibility. ``thread_id`` is the question a question, answer or
    comment belongs to (NULL for articles), so backlinks list threads with one join.
    """

    __tablename__ = "post_links"
    __table_args__ = (
        UniqueConstraint("source_type", "source_id", "target_type", "target_id", name="uq_post_links_source_target"),
        CheckConstraint("source_type IN ('question', 'answer', 'comment', 'article')", name="source_type"),
        CheckConstraint("target_type IN ('question', 'article')", name="target_type"),
        Index("ix_post_links_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_type: Mapped[str] = mapped_column(String(10))
    source_id: Mapped[int]
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), default=None,
                                                  index=True)
    target_type: Mapped[str] = mapped_column(String(10))
    target_id: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)


class PostMention(Model):
    """A user mentioned in a post, notified once: the unique row decides who was already told."""

    __tablename__ = "post_mentions"
    __table_args__ = (
        UniqueConstraint("source_type", "source_id", "user_id", name="uq_post_mentions_source_user"),
        CheckConstraint("source_type IN ('question', 'answer', 'comment', 'article')", name="source_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_type: Mapped[str] = mapped_column(String(10))
    source_id: Mapped[int]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
