"""Official knowledge-base articles written by staff."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db
from .base import UTCDateTime, utcnow
from .post import Tag
from .user import User

ARTICLE_STATES = ("draft", "published", "archived")

article_tags = Table(
    "article_tags",
    db.metadata,
    Column("article_id", ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Article(Model):
    __tablename__ = "articles"
    __table_args__ = (
        CheckConstraint("state IN ('draft', 'published', 'archived')", name="state"),
        Index("ix_articles_state_published", "state", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(150))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    render_version: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(20), default="draft")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # "Promote to article": the solved question this article was drafted from.
    # Unique: one article per source question, even when two staff promote at once.
    source_question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id"), default=None, index=True,
                                                           unique=True)
    helpful_yes: Mapped[int] = mapped_column(default=0)
    helpful_no: Mapped[int] = mapped_column(default=0)
    # Page views, added in batches (forum/viewcounts.py).
    view_count: Mapped[int] = mapped_column(default=0, server_default="0")

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    tags: Mapped[list[Tag]] = relationship(secondary=article_tags, order_by=Tag.name)

    @property
    def kind(self) -> str:
        return "article"

    @property
    def is_published(self) -> bool:
        return self.state == "published"


class ArticleFeedback(Model):
    """One "Was this helpful?" answer per user per article (kept for the metrics)."""

    __tablename__ = "article_feedback"
    __table_args__ = (UniqueConstraint("article_id", "user_id", name="uq_article_feedback_article_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
