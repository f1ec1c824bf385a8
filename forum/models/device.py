"""Signed-in devices: one row per browser session of a member."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .base import UTCDateTime, utcnow


class UserSession(Model):
    """A browser a member signed in with. The Flask session and the remember-me cookie hold the
    key whose SHA-256 is ``key_hash``; deleting the row signs that browser out."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_last_seen", "user_id", "last_seen_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    browser: Mapped[str] = mapped_column(String(100), default="")
    os: Mapped[str] = mapped_column(String(100), default="")
    # Coarse on purpose (an IPv4 /24 or IPv6 /48): enough to recognise a place, not a household.
    ip_prefix: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
