"""Moderators act on people: suspend, silence, warn, and keep private notes.

Every function checks the permission rule first, changes rows, appends an entry to the
moderation log with before/after, and flushes; the view commits once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from ...events import UserSuspended, publish
from ...extensions import db
from ...models import Answer, Comment, Question, User, UserNote
from ...models.base import utcnow
from ..audit import log_action
from ..errors import FieldError, InvalidState, PermissionDenied
from ..permissions import can, require
from .common import clean_reason

NOTE_MAX = 2000


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


def _days(days: Any) -> int:
    limit = current_app.config["SUSPEND_MAX_DAYS"]
    try:
        n = int(days)
    except (TypeError, ValueError):
        raise FieldError("days", f"Enter a number of days from 1 to {limit}.") from None
    if not 1 <= n <= limit:
        raise FieldError("days", f"Enter a number of days from 1 to {limit}.")
    return n


def _require_can_restrict(actor: User, user: User) -> None:
    require(actor, "moderate")
    if not can(actor, "suspend", user):
        raise PermissionDenied("Staff accounts can't be suspended or silenced.")


def _user_state(user: User) -> dict[str, Any]:
    return {"suspended_until": user.suspended_until, "suspension_reason": user.suspension_reason,
            "silenced_until": user.silenced_until, "silence_reason": user.silence_reason}


def suspend_user(actor: User, user: User, days: Any, reason: str) -> None:
    """Suspend ``user`` for ``days`` with a reason they will read at sign-in (UserSuspended).

    Raises PermissionDenied (not a moderator, or the target is staff) and FieldError("days"/"reason").
    The user's open sessions end on their next request (see web.load_user).
    """
    _require_can_restrict(actor, user)
    n, reason = _days(days), clean_reason(reason)
    before = _user_state(user)
    user.suspended_until = utcnow() + timedelta(days=n)
    user.suspension_reason = reason
    log_action(actor, "suspend", "user", user.id, reason=reason, before=before, after=_user_state(user))
    db.session.flush()
    publish(UserSuspended(user_id=user.id, actor_id=actor.id, until=user.suspended_until))


def unsuspend_user(actor: User, user: User, reason: str = "") -> None:
    """Raises PermissionDenied unless a moderator, InvalidState when not suspended."""
    require(actor, "moderate")
    if not user.is_suspended(utcnow()):
        raise InvalidState(f"{user.username} is not suspended.")
    before = _user_state(user)
    user.suspended_until = None
    user.suspension_reason = ""
    log_action(actor, "unsuspend", "user", user.id, reason=clean_reason(reason, required=False), before=before,
               after=_user_state(user))
    db.session.flush()


def silence_user(actor: User, user: User, days: Any, reason: str) -> None:
    """The user can read but not post (or flag) for ``days``. Same errors as suspend_user."""
    _require_can_restrict(actor, user)
    n, reason = _days(days), clean_reason(reason)
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
    log_action(actor, "unsilence", "user", user.id, reason=clean_reason(reason, required=False), before=before,
               after=_user_state(user))
    db.session.flush()


def warn_user(actor: User, user: User, reason: str, *, post: Question | Answer | Comment | None = None) -> UserNote:
    """Record a warning: a log entry and a moderator note on the user. Raises PermissionDenied, FieldError."""
    require(actor, "note_user", user)
    reason = clean_reason(reason)
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
