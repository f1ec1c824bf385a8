"""The admin area: find members, change their roles (logged), and what the overview shows.

Site settings are in services/site_settings.py, the mail queue in forum/mail.py.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, or_, select

from ..events import RoleChanged, publish
from ..extensions import db
from ..models import ModerationLog, Role, User
from .audit import log_action
from .errors import FieldError, InvalidState, NotFound, PermissionDenied
from .moderation.common import clean_reason
from .pagination import Page, paginate_bounded
from .permissions import require

QUERY_MAX = 100
ROLES: tuple[str, ...] = tuple(r.value for r in Role)
ROLE_LABELS = {"member": "Member", "agent": "Support agent", "moderator": "Moderator", "admin": "Admin"}


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class MembersPage:
    page: Page[User]
    query: str
    role: str
    admins: int


def members(viewer: User, query: str, role: str, page: int) -> MembersPage:
    """Members whose username, display name or e-mail contains ``query`` (any case), optionally
    of one ``role``, by username, one bounded page; deleted accounts are left out.

    Raises PermissionDenied unless the viewer is an admin.
    """
    require(viewer, "administer")
    query = " ".join((query or "").split())[:QUERY_MAX]
    role = role if role in ROLES else ""
    stmt = select(User).where(User.deleted_at.is_(None))
    if query:
        like = _like(query.lower())
        stmt = stmt.where(or_(func.lower(User.username).like(like, escape="\\"),
                              func.lower(User.display_name).like(like, escape="\\"),
                              func.lower(User.email).like(like, escape="\\")))
    if role:
        stmt = stmt.where(User.role == role)
    result = paginate_bounded(stmt.order_by(func.lower(User.username), User.id), page,
                              current_app.config["PER_PAGE"])
    return MembersPage(result, query, role, admin_count())


def admin_count() -> int:
    return db.session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN.value,
                                                              User.deleted_at.is_(None))) or 0


def get_member(viewer: User, user_id: int) -> User:
    """Raises PermissionDenied unless an admin, NotFound for no such (or a deleted) account."""
    require(viewer, "administer")
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotFound("No such member.")
    return user


def role_history(viewer: User, user: User, limit: int = 10) -> list[ModerationLog]:
    """The member's latest role changes from the moderation log, newest first."""
    require(viewer, "administer")
    return list(db.session.scalars(
        select(ModerationLog).where(ModerationLog.target_type == "user", ModerationLog.target_id == user.id,
                                    ModerationLog.action == "set_role")
        .order_by(ModerationLog.created_at.desc(), ModerationLog.id.desc()).limit(limit)))


def change_role(actor: User | None, user: User, role: str, reason: str) -> str:
    """Give ``user`` the role ``role``; ``actor`` None is the command line. Returns the old role.

    Writes "set_role" to the moderation log (before, after, reason) and publishes RoleChanged.
    The admins' rows are locked first (in id order), so two admins demoting each other at the
    same moment can't leave the site without one: the second sees the first's change.

    Raises PermissionDenied (not an admin; or an admin changing their own role, which they
    would do only by accident: another admin does it), FieldError("role") for an unknown
    role, FieldError("reason") when the reason is missing (from the site) or too long, and
    InvalidState when the role is already that, or the change would leave no admin.
    """
    if actor is not None:
        require(actor, "set_role", user)
        if actor.id == user.id:
            raise PermissionDenied("You can't change your own role. Another admin can.")
    try:
        new_role = Role(role)
    except ValueError:
        raise FieldError("role", f"Unknown role {role!r}; use one of {', '.join(ROLES)}.") from None
    reason = clean_reason(reason, required=actor is not None)
    old = user.role
    if new_role.value == old:
        raise InvalidState(f"{user.username} is already {ROLE_LABELS[old].lower()}.")
    if old == Role.ADMIN.value:
        admins = list(db.session.scalars(select(User.id).where(User.role == Role.ADMIN.value,
                                                               User.deleted_at.is_(None))
                                         .order_by(User.id).with_for_update()))
        if [uid for uid in admins if uid != user.id] == []:
            raise InvalidState(f"{user.username} is the last admin. Make someone else an admin first.")
    user.role = new_role.value
    log_action(actor, "set_role", "user", user.id, reason=reason, before={"role": old}, after={"role": new_role.value})
    db.session.flush()
    publish(RoleChanged(user_id=user.id, actor_id=actor.id if actor is not None else None, old=old,
                        new=new_role.value))
    return old
