"""Hiding, deleting and restoring posts, with the counters that depend on visibility.

A hidden post (pending review, hidden by flags or by a moderator) or a soft-deleted one counts
nowhere: not in its question's answer count, not in tag counts, not in search, not as a first
response. Its author and staff still see it, marked as hidden or deleted. Nothing is destroyed.

Every change here moves the counters (atomic SQL) and releases an acceptance that can no
longer stand, in the caller's transaction, then announces it: ``PostHidden`` (reason
"deleted" for a deletion) or ``PostRestored``. What follows (first-response tracking, search)
subscribes to those events (forum/subscribers.py). Who may do it is checked by the callers.
"""
from __future__ import annotations

from ..events import AnswerUnaccepted, PostHidden, PostRestored, publish
from ..extensions import db
from ..models import Answer, Comment, Question, User
from ..models.base import utcnow
from . import reputation
from .posts import move_tag_counts, touch_question

Post = Question | Answer | Comment


def _move_counters(post: Post, delta: int) -> None:
    if isinstance(post, Question):
        move_tag_counts([t.id for t in post.tags], delta)
    elif isinstance(post, Answer):
        touch_question(post.question_id, answers_delta=delta)


def _question_id(post: Post) -> int:
    return post.id if isinstance(post, Question) else post.question_id


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


def hide_post(post: Post, reason: str) -> None:
    """Hide ``post`` (idempotent); ``reason`` is "review", "flags", "moderator" or "spam"."""
    if post.hidden_at is not None:
        post.hidden_reason = reason
        return
    was_counted = post.is_visible
    if isinstance(post, Answer):
        release_acceptance(post)
    post.hidden_at = utcnow()
    post.hidden_reason = reason
    if was_counted:
        _move_counters(post, -1)
    db.session.flush()
    publish(PostHidden(question_id=_question_id(post), post_type=post.kind, post_id=post.id, reason=reason))


def unhide_post(post: Post) -> None:
    """Make a hidden post visible again (idempotent)."""
    if post.hidden_at is None:
        return
    post.hidden_at = None
    post.hidden_reason = ""
    if post.is_visible:
        _move_counters(post, +1)
    db.session.flush()
    publish(PostRestored(question_id=_question_id(post), post_type=post.kind, post_id=post.id))


def delete_post(actor: User, post: Post) -> None:
    """Soft-delete ``post``: hidden from others, kept for its author and staff, restorable."""
    was_counted = post.is_visible
    if isinstance(post, Answer):
        release_acceptance(post)
    post.deleted_at = utcnow()
    post.deleted_by_id = actor.id
    if was_counted:
        _move_counters(post, -1)
    db.session.flush()
    publish(PostHidden(question_id=_question_id(post), post_type=post.kind, post_id=post.id, reason="deleted"))


def undelete_post(post: Post) -> None:
    """Undo a soft deletion; the post counts again unless it is also hidden."""
    post.deleted_at = None
    post.deleted_by_id = None
    if post.is_visible:
        _move_counters(post, +1)
    db.session.flush()
    publish(PostRestored(question_id=_question_id(post), post_type=post.kind, post_id=post.id))
