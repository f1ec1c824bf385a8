"""Accounts at an OpenID Connect provider linked to forum accounts (single sign-on)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .base import UTCDateTime, utcnow


class UserIdentity(Model):
    """One provider account (issuer, subject) that signs in as ``user_id``.

    The pair (issuer, subject) is the only thing a sign-in is matched by: the provider promises
    ``sub`` never changes nor is reassigned within its issuer, whereas an e-mail address can.
    """

    __tablename__ = "user_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_user_identities_issuer_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    # What the provider said when the account was linked, for the "Linked accounts" page.
    email: Mapped[str] = mapped_column(String(254), default="")
    # The provider vouched for ``email`` (its email_verified claim) when the account was linked.
    email_verified: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<UserIdentity {self.issuer} {self.subject} -> {self.user_id}>"
