"""Who may do what: the one permission matrix.

Templates ask ``can(user, action, obj)``; services call ``require`` before they change
anything. Nothing else re-implements these rules.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app

from ..models import Answer, Comment, Question, Role, User
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


def _question_of(obj: Any) -> Question | None:
    if isinstance(obj, Question):
        return obj
    if isinstance(obj, Answer):
        return obj.question
    return None


def _can_view(user: Any, obj: Any) -> bool:
    if obj is None:
        return False
    if getattr(obj, "is_deleted", False) and not (_is_author(user, obj) or _staff(user)):
        return False
    if isinstance(obj, Answer):
        q = obj.question
        return q is not None and (not q.is_deleted or _is_author(user, q) or _staff(user))
    return True


def _can_answer(user: Any, obj: Any) -> bool:
    return _signed_in(user) and isinstance(obj, Question) and not obj.is_deleted


def _can_comment(user: Any, obj: Any) -> bool:
    if not _signed_in(user) or obj is None or obj.is_deleted:
        return False
    q = _question_of(obj)
    return q is not None and not q.is_deleted


def _can_edit_post(user: Any, obj: Any) -> bool:
    return (_is_author(user, obj) or _moderates(user)) and not obj.is_deleted


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
    return _is_author(user, obj) and utcnow() - obj.created_at <= window


def _can_delete_comment(user: Any, obj: Comment) -> bool:
    return not obj.is_deleted and (_is_author(user, obj) or _moderates(user))


def _can_view_history(user: Any, obj: Any) -> bool:
    return _can_view(user, obj)


RULES: dict[str, Callable[[Any, Any], bool]] = {
    "view": _can_view,
    "view_history": _can_view_history,
    "ask": lambda user, obj: _signed_in(user),
    "answer": _can_answer,
    "comment": _can_comment,
    "edit": _can_edit_post,
    "delete": _can_delete_post,
    "restore": _can_restore_post,
    "edit_comment": _can_edit_comment,
    "delete_comment": _can_delete_comment,
    "see_deleted": lambda user, obj: _staff(user),
    "set_role": lambda user, obj: _signed_in(user) and user.role == Role.ADMIN,
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
