"""Following questions (activity notifications) and tags (the daily digest)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.dml import Insert

from ..events import AnswerPosted, QuestionAsked
from ..extensions import db
from ..models import Question, QuestionFollow, Tag, TagFollow, User
from ..models.base import utcnow
from .permissions import can, require


def _insert_ignore(model: Any, keys: tuple[str, ...], **values: Any) -> None:
    # A double click or two tabs may follow at the same moment: the primary key decides, and
    # the second insert is a no-op instead of an IntegrityError.
    stmt = _insert_ignoring(db.session.get_bind().dialect.name, model, keys)
    # A list of one row: the page cache reads its keys from the parameters, not by compiling.
    db.session.execute(stmt, [{"created_at": utcnow(), **values}])


@lru_cache(maxsize=16)
def _insert_ignoring(dialect: str, model: Any, keys: tuple[str, ...]) -> Insert:
    """INSERT ... ON CONFLICT (``keys``) DO NOTHING into ``model``, built once per dialect
    (every answer follows its question: building the statement cost more than running it)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return cast(Insert, insert(model).on_conflict_do_nothing(index_elements=list(keys)))


def follow_question(user: User, question: Question) -> None:
    """Follow ``question`` (idempotent). Raises PermissionDenied when the user cannot see it."""
    require(user, "follow", question)
    _insert_ignore(QuestionFollow, ("user_id", "question_id"), user_id=user.id, question_id=question.id)


def asker_follows(event: QuestionAsked) -> None:
    """Subscriber: the asker follows their question without asking (idempotent)."""
    _insert_ignore(QuestionFollow, ("user_id", "question_id"), user_id=event.author_id, question_id=event.question_id)


def answerer_follows(event: AnswerPosted) -> None:
    """Subscriber: every answerer follows the question without asking (idempotent), even while
    the answer waits for review."""
    _insert_ignore(QuestionFollow, ("user_id", "question_id"), user_id=event.author_id, question_id=event.question_id)


def unfollow_question(user: User, question: Question) -> None:
    """Stop following (idempotent): no more "follow" notifications for it."""
    db.session.execute(delete(QuestionFollow).where(QuestionFollow.user_id == user.id,
                                                    QuestionFollow.question_id == question.id))


def follow_tag(user: User, tag: Tag) -> None:
    """Follow ``tag`` for the daily digest (idempotent). Raises PermissionDenied when signed out."""
    require(user, "follow", tag)
    _insert_ignore(TagFollow, ("user_id", "tag_id"), user_id=user.id, tag_id=tag.id)


def unfollow_tag(user: User, tag: Tag) -> None:
    db.session.execute(delete(TagFollow).where(TagFollow.user_id == user.id, TagFollow.tag_id == tag.id))


def follows_question(user: Any, question: Question) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return db.session.get(QuestionFollow, (user.id, question.id)) is not None


def follows_tag(user: Any, tag: Tag) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return db.session.get(TagFollow, (user.id, tag.id)) is not None


@dataclass(frozen=True)
class Following:
    questions: list[Question]
    tags: list[Tag]


def following(user: User, limit: int = 100) -> Following:
    """What the member follows, most recent first (bounded: this is a settings page)."""
    # A question hidden since it was followed shows nothing of itself (not even its title)
    # to those who may no longer see it.
    questions = [q for q in db.session.scalars(
        select(Question).join(QuestionFollow, QuestionFollow.question_id == Question.id)
        .where(QuestionFollow.user_id == user.id, Question.deleted_at.is_(None))
        .order_by(QuestionFollow.created_at.desc(), Question.id.desc()).limit(limit)) if can(user, "view", q)]
    tags = list(db.session.scalars(
        select(Tag).join(TagFollow, TagFollow.tag_id == Tag.id).where(TagFollow.user_id == user.id)
        .order_by(Tag.name).limit(limit)))
    return Following(questions, tags)
