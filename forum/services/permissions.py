"""Who may do what: the one permission matrix.

Templates ask ``can(user, action, obj)``; services call ``require`` before they change
anything. Nothing else re-implements these rules.

Roles: anonymous, member, agent, moderator, admin. Agents, moderators and admins are staff.
Staff curate answers (accept, mark official, write articles, close, lock, pin); moderators and
admins also moderate people and hidden content (review queue, suspend, delete others' posts).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app

from ..models import Answer, Article, Comment, Question, Role, Tag, User
from ..models.base import utcnow
from .errors import PermissionDenied

MODERATORS = frozenset({Role.MODERATOR, Role.ADMIN})


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def _is_author(user: Any, obj: Any) -> bool:
    return _signed_in(user) and getattr(obj, "author_id", None) == user.id


def _moderates(user: Any) -> bool:
    return _signed_in(user) and user.role in MODERATORS


def _staff(user: Any) -> bool:
    return _signed_in(user) and user.is_staff


def _may_post(user: Any) -> bool:
    """Signed in and neither suspended nor silenced (a silenced user can read, not post)."""
    if not _signed_in(user):
        return False
    now = utcnow()
    return not (user.is_suspended(now) or user.is_silenced(now))


def _question_of(obj: Any) -> Question | None:
    if isinstance(obj, Question):
        return obj
    if isinstance(obj, Answer):
        return obj.question
    return None


def _can_view(user: Any, obj: Any) -> bool:
    if obj is None:
        return False
    if isinstance(obj, Article):
        return obj.is_published or _staff(user)
    if not obj.is_visible and not (_is_author(user, obj) or _staff(user)):
        return False
    if isinstance(obj, Answer):
        q = obj.question
        return q is not None and (q.is_visible or _is_author(user, q) or _staff(user))
    return True


def _can_answer(user: Any, obj: Any) -> bool:
    return (_may_post(user) and isinstance(obj, Question) and obj.is_visible
            and not obj.is_closed and not obj.is_locked)


def _can_comment(user: Any, obj: Any) -> bool:
    if not _may_post(user) or obj is None or not obj.is_visible:
        return False
    q = _question_of(obj)
    return q is not None and q.is_visible and (not q.is_locked or _staff(user))


def _can_edit_post(user: Any, obj: Any) -> bool:
    if obj.is_deleted or not _may_post(user):
        return False
    q = _question_of(obj)
    if q is not None and q.is_locked and not _moderates(user):
        return False
    return _is_author(user, obj) or _moderates(user)


def _can_delete_post(user: Any, obj: Any) -> bool:
    return (_is_author(user, obj) or _moderates(user)) and not obj.is_deleted


def _can_restore_post(user: Any, obj: Any) -> bool:
    if not obj.is_deleted:
        return False
    # The author may undo their own deletion, not a moderator's.
    if _moderates(user):
        return True
    return _is_author(user, obj) and obj.deleted_by_id == user.id


def _can_edit_comment(user: Any, obj: Comment) -> bool:
    if obj.is_deleted or not _signed_in(user):
        return False
    if _moderates(user):
        return True
    window = timedelta(seconds=current_app.config["COMMENT_EDIT_SECONDS"])
    return _may_post(user) and _is_author(user, obj) and utcnow() - obj.created_at <= window


def _can_delete_comment(user: Any, obj: Comment) -> bool:
    return not obj.is_deleted and (_is_author(user, obj) or _moderates(user))


def _can_accept(user: Any, obj: Answer) -> bool:
    """The asker, or any staff member, accepts an answer on a live, unlocked question."""
    q = obj.question
    if q is None or not q.is_visible or not obj.is_visible or q.is_locked:
        return False
    return _staff(user) or (_is_author(user, q) and _may_post(user))


def _can_vote(user: Any, obj: Any) -> bool:
    """Members who may post vote on others' visible questions and answers, not in locked threads."""
    if not _may_post(user) or not isinstance(obj, (Question, Answer)) or not obj.is_visible or _is_author(user, obj):
        return False
    q = _question_of(obj)
    return q is not None and q.is_visible and not q.is_locked


def _can_flag(user: Any, obj: Any) -> bool:
    return _may_post(user) and obj is not None and obj.is_visible and not _is_author(user, obj)


def _can_edit_article(user: Any, obj: Any) -> bool:
    return _staff(user)


RULES: dict[str, Callable[[Any, Any], bool]] = {
    "view": _can_view,
    "view_history": _can_view,
    "ask": lambda user, obj: _may_post(user),
    "answer": _can_answer,
    "vote": _can_vote,
    "comment": _can_comment,
    "edit": _can_edit_post,
    "delete": _can_delete_post,
    "restore": _can_restore_post,
    "edit_comment": _can_edit_comment,
    "delete_comment": _can_delete_comment,
    "see_deleted": lambda user, obj: _staff(user),
    "set_role": lambda user, obj: _signed_in(user) and user.role == Role.ADMIN,
    # Curation: staff
    "accept": _can_accept,
    "mark_official": lambda user, obj: _staff(user) and obj.is_visible and obj.author.is_staff,
    "close": lambda user, obj: _staff(user) and obj.is_visible and not obj.is_closed,
    "reopen": lambda user, obj: _staff(user) and obj.is_closed,
    "lock": lambda user, obj: _staff(user) and not obj.is_locked,
    "unlock": lambda user, obj: _staff(user) and obj.is_locked,
    "pin": lambda user, obj: _staff(user) and not obj.is_pinned and obj.is_visible,
    "unpin": lambda user, obj: _staff(user) and obj.is_pinned,
    "write_article": lambda user, obj: _staff(user),
    "edit_article": _can_edit_article,
    "promote_to_article": lambda user, obj: _staff(user) and obj.is_visible and obj.is_solved,
    "rate_article": lambda user, obj: _signed_in(user) and obj.is_published,
    "announce": lambda user, obj: _staff(user),
    # Notifications: any member follows a tag, or a question they can see.
    "follow": lambda user, obj: _signed_in(user) and (isinstance(obj, Tag) or _can_view(user, obj)),
    "manage_mail": lambda user, obj: _signed_in(user) and user.role == Role.ADMIN,
    # Moderation: moderators and admins
    "flag": _can_flag,
    "moderate": lambda user, obj: _moderates(user),
    "hide": lambda user, obj: _moderates(user),
    "suspend": lambda user, obj: _moderates(user) and obj is not None and not obj.is_staff,
    "note_user": lambda user, obj: _moderates(user),
    "view_moderation_log": lambda user, obj: _staff(user),
    "manage_watched_words": lambda user, obj: _moderates(user),
}


def can(user: User | Any, action: str, obj: Any = None) -> bool:
    """Return whether ``user`` (possibly anonymous) may do ``action`` to ``obj``.

    Raises KeyError for an unknown action, so a typo in a template fails loudly in tests.
    """
    return RULES[action](user, obj)


def require(user: User | Any, action: str, obj: Any = None, message: str | None = None) -> None:
    """Raise PermissionDenied unless ``can(user, action, obj)``."""
    if not can(user, action, obj):
        raise PermissionDenied(message or "You are not allowed to do that.")
