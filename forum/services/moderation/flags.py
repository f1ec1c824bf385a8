"""Moderators resolve the pending flags on a post: dismiss them, or act (hide, delete, warn, suspend).

The members' side of flags (raising them, "My flags", the queue's grouping) is services/flags.py.
"""
from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import func, select, update

from ...events import FlagsResolved, publish
from ...extensions import db
from ...models import Answer, Flag, Question, User
from ...models.base import utcnow
from .. import answers as answer_svc
from .. import comments as comment_svc
from .. import questions as question_svc
from ..audit import log_action
from ..errors import InvalidState, NotFound
from ..flags import Post, find_post, post_state
from ..permissions import require
from ..visibility import hide_post, unhide_post
from .common import clean_reason
from .people import suspend_user, warn_user

FLAG_ACTIONS = ("dismiss", "hide", "delete", "warn", "suspend")
OUTCOMES = {
    "dismiss": "A moderator reviewed the post and left it up.",
    "hide": "A moderator hid the post.",
    "delete": "A moderator removed the post.",
    "warn": "A moderator warned the author.",
    "suspend": "A moderator suspended the author.",
}


def _soft_delete(actor: User, post: Post) -> None:
    if post.is_deleted:
        raise InvalidState("That post is already deleted.")
    if isinstance(post, Question):
        question_svc.delete_question(actor, post)
    elif isinstance(post, Answer):
        answer_svc.delete_answer(actor, post)
    else:
        comment_svc.delete_comment(actor, post)


def act_on_flags(actor: User, post_type: str, post_id: int, action: str, *, reason: str = "",
                 days: Any = None) -> int:
    """Resolve the pending flags on a post with one of FLAG_ACTIONS; returns how many flags.

    dismiss: flags dismissed (a post hidden by flags becomes visible again); hide: hidden
    with reason "moderator"; delete: soft-deleted; warn / suspend: the author is warned or
    suspended for ``days``. The last four mark the flags "actioned". Announced as
    FlagsResolved (the flaggers hear the outcome; acted-on flags may earn badges).
    Raises PermissionDenied (not a moderator, or suspending staff), NotFound (unknown post or
    action), FieldError (missing reason or bad days) and InvalidState when no flag is
    pending any more (another moderator was faster): the caller rolls back.
    """
    require(actor, "moderate")
    if action not in FLAG_ACTIONS:
        raise NotFound("Unknown moderation action.")
    post = find_post(post_type, post_id)
    before = post_state(post)
    reason = clean_reason(reason, required=action in ("warn", "suspend"))
    pending = db.session.scalar(select(func.count(Flag.id)).where(
        Flag.post_type == post_type, Flag.post_id == post.id, Flag.status == "pending")) or 0
    if action == "dismiss":
        if post.hidden_at is not None and post.hidden_reason == "flags":
            unhide_post(post)
    elif action == "hide":
        hide_post(post, "moderator")
    elif action == "delete":
        _soft_delete(actor, post)
    elif action == "warn":
        warn_user(actor, post.author, reason, post=post)
    elif action == "suspend":
        suspend_user(actor, post.author, days, reason)
    status: Literal["dismissed", "actioned"] = "dismissed" if action == "dismiss" else "actioned"
    now = utcnow()
    flaggers = tuple(db.session.scalars(
        update(Flag).where(Flag.post_type == post_type, Flag.post_id == post.id, Flag.status == "pending")
        .values(status=status, outcome=OUTCOMES[action], resolved_at=now, resolved_by_id=actor.id)
        .returning(Flag.flagger_id), execution_options={"synchronize_session": False}))
    if not flaggers:
        raise InvalidState("These flags were already handled by another moderator.")
    log_action(actor, "dismiss_flags" if action == "dismiss" else f"{action}_flagged", post_type, post.id,
               reason=reason, before={**before, "pending_flags": pending},
               after={**post_state(post), "pending_flags": 0, "flags": status})
    db.session.flush()
    publish(FlagsResolved(question_id=post.id if isinstance(post, Question) else post.question_id,
                          post_type=post.kind, post_id=post.id, actor_id=actor.id, action=action, status=status,
                          flagger_ids=flaggers))
    return len(flaggers)
