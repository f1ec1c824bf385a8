"""Questions, answers, comments, tags and revisions."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint, and_, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import ColumnElement

from ..extensions import Model, db
from .base import UTCDateTime, utcnow
from .user import User

question_tags = Table(
    "question_tags",
    db.metadata,
    Column("question_id", ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
    # The question's created_at, copied here so a tag page walks one index in date order
    # (ix_question_tags_tag_created) instead of every question checking its tags; kept equal
    # by services/questions.py (sync_tag_dates) whenever a question's tags are written.
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    Index("ix_question_tags_tag_created", "tag_id", "created_at", "question_id"),
)


class Tag(Model):
    __tablename__ = "tags"
    # Prefix lookups for the tag suggestions (``name LIKE 'hub%'``): on PostgreSQL the unique
    # index uses the database collation, which LIKE cannot use; text_pattern_ops compares
    # byte-wise, so a prefix is one index range (services/tags.py, suggest_tags).
    __table_args__ = (Index("ix_tags_name_prefix", "name", postgresql_ops={"name": "text_pattern_ops"}),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(35), unique=True)
    # Plain-text excerpt of the wiki (shown in lists and suggestions); kept by services/tags.py.
    description: Mapped[str] = mapped_column(Text, default="")
    # What the tag is for, in Markdown, written by staff (/tags/<name>/edit), and its HTML as
    # rendered by forum/markup when it was saved.
    wiki: Mapped[str] = mapped_column(Text, default="", server_default="")
    wiki_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    wiki_edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Visible (not deleted) questions carrying the tag; moved with atomic UPDATEs.
    question_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SoftDeleteMixin:
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Hidden by moderation (flags, review queue): like a deletion for everyone but the
    # author and staff, and reversible; nothing of it shows to others.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    hidden_reason: Mapped[str] = mapped_column(String(30), default="")

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def awaits_review(self) -> bool:
        """Held in the review queue (a new member's link, a watched word) until a moderator decides."""
        return self.hidden_at is not None and self.hidden_reason == "review"

    @hybrid_property
    def is_visible(self) -> bool:
        """Neither deleted nor hidden: the one definition, in Python (``post.is_visible``) and in
        SQL (``where(Answer.is_visible)``)."""
        return self.deleted_at is None and self.hidden_at is None

    @is_visible.inplace.expression
    @classmethod
    def _is_visible_expression(cls) -> ColumnElement[bool]:
        return and_(cls.deleted_at.is_(None), cls.hidden_at.is_(None))


UNANSWERED_VISIBLE = "answer_count = 0 AND deleted_at IS NULL AND hidden_at IS NULL"


class Question(SoftDeleteMixin, Model):
    __tablename__ = "questions"
    __table_args__ = (
        Index("ix_questions_created", "created_at", "id"),
        # /insights: time to an accepted answer, over questions accepted in a range.
        Index("ix_questions_accepted_at", "accepted_at",
              postgresql_where=text("accepted_at IS NOT NULL"), sqlite_where=text("accepted_at IS NOT NULL")),
        Index("ix_questions_activity", "last_activity_at", "id"),
        # The support queue: questions still waiting for a first response.
        Index("ix_questions_first_response", "first_response_at", "created_at"),
        # Partial indexes: each holds only the few rows a page looks for, so the page does not
        # scan more of the table as the forum grows (tests/services/test_list_indexes.py).
        # A thread's "duplicates of this" backlinks.
        Index("ix_questions_duplicate_of", "duplicate_of_id",
              postgresql_where=text("duplicate_of_id IS NOT NULL"), sqlite_where=text("duplicate_of_id IS NOT NULL")),
        # The pinned questions above home and tag pages, latest pinned first.
        Index("ix_questions_pinned", "pinned_at",
              postgresql_where=text("pinned_at IS NOT NULL"), sqlite_where=text("pinned_at IS NOT NULL")),
        # The unanswered list (home and the tab), newest first.
        Index("ix_questions_unanswered", "created_at", "id",
              postgresql_where=text(UNANSWERED_VISIBLE), sqlite_where=text(UNANSWERED_VISIBLE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(150))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    render_version: Mapped[int] = mapped_column(default=0)
    score: Mapped[int] = mapped_column(default=0)
    answer_count: Mapped[int] = mapped_column(default=0)
    # "This solved my problem too" marks (services/solved_too.py), moved with atomic UPDATEs.
    solved_too_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # Page views, counted in Redis or memory and added here in batches (forum/viewcounts.py).
    view_count: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    # Curation (staff and the asker). use_alter: questions and answers point at each other.
    accepted_answer_id: Mapped[int | None] = mapped_column(
        ForeignKey("answers.id", use_alter=True, name="fk_questions_accepted_answer_id_answers"), default=None)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # view_count when the current answer was accepted: views since then are the people it
    # reached (services/reach.py); None while no answer is accepted.
    views_at_accept: Mapped[int | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    close_reason: Mapped[str | None] = mapped_column(String(30), default=None)
    close_note: Mapped[str] = mapped_column(String(500), default="")
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id"), default=None)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    # Shown on the locked thread ("" when staff gave none): "Solved; the fix is in the accepted
    # answer" reads differently from "Heated: staff are looking into it".
    lock_reason: Mapped[str] = mapped_column(String(300), default="", server_default="")
    pinned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # First visible answer or comment by someone other than the asker, or a private case
    # opened by staff (services/support.py keeps it right when that response goes away).
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined", innerjoin=True)
    tags: Mapped[list[Tag]] = relationship(secondary=question_tags, order_by=Tag.name)
    duplicate_of: Mapped[Question | None] = relationship(remote_side=[id], foreign_keys=[duplicate_of_id])
    comments: Mapped[list[Comment]] = relationship(
        primaryjoin="and_(Comment.question_id == Question.id, Comment.answer_id.is_(None))",
        lazy="raise_on_sql",
        viewonly=True,
        order_by="Comment.created_at, Comment.id",
    )

    @property
    def kind(self) -> Literal["question"]:
        return "question"

    @property
    def is_solved(self) -> bool:
        return self.accepted_answer_id is not None

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def is_pinned(self) -> bool:
        return self.pinned_at is not None


class Answer(SoftDeleteMixin, Model):
    __tablename__ = "answers"
    __table_args__ = (Index("ix_answers_question_score", "question_id", "score", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # body_html as plain text, what search indexes: set at flush whenever body_html changes
    # (forum/search_sync.py), so indexing a thread reads its answers' text and never
    # re-parses their HTML. NULL only for rows written before the column existed.
    body_text: Mapped[str | None] = mapped_column(Text, default=None)
    render_version: Mapped[int] = mapped_column(default=0)
    score: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    official_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    official_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined", innerjoin=True)
    # Many-to-one by primary key: served from the identity map when the question is loaded.
    question: Mapped[Question] = relationship(foreign_keys=[question_id])
    comments: Mapped[list[Comment]] = relationship(
        primaryjoin="Comment.answer_id == Answer.id",
        lazy="raise_on_sql",
        viewonly=True,
        order_by="Comment.created_at, Comment.id",
    )

    @property
    def kind(self) -> Literal["answer"]:
        return "answer"

    @property
    def is_official(self) -> bool:
        return self.official_at is not None


class Comment(SoftDeleteMixin, Model):
    """A comment on a question (answer_id is NULL) or on one of its answers."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_question", "question_id", "answer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("answers.id"), default=None)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(String(600))
    body_html: Mapped[str] = mapped_column(Text)
    render_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined", innerjoin=True)

    @property
    def kind(self) -> Literal["comment"]:
        return "comment"


class Revision(Model):
    """A full snapshot of a question, answer or article after each save (revision 1 is the original)."""

    __tablename__ = "revisions"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN question_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN answer_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN article_id IS NULL THEN 0 ELSE 1 END) = 1", name="one_target"
        ),
        # Unique numbers per post: two concurrent edits cannot both claim revision N.
        UniqueConstraint("question_id", "number", name="uq_revisions_question_number"),
        UniqueConstraint("answer_id", "number", name="uq_revisions_answer_number"),
        UniqueConstraint("article_id", "number", name="uq_revisions_article_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id"), default=None)
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("answers.id"), default=None)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"), default=None)
    number: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(150), default="")
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class SearchPending(Model):
    """Posts whose search document could not be written yet (the index was busy or down).

    The database stays the source of truth. A write queues the keys it touches here inside its
    own transaction; the index write after commit deletes them. A row left behind (the index
    was busy, or the process died between commit and index write) is retried by the next
    write in any process, the job worker's periodic tick, or `flask search check`.
    """

    __tablename__ = "search_pending"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Bumped by every write that queues the key again: an index write deletes the row only
    # if no write queued it since it read the row, so a concurrent change is never dropped.
    attempts: Mapped[int] = mapped_column(default=0)
