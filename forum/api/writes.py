"""What members do to posts: answer, comment, edit, vote, accept, flag, follow; and one answer.

Each view makes the call the page makes (``forum/views/answers.py``, ``comments.py``,
``questions.py``, ``votes.py``, ``curation.py``, ``moderation.py``, ``notifications.py``), so
the rules (reputation thresholds, no self-votes, locked threads, the comment edit window,
suggested edits below the edit privilege, posting limits) and their messages are the pages'.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import marshmallow as ma
from flask import Response, jsonify, request, url_for
from marshmallow import fields, validate

from ..models import FLAG_REASONS, Answer, Question
from ..services import answers as answers_service
from ..services import comments as comments_service
from ..services import curation, editing, following
from ..services import flags as flags_service
from ..services import questions as questions_service
from ..services import votes as votes_service
from ..services.flags import NOTE_MAX
from ..services.questions import QuestionInput
from ..views.questions import SUGGESTED
from . import refusals
from .core import api_blueprint, changes, idempotent, member, reads, viewer
from .questions import thread
from .schemas import AnswerOut, CommentOut, QuestionOut, Utc, With

bp = api_blueprint("writes", "What members do: answer, comment, edit, vote, accept, flag, follow.",
                   "Member actions")

F = TypeVar("F", bound=Callable[..., Any])

ERRORS = {
    401: "No token, or a token that is not valid.",
    403: "The token lacks the scope, or the rules refuse this member the action (the pages' message).",
    404: "No such post, or one the caller may not see.",
    409: "The post's state forbids it (nothing changed, already done, a suggestion already waiting).",
    429: "Too many calls, or posting faster than the member's role allows (Retry-After).",
}


def documents(*statuses: int) -> Callable[[F], F]:
    """Publish the error statuses an operation can answer (described by ERRORS), each in the one error shape."""
    return refusals.documents(bp, *((status, ERRORS[status]) for status in statuses))


# --------------------------------------------------------------------------- shapes

class BodyIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    body = fields.String(required=True, validate=validate.Length(max=30_000),
                         metadata={"description": "Markdown; the site's length limits apply."})


class AnswerEditIn(BodyIn):
    summary = fields.String(load_default="", validate=validate.Length(max=200),
                            metadata={"description": "What the edit changed, for the history."})


class QuestionEditIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    title = fields.String(validate=validate.Length(max=150), metadata={"description": "Omit to keep it."})
    body = fields.String(validate=validate.Length(max=30_000), metadata={"description": "Omit to keep it."})
    tags = fields.List(fields.String(validate=validate.Length(min=1, max=35)), validate=validate.Length(max=5),
                       metadata={"description": "The whole new list; omit to keep them."})
    summary = fields.String(load_default="", validate=validate.Length(max=200))


class SuggestedOut(ma.Schema):
    suggested_edit_id = fields.Integer(required=True)
    message = fields.String(required=True)


class VoteIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    value = fields.Integer(required=True, strict=True, validate=validate.OneOf([-1, 0, 1]),
                           metadata={"description": "1 up, -1 down, 0 withdraw."})


class VoteOut(ma.Schema):
    score = fields.Integer(required=True)
    my_vote = fields.Integer(required=True, metadata={"description": "The caller's vote now: 1, -1 or 0."})


class AcceptanceOut(ma.Schema):
    question_id = fields.Integer(required=True)
    accepted_answer_id = fields.Integer(required=True, allow_none=True)


class FlagIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    reason = fields.String(required=True, validate=validate.OneOf(FLAG_REASONS))
    note = fields.String(load_default="", validate=validate.Length(max=4 * NOTE_MAX),
                         metadata={"description": f"For the moderators (at most {NOTE_MAX} characters once "
                                                  "spaces are collapsed); required for \"other\"."})


class FlagOut(ma.Schema):
    id = fields.Integer(required=True)
    post_type = fields.String(required=True)
    post_id = fields.Integer(required=True)
    reason = fields.String(required=True)
    note = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "pending, dismissed or actioned."})
    created_at = Utc(required=True)


class FollowOut(ma.Schema):
    following = fields.Boolean(required=True)


# --------------------------------------------------------------------------- helpers

def answer_with_comments(answer: Answer) -> With:
    """The answer with the comments on it that the caller may see (as the question page shows them)."""
    _, comments = questions_service.load_thread(answer.question, viewer())
    return With(answer, comments=comments.get(answer.id, []))


def answer_location(answer: Answer) -> dict[str, str]:
    return {"Location": url_for("api_writes.get_answer", answer_id=answer.id, _external=True)}


def suggested(outcome: editing.EditOutcome) -> Response:
    assert outcome.suggestion is not None
    response = jsonify(SuggestedOut().dump({"suggested_edit_id": outcome.suggestion.id, "message": SUGGESTED}))
    response.status_code = 202
    return response


# --------------------------------------------------------------------------- answers

@bp.route("/answers/<int:answer_id>", methods=["GET"])
@reads()
@bp.response(200, AnswerOut)
@documents(401, 404)
def get_answer(answer_id: int) -> With:
    """One answer with its visible comments."""
    return answer_with_comments(answers_service.get_answer(answer_id, viewer()))


@bp.route("/questions/<int:question_id>/answers", methods=["POST"])
@changes("write")
@idempotent
@bp.arguments(BodyIn)
@bp.response(201, AnswerOut)
@documents(401, 403, 404, 429)
def answer(data: dict[str, Any], question_id: int) -> tuple[With, int, dict[str, str]]:
    """Answer a question (held for review when the safety checks say so, as on the page).

    403 on a closed or locked question, or for a member who may not post.
    """
    question = questions_service.get_question(question_id, member())
    posted = answers_service.post_answer(member(), question, data["body"])
    return With(posted, comments=[]), 201, answer_location(posted)


# --------------------------------------------------------------------------- comments

@bp.route("/<any(questions, answers):kind>/<int:post_id>/comments", methods=["POST"])
@changes("write")
@idempotent
@bp.arguments(BodyIn)
@bp.response(201, CommentOut)
@documents(401, 403, 404, 429)
def comment(data: dict[str, Any], kind: str, post_id: int) -> tuple[Any, int]:
    """Comment on a question or an answer (below the comment privilege: only on one's own
    thread; not in a locked thread but as staff)."""
    target: Question | Answer = (questions_service.get_question(post_id, member()) if kind == "questions"
                                 else answers_service.get_answer(post_id, member()))
    return comments_service.add_comment(member(), target, data["body"]), 201


# --------------------------------------------------------------------------- edits

@bp.route("/questions/<int:question_id>", methods=["PATCH"])
@changes("write")
@bp.arguments(QuestionEditIn)
@bp.response(200, QuestionOut)
@bp.alt_response(202, schema=SuggestedOut, description="Below the edit privilege: the edit waits for review.")
@documents(401, 403, 404, 409)
def edit_question(data: dict[str, Any], question_id: int) -> With | Response:
    """Edit a question (title, body, tags; omitted ones stay), with a revision in its history.

    As on the edit page: one's own post, a moderator, or the edit privilege applies it (200);
    below the privilege the edit becomes a suggestion for review (202). 409 when nothing
    changed or a suggestion already waits.
    """
    question = questions_service.get_question(question_id, member())
    tags = data.get("tags")
    change = QuestionInput(title=data.get("title", question.title), body=data.get("body", question.body),
                           tags=" ".join(tags) if tags is not None else " ".join(t.name for t in question.tags))
    outcome = editing.edit_or_suggest(member(), question, change, data["summary"])
    return suggested(outcome) if outcome.suggested else thread(question.id)


@bp.route("/answers/<int:answer_id>", methods=["PATCH"])
@changes("write")
@bp.arguments(AnswerEditIn)
@bp.response(200, AnswerOut)
@bp.alt_response(202, schema=SuggestedOut, description="Below the edit privilege: the edit waits for review.")
@documents(401, 403, 404, 409)
def edit_answer(data: dict[str, Any], answer_id: int) -> With | Response:
    """Edit an answer's body, with a revision in its history (or suggest the edit: 202, as on the page)."""
    post = answers_service.get_answer(answer_id, member())
    outcome = editing.edit_or_suggest(member(), post, data["body"], data["summary"])
    return suggested(outcome) if outcome.suggested else answer_with_comments(post)


@bp.route("/comments/<int:comment_id>", methods=["PATCH"])
@changes("write")
@bp.arguments(BodyIn)
@bp.response(200, CommentOut)
@documents(401, 403, 404, 409)
def edit_comment(data: dict[str, Any], comment_id: int) -> Any:
    """Edit a comment: its author within the edit window (COMMENT_EDIT_SECONDS), or a moderator."""
    found = comments_service.get_visible_comment(comment_id, member())
    return comments_service.edit_comment(member(), found, data["body"])


# --------------------------------------------------------------------------- votes

#: The path's plural, as the post type the services name.
POSTS = {"questions": "question", "answers": "answer", "comments": "comment"}


def _vote(kind: str, post_id: int, value: int) -> dict[str, int]:
    result = votes_service.cast_vote(member(), POSTS[kind], post_id, value)
    return {"score": result.score, "my_vote": result.my_vote}


@bp.route("/<any(questions, answers):kind>/<int:post_id>/vote", methods=["PUT"])
@changes("write")
@bp.arguments(VoteIn)
@bp.response(200, VoteOut)
@documents(401, 403, 404, 409, 429)
def vote(data: dict[str, Any], kind: str, post_id: int) -> dict[str, int]:
    """Set the caller's vote on a question or an answer: 1 up, -1 down, 0 withdraw.

    403 on one's own post, in a locked thread, or below the reputation the privileges page
    lists for up or down votes (with ``help_url``); 429 past the daily vote limit.
    """
    return _vote(kind, post_id, data["value"])


@bp.route("/<any(questions, answers):kind>/<int:post_id>/vote", methods=["DELETE"])
@changes("write")
@bp.response(200, VoteOut)
@documents(401, 403, 404, 409)
def unvote(kind: str, post_id: int) -> dict[str, int]:
    """Withdraw the caller's vote (no privilege needed)."""
    return _vote(kind, post_id, 0)


# --------------------------------------------------------------------------- acceptance

def _acceptance(question: Question) -> dict[str, int | None]:
    return {"question_id": question.id, "accepted_answer_id": question.accepted_answer_id}


@bp.route("/answers/<int:answer_id>/accepted", methods=["PUT"])
@changes("write")
@bp.response(200, AcceptanceOut)
@documents(401, 403, 404)
def accept(answer_id: int) -> dict[str, int | None]:
    """Accept the answer, replacing any earlier one: the asker or staff, on an unlocked question."""
    post = answers_service.get_answer(answer_id, member())
    curation.accept_answer(member(), post)
    return _acceptance(post.question)


@bp.route("/answers/<int:answer_id>/accepted", methods=["DELETE"])
@changes("write")
@bp.response(200, AcceptanceOut)
@documents(401, 403, 404, 409)
def unaccept(answer_id: int) -> dict[str, int | None]:
    """Withdraw the acceptance of this answer (the asker or staff). 409 when it is not the accepted one."""
    post = answers_service.get_answer(answer_id, member())
    curation.unaccept_answer(member(), post.question, post)
    return _acceptance(post.question)


# --------------------------------------------------------------------------- flags

@bp.route("/<any(questions, answers, comments):kind>/<int:post_id>/flags", methods=["POST"])
@changes("write")
@idempotent
@bp.arguments(FlagIn)
@bp.response(201, FlagOut)
@documents(401, 403, 404, 409)
def flag(data: dict[str, Any], kind: str, post_id: int) -> tuple[Any, int]:
    """Flag a question, an answer or a comment for the moderators (a note is required for "other").

    403 on one's own post; 409 when the caller flagged it before.
    """
    return flags_service.flag_post(member(), POSTS[kind], post_id, data["reason"], data["note"]), 201


# --------------------------------------------------------------------------- following

@bp.route("/questions/<int:question_id>/follow", methods=["PUT", "DELETE"])
@changes("write")
@bp.response(200, FollowOut)
@documents(401, 403, 404)
def follow_question(question_id: int) -> dict[str, bool]:
    """PUT follows a question (its new answers and comments notify the caller), DELETE stops; both idempotent."""
    question = questions_service.get_question(question_id, member())
    if request.method == "DELETE":
        following.unfollow_question(member(), question)
    else:
        following.follow_question(member(), question)
    return {"following": request.method == "PUT"}


@bp.route("/tags/<name>/follow", methods=["PUT", "DELETE"])
@changes("write")
@bp.response(200, FollowOut)
@documents(401, 403, 404)
def follow_tag(name: str) -> dict[str, bool]:
    """PUT follows a tag (its new unanswered questions come in the caller's daily digest), DELETE
    stops; both idempotent."""
    tag = questions_service.get_tag(name)
    if request.method == "DELETE":
        following.unfollow_tag(member(), tag)
    else:
        following.follow_tag(member(), tag)
    return {"following": request.method == "PUT"}
