"""Comments on questions and answers: short, inline Markdown, briefly editable."""
from __future__ import annotations

from flask import current_app

from ..events import Body, CommentAdded, PostEdited, publish
from ..extensions import db
from ..markup import RENDER_VERSION
from ..models import Answer, Comment, Question, User
from ..models.base import utcnow
from .answers import get_answer
from .errors import FieldError, InvalidState, NotFound, PermissionDenied
from .links import render_body
from .permissions import can, require
from .posts import refuse_placeholders, touch_question, without_nul
from .questions import get_question
from .safety import check_edited_post, check_new_post
from .visibility import delete_post, hide_post


def _check(body: str) -> str:
    body = " ".join(without_nul(body).split())
    limit = current_app.config["COMMENT_MAX_LENGTH"]
    if len(body) < 2:
        raise FieldError("body", "Write a comment first.")
    if len(body) > limit:
        raise FieldError("body", f"Comments are at most {limit} characters (this is {len(body)}).")
    refuse_placeholders(body)
    return body


def add_comment(author: User, target: Question | Answer, body: str) -> Comment:
    """Comment on a question or answer and announce it (CommentAdded: links, mentions, first
    response and notifications follow). Raises PermissionDenied, FieldError or RateLimited."""
    require(author, "comment", target, "This post no longer takes comments.")
    body = _check(body)
    verdict = check_new_post(author, body, kind="comment")
    question_id = target.id if isinstance(target, Question) else target.question_id
    rendered = render_body(body, inline=True)
    comment = Comment(
        question_id=question_id,
        answer_id=target.id if isinstance(target, Answer) else None,
        author=author,
        body=body,
        body_html=rendered.html,
        render_version=RENDER_VERSION,
        created_at=utcnow(),
    )
    if verdict == "review":
        comment.hidden_at, comment.hidden_reason = comment.created_at, "review"
    db.session.add(comment)
    db.session.flush()
    touch_question(question_id, comment.created_at)
    publish(CommentAdded(question_id=question_id, comment_id=comment.id,
                         post_type="answer" if isinstance(target, Answer) else "question", post_id=target.id,
                         author_id=author.id, published=verdict == "publish",
                         body=Body.of("comment", comment.id, author.id, rendered)))
    return comment


def get_comment(comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.is_deleted:
        raise NotFound("That comment does not exist or was deleted.")
    return comment


def get_visible_comment(comment_id: int, viewer: User | None) -> Comment:
    """The comment if ``viewer`` may see it, its question and (for a comment on an answer) its answer.

    Raises NotFound otherwise: missing, deleted, or hidden from the viewer (no existence leak).
    """
    comment = get_comment(comment_id)
    get_question(comment.question_id, viewer)
    if comment.answer_id is not None:
        get_answer(comment.answer_id, viewer)
    if not can(viewer, "view", comment):
        raise NotFound("That comment does not exist or was deleted.")
    return comment


def edit_comment(editor: User, comment: Comment, body: str) -> Comment:
    """Raises PermissionDenied once the edit window has passed, FieldError for bad input."""
    if not can(editor, "edit_comment", comment):
        if comment.author_id == getattr(editor, "id", None):
            raise PermissionDenied("Comments can only be edited for five minutes.")
        raise PermissionDenied("You can only edit your own comments.")
    body = _check(body)
    if body == comment.body:
        raise InvalidState("Nothing changed.")
    if check_edited_post(editor, body) == "review":
        hide_post(comment, "review")
    rendered = render_body(body, inline=True)
    comment.body = body
    comment.body_html = rendered.html
    comment.render_version = RENDER_VERSION
    comment.edited_at = utcnow()
    db.session.flush()
    publish(PostEdited(question_id=comment.question_id, post_type="comment", post_id=comment.id, editor_id=editor.id,
                       body=Body.of("comment", comment.id, editor.id, rendered)))
    return comment


def delete_comment(actor: User, comment: Comment) -> None:
    """Soft-delete (moderators can restore it). Raises PermissionDenied."""
    require(actor, "delete_comment", comment)
    delete_post(actor, comment)
