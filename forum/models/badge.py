"""Badges members earned (the catalogue itself lives in code: services/badges.py)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .base import UTCDateTime, utcnow
from .user import User


class UserBadge(Model):
    """One badge earned by one member, for one tag (tag badges) or for none ("").

    ``tag`` is an empty string rather than NULL for the other badges: NULLs never collide in
    a unique constraint, and the constraint is what makes every award happen exactly once.
    """

    __tablename__ = "user_badges"
    __table_args__ = (
        UniqueConstraint("user_id", "badge", "tag", name="uq_user_badges_user_badge_tag"),
        Index("ix_user_badges_badge_awarded", "badge", "awarded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    badge: Mapped[str] = mapped_column(String(40))
    tag: Mapped[str] = mapped_column(String(35), default="")
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The post that earned it, when one did (the first answer, the answer that scored 10).
    post_type: Mapped[str | None] = mapped_column(String(20), default=None)
    post_id: Mapped[int | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
