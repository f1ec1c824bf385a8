"""Staff curation of threads: accepted and official answers, close/reopen, lock, pin.

Every staff action is logged (audit.log_action) in the same transaction as the change.
Acceptances move reputation here (the ledger is part of the write) and are announced
(AnswerAccepted: the notification and badges follow).
"""
from __future__ import annotations

import re

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from ..events import AnswerAccepted, AnswerUnaccepted, QuestionClosed, QuestionReopened, publish
from ..extensions import db
from ..models import Answer, Question, Tag, User
from ..models.base import utcnow
from . import reputation
from .audit import log_action
from .errors import FieldError, InvalidState
from .moderation.common import clean_reason
from .permissions import require

CLOSE_REASONS = {
    "duplicate": "Duplicate of another question",
    "off_topic": "Off-topic",
    "needs_details": "Needs more details",
    "resolved_privately": "Resolved privately with support",
}


def _log(actor: User, action: str, question: Question, reason: str = "", **changes: object) -> None:
    before = {k: v[0] for k, v in changes.items()}  # type: ignore[index]
    after = {k: v[1] for k, v in changes.items()}  # type: ignore[index]
    log_action(actor, action, "question", question.id, reason=reason, before=before, after=after)


def _lock_acceptance(question: Question) -> None:
    """Serialise acceptance changes on one question: a no-op UPDATE takes the row lock on
    PostgreSQL and the write lock on SQLite, then the acceptance is read as it is now. Without
    it two concurrent accepts both saw the same "previous" answer, so the ledger and the
    helped counts (services/solved_too.py) reversed nothing for the one accepted in between."""
    db.session.execute(update(Question).where(Question.id == question.id)
                       .values(accepted_answer_id=Question.accepted_answer_id)
                       .execution_options(synchronize_session=False))
    db.session.refresh(question, ["accepted_answer_id", "accepted_by_id", "accepted_at"])


def accept_answer(actor: User, answer: Answer) -> None:
    """Accept ``answer`` (replacing any earlier one). Raises PermissionDenied."""
    require(actor, "accept", answer, "Only the asker or staff can accept an answer.")
    question = answer.question
    _lock_acceptance(question)
    previous = question.accepted_answer_id
    if previous == answer.id:
        return
    question.accepted_answer_id = answer.id
    question.accepted_by_id = actor.id
    question.accepted_at = utcnow()
    db.session.flush()
    reputation.answer_accepted(actor, question, answer, previous)
    if actor.is_staff and actor.id != question.author_id:
        _log(actor, "accept_answer", question, accepted_answer_id=(previous, answer.id))
    publish(AnswerAccepted(question_id=question.id, answer_id=answer.id, actor_id=actor.id,
                           previous_answer_id=previous))


def unaccept_answer(actor: User, question: Question, answer: Answer | None = None) -> None:
    """Withdraw the acceptance (of ``answer`` only, when given). Raises InvalidState when
    nothing is accepted, or another answer than ``answer`` is, and PermissionDenied."""
    _lock_acceptance(question)
    if question.accepted_answer_id is None:
        raise InvalidState("No answer is accepted.")
    if answer is not None and question.accepted_answer_id != answer.id:
        raise InvalidState("This answer is not the accepted one.")
    answer = db.session.get(Answer, question.accepted_answer_id)
    require(actor, "accept", answer, "Only the asker or staff can change the accepted answer.")
    previous = question.accepted_answer_id
    question.accepted_answer_id = None
    question.accepted_by_id = None
    question.accepted_at = None
    db.session.flush()
    reputation.answer_unaccepted(actor, previous)
    if actor.is_staff and actor.id != question.author_id:
        _log(actor, "unaccept_answer", question, accepted_answer_id=(previous, None))
    publish(AnswerUnaccepted(question_id=question.id, answer_id=previous, actor_id=actor.id))


def set_official(actor: User, answer: Answer, official: bool) -> None:
    """Mark (or unmark) a staff member's answer as the official answer."""
    require(actor, "mark_official", answer, "Only staff answers can be marked official, by staff.")
    if official == answer.is_official:
        return
    answer.official_at = utcnow() if official else None
    answer.official_by_id = actor.id if official else None
    db.session.flush()
    log_action(actor, "mark_official" if official else "unmark_official", "answer", answer.id,
               before={"official": not official}, after={"official": official})


def close_question(actor: User, question: Question, reason: str, *, note: str = "",
                   duplicate_of: Question | None = None) -> None:
    """Close with a reason; a duplicate needs the original. Raises FieldError, PermissionDenied."""
    require(actor, "close", question)
    if reason not in CLOSE_REASONS:
        raise FieldError("reason", "Choose a reason.")
    if reason == "duplicate":
        if duplicate_of is None:
            raise FieldError("duplicate_of", "Give the number or link of the original question.")
        if duplicate_of.id == question.id:
            raise FieldError("duplicate_of", "A question cannot duplicate itself.")
        if not duplicate_of.is_visible:
            raise FieldError("duplicate_of", "That question is not available.")
    note = " ".join(note.split())[:500]
    question.closed_at = utcnow()
    question.closed_by_id = actor.id
    question.close_reason = reason
    question.close_note = note
    question.duplicate_of_id = duplicate_of.id if reason == "duplicate" and duplicate_of else None
    db.session.flush()
    _log(actor, "close", question, reason=note, closed=(False, True), close_reason=(None, reason),
         duplicate_of_id=(None, question.duplicate_of_id))
    publish(QuestionClosed(question_id=question.id, actor_id=actor.id, reason=reason,
                           duplicate_of_id=question.duplicate_of_id))


def close_by_ref(actor: User, question: Question, reason: str, *, note: str = "", duplicate_ref: str = "") -> None:
    """Close as ``close_question``, a duplicate's original named as typed on the page ("42",
    "#42", a link) or as the API's id: looked up only when the reason is "duplicate".

    Raises FieldError (the reason, an unknown or unavailable original), PermissionDenied.
    """
    require(actor, "close", question)  # before the lookup: whoever may not close learns nothing of other ids
    original = find_question_ref(duplicate_ref) if reason == "duplicate" else None
    close_question(actor, question, reason, note=note, duplicate_of=original)


def reopen_question(actor: User, question: Question) -> None:
    require(actor, "reopen", question)
    before = question.close_reason
    question.closed_at = None
    question.closed_by_id = None
    question.close_reason = None
    question.close_note = ""
    question.duplicate_of_id = None
    db.session.flush()
    _log(actor, "reopen", question, closed=(True, False), close_reason=(before, None))
    publish(QuestionReopened(question_id=question.id, actor_id=actor.id))


LOCK_REASON_MAX = 300


def set_locked(actor: User, question: Question, locked: bool, reason: str = "") -> None:
    """Lock a thread (no comments, votes, answers or edits until unlocked), with the reason shown
    on it. Raises PermissionDenied, FieldError when the reason is longer than LOCK_REASON_MAX."""
    require(actor, "lock" if locked else "unlock", question)
    reason = clean_reason(reason, required=False, limit=LOCK_REASON_MAX)
    question.locked_at = utcnow() if locked else None
    question.locked_by_id = actor.id if locked else None
    question.lock_reason = reason if locked else ""
    db.session.flush()
    _log(actor, "lock" if locked else "unlock", question, reason=reason, locked=(not locked, locked))


def set_pinned(actor: User, question: Question, pinned: bool) -> None:
    """Pin to the top of the home page and of the question's tags."""
    require(actor, "pin" if pinned else "unpin", question)
    question.pinned_at = utcnow() if pinned else None
    db.session.flush()
    _log(actor, "pin" if pinned else "unpin", question, pinned=(not pinned, pinned))


def find_question_ref(ref: str) -> Question:
    """Resolve "123", "#123", "/questions/123/slug" or a full URL to a question.

    Raises FieldError("duplicate_of") when it names no question.
    """
    match = re.search(r"(?:^#?|/questions/)(\d+)(?:[/?#]|$)", ref.strip())
    if not match:
        raise FieldError("duplicate_of", "Give the question's number or link.")
    question = db.session.get(Question, int(match.group(1)))
    if question is None:
        raise FieldError("duplicate_of", "No question has that number.")
    return question


def pinned_questions(tag_id: int | None = None, limit: int = 5) -> list[Question]:
    """Pinned visible questions, the latest pinned first (of one tag when ``tag_id`` is given)."""
    stmt = (select(Question).where(Question.pinned_at.is_not(None), Question.is_visible)
            .options(selectinload(Question.tags)).order_by(Question.pinned_at.desc()).limit(limit))
    if tag_id is not None:
        stmt = stmt.where(Question.tags.any(Tag.id == tag_id))
    return list(db.session.scalars(stmt))
