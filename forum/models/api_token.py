"""Personal access tokens for the REST API, and the idempotency keys of its creates
(services/api_tokens.py holds the rules; docs/api.md the contract with clients)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .base import UTCDateTime, utcnow
from .user import User

#: What a token may do: read (GET), write (a member's actions), staff (curation, cases,
#: articles; only for staff, and only what their role allows on the pages).
TOKEN_SCOPES = ("read", "write", "staff")


class ApiToken(Model):
    """A member's personal access token. The secret is shown once, when it is created; only its
    SHA-256 is stored (``token_hash``), with its first characters (``prefix``) so the member can
    tell tokens apart. ``scopes`` is the space-separated list of :data:`TOKEN_SCOPES`.
    ``last_used_at`` is written at most once a minute (``API_TOKEN_LAST_USED_SECONDS``)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(40), default="read")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes.split()

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class ApiIdempotencyKey(Model):
    """A create sent with an ``Idempotency-Key`` header: the first request's response, kept so
    that a retry with the same key (same token, same method and path) gets that response again
    instead of a second post. ``fingerprint`` is the SHA-256 of the request body: the same key
    with a different body is refused. Rows older than ``API_IDEMPOTENCY_HOURS`` are purged."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (
        UniqueConstraint("token_id", "key", name="uq_api_idempotency_keys_token_key"),
        Index("ix_api_idempotency_keys_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
