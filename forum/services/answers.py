"""Answering, editing and deleting answers."""
from __future__ import annotations

from sqlalchemy.orm import joinedload

from ..events import AnswerPosted, Body, PostEdited, publish
from ..extensions import db
from ..models import Answer, Question, User
from ..models.base import utcnow
from ..stages import stage
from .errors import InvalidState, NotFound
from .permissions import can, require
from .posts import add_revision, check_body, set_body, touch_question
from .safety import check_edited_post, check_new_post
from .visibility import delete_post, hide_post, undelete_post


def post_answer(author: User, question: Question, body: str, *, case_resolution: bool = False) -> Answer:
    """Add an answer (held for review when the safety checks say so) and announce it
    (AnswerPosted: links, mentions, first response, following, notifications, badges follow).

    Raises PermissionDenied on a question that takes no answers, FieldError for bad input,
    RateLimited when the author posts too fast. ``case_resolution``: the public summary of a
    private case (said in the event, so the agent's own answer draft is not taken for it).
    """
    with stage("rules"):
        require(author, "answer", question, "This question no longer takes answers.")
        body = check_body(body, limit_key="ANSWER_MAX_LENGTH")
        verdict = check_new_post(author, body, kind="answer")
    now = utcnow()
    answer = Answer(question_id=question.id, author=author, created_at=now, score=0)
    with stage("render"):
        rendered = set_body(answer, body)
    if verdict == "review":
        answer.hidden_at, answer.hidden_reason = now, "review"
    db.session.add(answer)
    db.session.flush()
    add_revision(answer, author, first=True)
    touch_question(question.id, now, answers_delta=+1 if verdict == "publish" else 0)
    db.session.flush()
    with stage("subscribers"):
        publish(AnswerPosted(question_id=question.id, answer_id=answer.id, author_id=author.id,
                             published=verdict == "publish", body=Body.of("answer", answer.id, author.id, rendered),
                             case_resolution=case_resolution))
    return answer


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
    db.session.flush()
    publish(PostEdited(question_id=answer.question_id, post_type="answer", post_id=answer.id, editor_id=author.id,
                       body=Body.of("answer", answer.id, author.id, rendered)))
    return answer


def delete_answer(actor: User, answer: Answer) -> None:
    """Soft-delete (an accepted answer stops being accepted). Raises PermissionDenied."""
    require(actor, "delete", answer)
    delete_post(actor, answer)


def restore_answer(actor: User, answer: Answer) -> None:
    """Undo a soft deletion. Raises PermissionDenied."""
    require(actor, "restore", answer)
    undelete_post(answer)
