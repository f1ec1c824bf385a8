""""This solved my problem too": members who had the same problem say the thread solved it.

Rules (docs/solved-too.md):
- Any member who may post, on someone else's visible, unlocked question (open or closed), with
  or without an accepted answer; no reputation needed. One mark per member per question (a
  database unique constraint); marking again takes it back (a toggle).
- ``questions.solved_too_count`` is the number of marks; it moves with atomic UPDATEs.
- The marks are credited to the accepted answer's author: ``users.helped_count`` is, for each
  member, the number of marks by *other* members on questions where their answer is accepted.
  A mark made before any answer is accepted is credited when one is; when the acceptance
  moves to another answer the credit moves with it, and when it is withdrawn (or released
  because the answer was hidden or deleted) the credit goes away. ``recount_helped`` rebuilds
  every count from the marks (``flask forum recount-helped``).
- At most SOLVED_TOO_PER_DAY new marks per member per UTC day (0: no limit), counted from the
  table under the member's row lock; taking back a mark made today gives its slot back.

Locks: the question's row first (the counter UPDATE), then users in id order
(``reputation.lock_users``), the order voting and accepting use, so none of them deadlock.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..events import AnswerAccepted, AnswerUnaccepted, SolvedTooChanged, publish
from ..extensions import db
from ..models import Answer, Question, SolvedToo, User
from ..models.base import utcnow
from . import reputation
from .errors import InvalidState, NotFound, RateLimited
from .permissions import can, require


@dataclass(frozen=True)
class SolvedTooResult:
    question: Question
    marked: bool
    count: int


def has_marked(user: User | None, question_id: int) -> bool:
    """Whether ``user`` marked this question (False for anonymous visitors)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return db.session.scalar(select(SolvedToo.id).where(
        SolvedToo.user_id == user.id, SolvedToo.question_id == question_id)) is not None


def marks_today(user_id: int) -> int:
    """Marks ``user_id`` made since 00:00 UTC today and still stands by."""
    start = reputation.day_start(utcnow())
    return db.session.scalar(select(func.count(SolvedToo.id)).where(
        SolvedToo.user_id == user_id, SolvedToo.created_at >= start)) or 0


def _check_daily_limit(user: User) -> None:
    """Raise RateLimited when ``user`` already made SOLVED_TOO_PER_DAY marks today (UTC).
    Called with the member's row locked, so two requests cannot both take the last slot."""
    limit = int(current_app.config.get("SOLVED_TOO_PER_DAY", 0) or 0)
    if limit <= 0 or marks_today(user.id) < limit:
        return
    now = utcnow()
    seconds = (reputation.day_start(now) + timedelta(days=1) - now).total_seconds()
    raise RateLimited(f"You can say \"This solved my problem too\" {limit} times a day. It renews at "
                      "00:00 UTC; taking back a mark still works.", retry_after=max(1, math.ceil(seconds)))


def _lock_question(question_id: int) -> None:
    """A no-op UPDATE: the row lock on PostgreSQL, the write lock on SQLite."""
    db.session.execute(update(Question).where(Question.id == question_id)
                       .values(solved_too_count=Question.solved_too_count)
                       .execution_options(synchronize_session=False))


def _credited(accepted_answer_id: int | None) -> int | None:
    """The author of the accepted answer (None: nothing accepted)."""
    if accepted_answer_id is None:
        return None
    return db.session.scalar(select(Answer.author_id).where(Answer.id == accepted_answer_id))


def toggle(user: User, question_id: int, want: bool | None = None) -> SolvedTooResult:
    """Mark the question as having solved ``user``'s problem too, or take the mark back.

    ``want`` None flips the member's mark; True or False asks for that state, and asking for
    the state it is already in changes nothing (a double-submitted form must not undo itself).

    Raises NotFound (no such question, or one the member cannot see), PermissionDenied (own
    question, locked or hidden thread, a member who may not post), RateLimited (a new mark
    beyond SOLVED_TOO_PER_DAY) and InvalidState (a concurrent duplicate the constraint refused;
    the caller rolls back).
    """
    question = db.session.get(Question, question_id)
    if question is None or not can(user, "view", question):
        raise NotFound("That question does not exist or was deleted.")
    require(user, "solved_too", question, "You can't mark this question.")
    _lock_question(question.id)  # the accepted answer is read under the question's row lock
    accepted_id = db.session.scalar(select(Question.accepted_answer_id).where(Question.id == question.id))
    author_id = _credited(accepted_id)
    reputation.lock_users(user.id, *([author_id] if author_id is not None else []))
    mark = db.session.scalar(select(SolvedToo).where(SolvedToo.user_id == user.id,
                                                     SolvedToo.question_id == question.id))
    if want is not None and want == (mark is not None):
        count = db.session.scalar(select(Question.solved_too_count).where(Question.id == question.id)) or 0
        return SolvedTooResult(question, want, count)
    if mark is None:
        _check_daily_limit(user)
        db.session.add(SolvedToo(user_id=user.id, question_id=question.id))
        try:
            db.session.flush()
        except IntegrityError:
            raise InvalidState("You already marked this question.") from None
        step = 1
    else:
        db.session.delete(mark)
        db.session.flush()
        step = -1
    db.session.execute(update(Question).where(Question.id == question.id)
                       .values(solved_too_count=Question.solved_too_count + step)
                       .execution_options(synchronize_session=False))
    credited = author_id if author_id is not None and author_id != user.id else None
    if credited is not None:
        _move_helped(credited, step)
    count = db.session.scalar(select(Question.solved_too_count).where(Question.id == question.id)) or 0
    db.session.expire(question, ["solved_too_count"])
    publish(SolvedTooChanged(question_id=question.id, user_id=user.id, marked=step > 0, count=count,
                             credited_id=credited))
    return SolvedTooResult(question, step > 0, count)


def _move_helped(user_id: int, amount: int) -> None:
    if amount:
        db.session.execute(update(User).where(User.id == user_id)
                           .values(helped_count=User.helped_count + amount)
                           .execution_options(synchronize_session=False))
        for obj in db.session.identity_map.values():
            if isinstance(obj, User) and obj.id == user_id:
                db.session.expire(obj, ["helped_count"])


def _marks_by_others(question_id: int, author_id: int) -> int:
    return db.session.scalar(select(func.count(SolvedToo.id)).where(
        SolvedToo.question_id == question_id, SolvedToo.user_id != author_id)) or 0


def _transfer(question_id: int, from_answer_id: int | None, to_answer_id: int | None) -> None:
    """Move the question's marks from one accepted answer's author to another's (either None).
    The question's row is locked first (a no-op if the acceptance change already holds it), so
    a mark made at the same moment is counted either here or by ``toggle``, never both."""
    _lock_question(question_id)
    old = _credited(from_answer_id)
    new = _credited(to_answer_id)
    if old == new:
        return
    reputation.lock_users(*[u for u in (old, new) if u is not None])
    if old is not None:
        _move_helped(old, -_marks_by_others(question_id, old))
    if new is not None:
        _move_helped(new, _marks_by_others(question_id, new))


def answer_accepted(event: AnswerAccepted) -> None:
    """Subscriber: the question's marks now credit the newly accepted answer's author."""
    assert event.question_id is not None
    _transfer(event.question_id, event.previous_answer_id, event.answer_id)


def answer_unaccepted(event: AnswerUnaccepted) -> None:
    """Subscriber: nobody is credited with the question's marks any more."""
    assert event.question_id is not None
    _transfer(event.question_id, event.answer_id, None)


def helped_counts() -> dict[int, int]:
    """Every member's helped count as the marks say (members with none are left out)."""
    rows = db.session.execute(
        select(Answer.author_id, func.count(SolvedToo.id))
        .join(Question, Question.accepted_answer_id == Answer.id)
        .join(SolvedToo, SolvedToo.question_id == Question.id)
        .where(SolvedToo.user_id != Answer.author_id)
        .group_by(Answer.author_id))
    return {user_id: int(n) for user_id, n in rows}


def recount_helped() -> int:
    """Set every member's helped_count (and every question's solved_too_count) from the marks.
    Returns how many members' helped counts were wrong."""
    expected = helped_counts()
    wrong = 0
    for user_id, stored in db.session.execute(select(User.id, User.helped_count)):
        if stored != expected.get(user_id, 0):
            wrong += 1
            db.session.execute(update(User).where(User.id == user_id)
                               .values(helped_count=expected.get(user_id, 0)))
    counted = (select(func.count(SolvedToo.id)).where(SolvedToo.question_id == Question.id)
               .correlate(Question).scalar_subquery())
    db.session.execute(update(Question).where(Question.solved_too_count != counted)
                       .values(solved_too_count=counted).execution_options(synchronize_session=False))
    return wrong

