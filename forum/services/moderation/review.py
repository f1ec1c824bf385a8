"""The review queue (posts held by the safety checks), and un-hiding and restoring any post.

Nothing a customer wrote is destroyed: "reject" hides the post, and both hiding and
deletion can be undone (``unhide``, ``restore``). Each action is logged with before/after.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, literal, select, union_all

from ...events import Body, PostApproved, PostRejected, publish
from ...extensions import db
from ...models import Answer, Comment, Question, User
from ..audit import log_action
from ..errors import InvalidState
from ..flags import Post, PostRef, find_post, load_posts, post_state
from ..links import render_body
from ..pagination import Page
from ..permissions import require
from ..safety import Watched, find_watched_word, has_link, watched_words
from ..visibility import hide_post, undelete_post, unhide_post
from .common import clean_reason

HIDDEN_LABELS = {
    "review": "Hidden: waiting for review",
    "flags": "Hidden after flags",
    "moderator": "Hidden by a moderator",
}


def hidden_label(post: Post) -> str:
    return HIDDEN_LABELS.get(post.hidden_reason, "Hidden")


@dataclass
class ReviewItem:
    ref: PostRef
    why: str  # why the post was held, worked out again from its text


def _why_held(post: Post, words: Sequence[Watched]) -> str:
    text = f"{post.title}\n{post.body}" if isinstance(post, Question) else post.body
    word = find_watched_word(text, words)
    if word is not None:
        return f"Watched word: “{word.phrase}”"
    if has_link(text):
        return "Link from a new member"
    return "Held for review"


def review_queue(page: int) -> Page[ReviewItem]:
    """Posts held for review (hidden with reason "review", not deleted), oldest first."""
    parts = [
        select(literal(name).label("post_type"), model.id.label("post_id"), model.created_at.label("created_at"))
        .where(model.hidden_at.is_not(None), model.hidden_reason == "review", model.deleted_at.is_(None))
        for name, model in (("question", Question), ("answer", Answer), ("comment", Comment))
    ]
    queue = union_all(*parts).subquery()
    per_page = current_app.config["PER_PAGE"]
    total = db.session.scalar(select(func.count()).select_from(queue)) or 0
    rows = db.session.execute(
        select(queue.c.post_type, queue.c.post_id)
        .order_by(queue.c.created_at, queue.c.post_type, queue.c.post_id)
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    keys = [(r.post_type, r.post_id) for r in rows]
    refs = load_posts(keys)
    words = watched_words() if keys else ()
    items = [ReviewItem(refs[k], _why_held(refs[k].post, words)) for k in keys if k in refs]
    return Page(items=items, page=page, per_page=per_page, total=total)


def review_count() -> int:
    return sum(
        db.session.scalar(select(func.count(model.id)).where(
            model.hidden_at.is_not(None), model.hidden_reason == "review", model.deleted_at.is_(None))) or 0
        for model in (Question, Answer, Comment)
    )


def _held_for_review(post_type: str, post_id: int) -> Post:
    post = find_post(post_type, post_id)
    if post.hidden_at is None or post.hidden_reason != "review" or post.is_deleted:
        raise InvalidState("That post is no longer waiting for review.")
    return post


def approve_post(actor: User, post_type: str, post_id: int) -> Post:
    """Publish a post from the review queue and announce it (PostApproved: notifications on a
    first publication, links and mentions, badges follow). Raises PermissionDenied, NotFound,
    InvalidState (no longer waiting for review)."""
    require(actor, "moderate")
    post = _held_for_review(post_type, post_id)
    before = post_state(post)
    # Held when first written (hidden the moment it was created), not sent back by an edit:
    # only then do the asker and followers hear of it now; they already did otherwise.
    first_publication = post.hidden_at == post.created_at
    unhide_post(post)
    log_action(actor, "approve", post_type, post.id, before=before, after=post_state(post))
    db.session.flush()
    # Mentions are recorded (and their members told, once) now that the post is visible.
    rendered = render_body(post.body, inline=isinstance(post, Comment))
    publish(PostApproved(question_id=post.id if isinstance(post, Question) else post.question_id,
                         post_type=post.kind, post_id=post.id, actor_id=actor.id, first_publication=first_publication,
                         body=Body.of(post.kind, post.id, post.author_id, rendered)))
    return post


def reject_post(actor: User, post_type: str, post_id: int, reason: str = "") -> Post:
    """Keep a queued post hidden for good (reason "moderator"); it can still be unhidden later.
    Announced (PostRejected: the author hears it, with the reason). Raises PermissionDenied,
    NotFound, InvalidState (no longer waiting for review)."""
    require(actor, "moderate")
    post = _held_for_review(post_type, post_id)
    reason = clean_reason(reason, required=False)
    before = post_state(post)
    hide_post(post, "moderator")
    log_action(actor, "reject", post_type, post.id, reason=reason, before=before, after=post_state(post))
    db.session.flush()
    publish(PostRejected(question_id=post.id if isinstance(post, Question) else post.question_id,
                         post_type=post.kind, post_id=post.id, actor_id=actor.id, reason=reason))
    return post


def unhide(actor: User, post_type: str, post_id: int, reason: str = "") -> Post:
    """Make a hidden post visible again. Raises PermissionDenied, NotFound, InvalidState (not hidden)."""
    require(actor, "hide")
    post = find_post(post_type, post_id)
    if post.hidden_at is None:
        raise InvalidState("That post is not hidden.")
    before = post_state(post)
    unhide_post(post)
    log_action(actor, "unhide", post_type, post.id, reason=clean_reason(reason, required=False), before=before,
               after=post_state(post))
    db.session.flush()
    return post


def restore(actor: User, post_type: str, post_id: int, reason: str = "") -> Post:
    """Undo a soft deletion (anyone's). Raises PermissionDenied, NotFound, InvalidState (not deleted)."""
    require(actor, "moderate")
    post = find_post(post_type, post_id)
    if not post.is_deleted:
        raise InvalidState("That post is not deleted.")
    before = post_state(post)
    undelete_post(post)
    log_action(actor, "restore", post_type, post.id, reason=clean_reason(reason, required=False), before=before,
               after=post_state(post))
    db.session.flush()
    return post
