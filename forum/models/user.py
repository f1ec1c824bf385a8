"""Accounts."""
from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .base import UTCDateTime, utcnow


class Role(StrEnum):
    MEMBER = "member"
    AGENT = "agent"
    MODERATOR = "moderator"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.AGENT, Role.MODERATOR, Role.ADMIN})


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('member', 'agent', 'moderator', 'admin')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(30))
    # Lower-cased copies carry the unique constraints, so "Maria" and "maria" collide on
    # every backend without relying on a case-insensitive collation.
    username_key: Mapped[str] = mapped_column(String(30), unique=True)
    # What the names look like (services/names.skeleton): a new name equal to either, on any
    # member, is refused as an impersonation. Indexed, so the check is two index lookups.
    username_skeleton: Mapped[str] = mapped_column(String(200), default="", server_default="", index=True)
    display_name_skeleton: Mapped[str] = mapped_column(String(200), default="", server_default="", index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(60), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    bio_html: Mapped[str] = mapped_column(Text, default="")
    render_version: Mapped[int] = mapped_column(default=0)
    role: Mapped[str] = mapped_column(String(20), default=Role.MEMBER.value)
    # Part of the login cookie; rotating it signs out every session of this user.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    reputation: Mapped[int] = mapped_column(default=1)
    # Other members who marked "This solved my problem too" on threads where this member's
    # answer is accepted (services/solved_too.py keeps it; `flask forum recount-helped` checks it).
    helped_count: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Moderation: a suspended user cannot sign in; a silenced one can read but not post.
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    suspension_reason: Mapped[str] = mapped_column(String(500), default="")
    silenced_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    silence_reason: Mapped[str] = mapped_column(String(500), default="")
    # E-mail verification (services/verification.py): until set, only account mail (verify,
    # reset, security notices) goes to ``email``. A new address waits in ``pending_email``
    # until its link is used, so an unconfirmed address never becomes the account's.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    pending_email: Mapped[str | None] = mapped_column(String(254), default=None)
    # Set when the member deleted their account: personal data is gone, posts stay under
    # "Deleted member" (services/account_data.delete_account).
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    @property
    def device_key(self) -> str | None:
        """The key of the device session (models/device.py) this request signed in with; not a column."""
        key: str | None = self.__dict__.get("_device_key")
        return key

    @device_key.setter
    def device_key(self, key: str | None) -> None:
        self.__dict__["_device_key"] = key

    def get_id(self) -> str:
        # "id:session_token:device_key", kept by Flask's session and the remember-me cookie;
        # web.load_user checks the token (rotated to end every session) and the device row.
        return f"{self.id}:{self.session_token}:{self.device_key or ''}"

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def is_suspended(self, now: datetime) -> bool:
        return self.suspended_until is not None and self.suspended_until > now

    def is_silenced(self, now: datetime) -> bool:
        return self.silenced_until is not None and self.silenced_until > now

    @property
    def initials(self) -> str:
        parts = [p for p in self.name.replace("_", " ").split() if p]
        letters = "".join(p[0] for p in parts[:2]) or self.username[:1]
        return letters.upper()

    @property
    def avatar_hue(self) -> int:
        # Stable colour per user for the initials avatar (one of 12 CSS classes).
        return sum(self.username_key.encode()) % 12

    def __repr__(self) -> str:
        return f"<User {self.username}>"
