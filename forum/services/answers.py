"""Answering, editing and deleting answers."""
from __future__ import annotations

from sqlalchemy.orm import joinedload

from ..events import AnswerUnaccepted, publish
from ..extensions import db
from ..models import Answer, Question, User
from ..models.base import utcnow
from . import activity, badges, reputation
from .errors import InvalidState, NotFound
from .links import after_write
from .permissions import can, require
from .posts import add_revision, check_body, set_body, touch_question
from .safety import check_edited_post, check_new_post
from .support import recompute_first_response, record_first_response
from .visibility import hide_post


def post_answer(author: User, question: Question, body: str) -> Answer:
    """Add an answer. Raises PermissionDenied on a deleted question, FieldError for bad input."""
    require(author, "answer", question, "This question no longer takes answers.")
    body = check_body(body, limit_key="ANSWER_MAX_LENGTH")
    verdict = check_new_post(author, body, kind="answer")
    now = utcnow()
    answer = Answer(question_id=question.id, author=author, created_at=now, score=0)
    rendered = set_body(answer, body)
    if verdict == "review":
        answer.hidden_at, answer.hidden_reason = now, "review"
    db.session.add(answer)
    db.session.flush()
    add_revision(answer, author)
    after_write(answer, rendered, author)
    touch_question(question.id, now, answers_delta=+1 if verdict == "publish" else 0)
    if answer.is_visible:
        record_first_response(question.id, author.id, now)
    db.session.flush()
    activity.answer_posted(answer)
    badges.on_event("answer", post=answer)
    return answer


def release_acceptance(answer: Answer) -> None:
    """A deleted or hidden answer cannot stay the accepted one: the question becomes unsolved,
    and the acceptance rewards are reversed, as when the asker withdraws it."""
    question = answer.question
    if question is not None and question.accepted_answer_id == answer.id:
        question.accepted_answer_id = None
        question.accepted_by_id = None
        question.accepted_at = None
        reputation.acceptance_released(answer)
        publish(AnswerUnaccepted(question_id=question.id, answer_id=answer.id, actor_id=None))


def get_answer(answer_id: int, viewer: User | None) -> Answer:
    """Raises NotFound when the answer is missing or hidden from the viewer."""
    answer = db.session.get(Answer, answer_id, options=[joinedload(Answer.question)])
    if answer is None or not can(viewer, "view", answer):
        raise NotFound("That answer does not exist or was deleted.")
    return answer


def edit_answer(editor: User, answer: Answer, body: str, summary: str = "") -> Answer:
    """Raises PermissionDenied, FieldError, or InvalidState when nothing changed."""
    require(editor, "edit", answer)
    return apply_answer_edit(editor, answer, body, summary)


def apply_answer_edit(author: User, answer: Answer, body: str, summary: str = "", *,
                      checked_by: User | None = None) -> Answer:
    """Change the answer and record a revision credited to ``author``, with every content rule
    of an edit, judged for ``checked_by`` when given (the reviewer who approved a suggested
    edit vouches for it). The caller checked who may do it (edit_answer, or approving).

    Raises FieldError for bad input and InvalidState when nothing changed.
    """
    body = check_body(body, limit_key="ANSWER_MAX_LENGTH")
    if body == answer.body:
        raise InvalidState("Nothing changed.")
    verdict = check_edited_post(checked_by or author, body)
    rendered = set_body(answer, body)
    answer.edited_at = utcnow()
    db.session.flush()
    add_revision(answer, author, summary)
    touch_question(answer.question_id, answer.edited_at)
    if verdict == "review":
        hide_post(answer, "review")
    after_write(answer, rendered, author)
    db.session.flush()
    return answer


def delete_answer(actor: User, answer: Answer) -> None:
    require(actor, "delete", answer)
    counted = answer.is_visible
    answer.deleted_at = utcnow()
    answer.deleted_by_id = actor.id
    release_acceptance(answer)
    db.session.flush()
    if counted:
        touch_question(answer.question_id, answers_delta=-1)
        recompute_first_response(answer.question_id)


def restore_answer(actor: User, answer: Answer) -> None:
    require(actor, "restore", answer)
    answer.deleted_at = None
    answer.deleted_by_id = None
    db.session.flush()
    if answer.is_visible:
        touch_question(answer.question_id, answers_delta=+1)
        recompute_first_response(answer.question_id)
