"""Hiding and un-hiding posts, with the counters that depend on visibility.

A hidden post (pending review, hidden by flags or by a moderator) counts nowhere: not in
its question's answer count, not in tag counts, not in search. Its author and staff still
see it, marked as hidden. Nothing is destroyed.
"""
from __future__ import annotations

from ..events import PostHidden, PostRestored, publish
from ..extensions import db
from ..models import Answer, Comment, Question
from ..models.base import utcnow
from .posts import touch_question

Post = Question | Answer | Comment


def _counted(post: Post) -> bool:
    return post.deleted_at is None and post.hidden_at is None


def _move_counters(post: Post, delta: int) -> None:
    if isinstance(post, Question):
        from .questions import move_tag_counts

        move_tag_counts([t.id for t in post.tags], delta)
    elif isinstance(post, Answer):
        touch_question(post.question_id, answers_delta=delta)


def hide_post(post: Post, reason: str) -> None:
    """Hide ``post`` (idempotent); ``reason`` is "review", "flags", "moderator" or "spam"."""
    if post.hidden_at is not None:
        post.hidden_reason = reason
        return
    was_counted = _counted(post)
    if isinstance(post, Answer):
        from .answers import release_acceptance

        release_acceptance(post)
    post.hidden_at = utcnow()
    post.hidden_reason = reason
    if was_counted:
        _move_counters(post, -1)
    db.session.flush()
    _recount_first_response(post)
    publish(PostHidden(question_id=_question_id(post), post_type=post.kind, post_id=post.id, reason=reason))


def unhide_post(post: Post) -> None:
    """Make a hidden post visible again (idempotent)."""
    if post.hidden_at is None:
        return
    post.hidden_at = None
    post.hidden_reason = ""
    if _counted(post):
        _move_counters(post, +1)
    db.session.flush()
    _recount_first_response(post)
    publish(PostRestored(question_id=_question_id(post), post_type=post.kind, post_id=post.id))


def _question_id(post: Post) -> int:
    return post.id if isinstance(post, Question) else post.question_id


def _recount_first_response(post: Post) -> None:
    """An answer or comment that appears or disappears may be the question's first response."""
    if not isinstance(post, Question):
        from .support import recompute_first_response

        recompute_first_response(post.question_id)
