"""@mentions: who is notified (once per post) and the username suggestions of the composer."""
from __future__ import annotations

from collections.abc import Sequence

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..events import BodyEvent
from ..extensions import db
from ..markup import excerpt
from ..models import Answer, Article, Comment, PostMention, Question, User
from ..models.base import utcnow
from . import notifications
from .activity import question_path
from .links import source_of

SUGGEST_LIMIT = 8
Post = Question | Answer | Comment | Article


def post_path(post: Post) -> str:
    """Site-relative link to a post: the same canonical URL the answer and comment
    notifications use, so a member mentioned in an answer to their own question hears of it once."""
    if isinstance(post, Question):
        return question_path(post)
    if isinstance(post, Answer):
        return question_path(post.question, f"answer-{post.id}")
    if isinstance(post, Comment):
        return question_path(db.session.get_one(Question, post.question_id), f"comment-{post.id}")
    return f"/articles/{post.id}"


def _is_public(post: Post) -> bool:
    if isinstance(post, Article):
        return post.is_published
    return post.is_visible


def record_mentions(post: Post, mentioned: Sequence[int], actor: User | None, *, notify: bool = True) -> list[int]:
    """Record the users ``mentioned`` (ids, as rendered) and notify those not told about this post before.

    At most MENTIONS_MAX users per post (the renderer already links no more). The unique (post, user) row decides who is new, so
    an edit tells only newly added names and two saves at once cannot notify anyone twice.
    Posts nobody else can see yet (pending review, drafts) notify nobody and record nothing,
    so the mention counts once the post is visible and edited. Returns the ids notified.
    """
    ids = list(mentioned[: current_app.config["MENTIONS_MAX"]])
    if not ids or not _is_public(post):
        return []
    kind, ident, _ = source_of(post)
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    new = set(db.session.scalars(
        insert(PostMention).values([{"source_type": kind, "source_id": ident, "user_id": uid, "created_at": now}
                                    for uid in ids])
        .on_conflict_do_nothing(index_elements=["source_type", "source_id", "user_id"])
        .returning(PostMention.user_id)
    ))
    told = [uid for uid in ids if uid in new and uid != getattr(actor, "id", None)]
    if notify and told:
        who = actor.username if actor is not None else "Someone"
        where = {"question": "a question", "answer": "an answer", "comment": "a comment", "article": "an article"}[kind]
        notifications.notify(told, "mention", actor=actor, subject=f"{who} mentioned you in {where}",
                             url=post_path(post), text=excerpt(post.body_html, 200))
    return told


def record_body_mentions(event: BodyEvent) -> None:
    """Subscriber: a post or article was written; record and announce the mentions of its body."""
    body = event.body
    post: Post | None
    if body.source_type == "question":
        post = db.session.get(Question, body.source_id)
    elif body.source_type == "answer":
        post = db.session.get(Answer, body.source_id)
    elif body.source_type == "comment":
        post = db.session.get(Comment, body.source_id)
    else:
        post = db.session.get(Article, body.source_id)
    if post is None:
        return
    writer = db.session.get(User, body.writer_id) if body.writer_id is not None else None
    record_mentions(post, body.mentions, writer)


def suggest_users(prefix: str, limit: int = SUGGEST_LIMIT) -> list[User]:
    """Users whose username starts with ``prefix`` (case-insensitive), for @-completion.

    Only active accounts (not suspended, not deleted); at most ``limit``; shortest names first so the
    exact name comes before longer ones. An empty or malformed prefix gives an empty list.
    """
    prefix = prefix.strip().lstrip("@").lower()[:30]
    if not prefix or not all(c.isascii() and (c.isalnum() or c == "_") for c in prefix):
        return []
    # "_" is a LIKE wildcard: escape it so "a_b" does not match "axb".
    pattern = prefix.replace("\\", "\\\\").replace("_", "\\_") + "%"
    now = utcnow()
    stmt = (select(User).where(User.username_key.like(pattern, escape="\\"), User.deleted_at.is_(None),
                               or_(User.suspended_until.is_(None), User.suspended_until <= now))
            .order_by(db.func.length(User.username_key), User.username_key).limit(max(1, min(limit, SUGGEST_LIMIT))))
    return list(db.session.scalars(stmt))
