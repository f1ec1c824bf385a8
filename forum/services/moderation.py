"""Moderators act on flagged posts, the review queue and people; the log page.

(Watched words are managed in services/safety.py, beside the check that uses them.)

Every function here checks the permission rule first, changes rows, appends one entry (or
two) to the moderation log with before/after, and flushes; the view commits once. Nothing a
customer wrote is destroyed: "delete" is the soft deletion of the delete services, "hide"
and "reject" hide the post, and both can be undone (``unhide``, ``restore``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, literal, select, union_all, update

from ..extensions import db
from ..models import Answer, Comment, Flag, ModerationLog, Question, User, UserNote
from ..models.base import utcnow
from . import answers as answer_svc
from . import badges
from . import comments as comment_svc
from . import questions as question_svc
from . import activity, links, safety
from .audit import list_log, log_action
from .errors import FieldError, InvalidState, NotFound, PermissionDenied
from .flags import Post, PostRef, find_post, load_posts, post_state
from .pagination import Page
from .support import recompute_first_response
from .permissions import can, require
from .visibility import hide_post, unhide_post

FLAG_ACTIONS = ("dismiss", "hide", "delete", "warn", "suspend")
OUTCOMES = {
    "dismiss": "A moderator reviewed the post and left it up.",
    "hide": "A moderator hid the post.",
    "delete": "A moderator removed the post.",
    "warn": "A moderator warned the author.",
    "suspend": "A moderator suspended the author.",
}
REASON_MAX = 500
NOTE_MAX = 2000
HIDDEN_LABELS = {
    "review": "Hidden: waiting for review",
    "flags": "Hidden after flags",
    "moderator": "Hidden by a moderator",
}


def format_until(when: datetime) -> str:
    return when.strftime("%d %b %Y at %H:%M UTC")


def suspension_message(user: User) -> str:
    """What a suspended user reads at sign-in and when signed out by the suspension."""
    text = f"Your account is suspended until {format_until(user.suspended_until)}"  # type: ignore[arg-type]
    return f"{text}: {user.suspension_reason}" if user.suspension_reason else f"{text}."


def posting_block(user: Any) -> str | None:
    """The message that replaces the posting forms for a silenced (or suspended) user, else None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    now = utcnow()
    if user.is_suspended(now):
        return suspension_message(user)
    if user.is_silenced(now):
        text = f"You can't post until {format_until(user.silenced_until)}"
        return f"{text}: {user.silence_reason}" if user.silence_reason else f"{text}."
    return None


def hidden_label(post: Post) -> str:
    return HIDDEN_LABELS.get(post.hidden_reason, "Hidden")


def _reason(reason: str, *, required: bool = True) -> str:
    reason = " ".join((reason or "").split())
    if required and not reason:
        raise FieldError("reason", "Give a reason; it is kept in the moderation log.")
    if len(reason) > REASON_MAX:
        raise FieldError("reason", f"Keep the reason under {REASON_MAX} characters.")
    return reason


def _days(days: Any) -> int:
    limit = current_app.config["SUSPEND_MAX_DAYS"]
    try:
        n = int(days)
    except (TypeError, ValueError):
        raise FieldError("days", f"Enter a number of days from 1 to {limit}.") from None
    if not 1 <= n <= limit:
        raise FieldError("days", f"Enter a number of days from 1 to {limit}.")
    return n


# ---------------------------------------------------------------- people


def _require_can_restrict(actor: User, user: User) -> None:
    require(actor, "moderate")
    if not can(actor, "suspend", user):
        raise PermissionDenied("Staff accounts can't be suspended or silenced.")


def _user_state(user: User) -> dict[str, Any]:
    return {"suspended_until": user.suspended_until, "suspension_reason": user.suspension_reason,
            "silenced_until": user.silenced_until, "silence_reason": user.silence_reason}


def suspend_user(actor: User, user: User, days: Any, reason: str) -> None:
    """Suspend ``user`` for ``days`` with a reason they will read at sign-in.

    Raises PermissionDenied (not a moderator, or the target is staff) and FieldError("days"/"reason").
    The user's open sessions end on their next request (see web.load_user).
    """
    _require_can_restrict(actor, user)
    n, reason = _days(days), _reason(reason)
    before = _user_state(user)
    user.suspended_until = utcnow() + timedelta(days=n)
    user.suspension_reason = reason
    log_action(actor, "suspend", "user", user.id, reason=reason, before=before, after=_user_state(user))
    db.session.flush()


def unsuspend_user(actor: User, user: User, reason: str = "") -> None:
    """Raises PermissionDenied unless a moderator, InvalidState when not suspended."""
    require(actor, "moderate")
    if not user.is_suspended(utcnow()):
        raise InvalidState(f"{user.username} is not suspended.")
    before = _user_state(user)
    user.suspended_until = None
    user.suspension_reason = ""
    log_action(actor, "unsuspend", "user", user.id, reason=_reason(reason, required=False), before=before,
               after=_user_state(user))
    db.session.flush()


def silence_user(actor: User, user: User, days: Any, reason: str) -> None:
    """The user can read but not post (or flag) for ``days``. Same errors as suspend_user."""
    _require_can_restrict(actor, user)
    n, reason = _days(days), _reason(reason)
    before = _user_state(user)
    user.silenced_until = utcnow() + timedelta(days=n)
    user.silence_reason = reason
    log_action(actor, "silence", "user", user.id, reason=reason, before=before, after=_user_state(user))
    db.session.flush()


def unsilence_user(actor: User, user: User, reason: str = "") -> None:
    """Raises PermissionDenied unless a moderator, InvalidState when not silenced."""
    require(actor, "moderate")
    if not user.is_silenced(utcnow()):
        raise InvalidState(f"{user.username} is not silenced.")
    before = _user_state(user)
    user.silenced_until = None
    user.silence_reason = ""
    log_action(actor, "unsilence", "user", user.id, reason=_reason(reason, required=False), before=before,
               after=_user_state(user))
    db.session.flush()


def warn_user(actor: User, user: User, reason: str, *, post: Post | None = None) -> UserNote:
    """Record a warning: a log entry and a moderator note on the user. Raises PermissionDenied, FieldError."""
    require(actor, "note_user", user)
    reason = _reason(reason)
    about = f" (about {type(post).__name__.lower()} {post.id})" if post is not None else ""
    note = UserNote(user_id=user.id, author_id=actor.id, body=f"Warned{about}: {reason}"[:NOTE_MAX])
    db.session.add(note)
    db.session.flush()
    after: dict[str, Any] = {"warning": reason, "note_id": note.id}
    if post is not None:
        after["post"] = f"{type(post).__name__.lower()} {post.id}"
    log_action(actor, "warn", "user", user.id, reason=reason, before={}, after=after)
    db.session.flush()
    return note


def add_note(actor: User, user: User, body: str) -> UserNote:
    """A private moderator note. Raises PermissionDenied (moderators only) and FieldError("body")."""
    require(actor, "note_user", user)
    body = (body or "").strip()
    if not body:
        raise FieldError("body", "Write the note first.")
    if len(body) > NOTE_MAX:
        raise FieldError("body", f"Keep notes under {NOTE_MAX} characters (this is {len(body)}).")
    note = UserNote(user_id=user.id, author_id=actor.id, body=body)
    db.session.add(note)
    db.session.flush()
    # The note's text stays out of the log: agents can read the log, only moderators the notes.
    log_action(actor, "add_note", "user", user.id, before={}, after={"note_id": note.id})
    db.session.flush()
    return note


def list_notes(viewer: User, user: User, limit: int = 50) -> list[UserNote]:
    """Newest first. Raises PermissionDenied unless the viewer moderates."""
    require(viewer, "note_user", user)
    return list(db.session.scalars(select(UserNote).where(UserNote.user_id == user.id)
                                   .order_by(UserNote.created_at.desc(), UserNote.id.desc()).limit(limit)))


@dataclass
class UserTools:
    user: User
    notes: list[UserNote]
    suspended: bool
    silenced: bool
    can_restrict: bool


def user_tools(viewer: User, user: User) -> UserTools:
    """What the moderator section of a profile shows. Raises PermissionDenied for non-moderators."""
    now = utcnow()
    return UserTools(user=user, notes=list_notes(viewer, user), suspended=user.is_suspended(now),
                     silenced=user.is_silenced(now), can_restrict=can(viewer, "suspend", user))


# ---------------------------------------------------------------- flagged posts


def _resolve_flags(actor: User, post_type: str, post_id: int, status: str, outcome: str) -> int:
    """Resolve the pending flags on one post in a single UPDATE; returns how many there were."""
    result = db.session.execute(
        update(Flag).where(Flag.post_type == post_type, Flag.post_id == post_id, Flag.status == "pending")
        .values(status=status, outcome=outcome, resolved_at=utcnow(), resolved_by_id=actor.id),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


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
    suspended for ``days``. The last four mark the flags "actioned".
    Raises PermissionDenied (not a moderator, or suspending staff), NotFound (unknown post or
    action), FieldError (missing reason or bad days) and InvalidState when no flag is
    pending any more (another moderator was faster): the caller rolls back.
    """
    require(actor, "moderate")
    if action not in FLAG_ACTIONS:
        raise NotFound("Unknown moderation action.")
    post = find_post(post_type, post_id)
    before = post_state(post)
    reason = _reason(reason, required=action in ("warn", "suspend"))
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
    status = "dismissed" if action == "dismiss" else "actioned"
    activity.flags_resolved(actor, post_type, post.id, action)
    resolved = _resolve_flags(actor, post_type, post.id, status, OUTCOMES[action])
    if resolved == 0:
        raise InvalidState("These flags were already handled by another moderator.")
    if status == "actioned":
        badges.on_event("flag", post=post)  # acted-on flags were helpful ones
    log_action(actor, "dismiss_flags" if action == "dismiss" else f"{action}_flagged", post_type, post.id,
               reason=reason, before={**before, "pending_flags": pending},
               after={**post_state(post), "pending_flags": 0, "flags": status})
    db.session.flush()
    return resolved


# ---------------------------------------------------------------- review queue, unhide, restore


@dataclass
class ReviewItem:
    ref: PostRef
    why: str  # why the post was held, worked out again from its text


def _why_held(post: Post, words: list[Any]) -> str:
    text = f"{post.title}\n{post.body}" if isinstance(post, Question) else post.body
    word = safety.find_watched_word(text, words)
    if word is not None:
        return f"Watched word: “{word.phrase}”"
    if safety.has_link(text):
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
    words = safety.load_watched_words() if keys else []
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
    """Publish a post from the review queue. Raises PermissionDenied, NotFound, InvalidState."""
    require(actor, "moderate")
    post = _held_for_review(post_type, post_id)
    before = post_state(post)
    # Held when first written (hidden the moment it was created), not sent back by an edit:
    # only then do the asker and followers hear of it now; they already did otherwise.
    first_publication = post.hidden_at == post.created_at
    unhide_post(post)
    if first_publication:
        activity.post_published(post)
    # Mentions are recorded (and their members told, once) when the post becomes visible.
    links.after_write(post, links.render_body(post.body, inline=isinstance(post, Comment)), post.author)
    if isinstance(post, Answer):
        badges.on_event("answer", post=post)  # held answers count once they are published
    log_action(actor, "approve", post_type, post.id, before=before, after=post_state(post))
    db.session.flush()
    return post


def reject_post(actor: User, post_type: str, post_id: int, reason: str = "") -> Post:
    """Keep a queued post hidden for good (reason "moderator"); it can still be unhidden later."""
    require(actor, "moderate")
    post = _held_for_review(post_type, post_id)
    reason = _reason(reason, required=False)
    before = post_state(post)
    hide_post(post, "moderator")
    log_action(actor, "reject", post_type, post.id, reason=reason, before=before, after=post_state(post))
    db.session.flush()
    return post


def unhide(actor: User, post_type: str, post_id: int, reason: str = "") -> Post:
    """Make a hidden post visible again. Raises PermissionDenied, NotFound, InvalidState (not hidden)."""
    require(actor, "hide")
    post = find_post(post_type, post_id)
    if post.hidden_at is None:
        raise InvalidState("That post is not hidden.")
    before = post_state(post)
    unhide_post(post)
    log_action(actor, "unhide", post_type, post.id, reason=_reason(reason, required=False), before=before,
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
    if isinstance(post, Question):
        question_svc.restore_question(actor, post)
    elif isinstance(post, Answer):
        answer_svc.restore_answer(actor, post)
    else:
        post.deleted_at = None
        post.deleted_by_id = None
        db.session.flush()
        recompute_first_response(post.question_id)
    log_action(actor, "restore", post_type, post.id, reason=_reason(reason, required=False), before=before,
               after=post_state(post))
    db.session.flush()
    return post


# ---------------------------------------------------------------- the log page


LOG_TARGET_TYPES = ("question", "answer", "comment", "user", "watched_word")


@dataclass
class LogPage:
    page: Page[ModerationLog]
    posts: dict[tuple[str, int], PostRef]
    users: dict[int, User]


def log_page(viewer: User, page: int, target_type: str | None = None, target_id: int | None = None) -> LogPage:
    """The moderation log, newest first, with its targets loaded (a fixed number of queries).

    Raises PermissionDenied unless the viewer is staff ("view_moderation_log").
    """
    require(viewer, "view_moderation_log")
    if target_type not in LOG_TARGET_TYPES:
        target_type, target_id = None, None
    result = list_log(page, target_type, target_id)
    posts = load_posts([(e.target_type, e.target_id) for e in result.items
                        if e.target_type in ("question", "answer", "comment")])
    user_ids = {e.target_id for e in result.items if e.target_type == "user"}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    return LogPage(result, posts, users)
