"""Outbound webhooks: the endpoints admins register and the outbox of deliveries to them
(services/webhooks.py holds the rules; docs/webhooks.md the contract with receivers)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .base import UTCDateTime, utcnow
from .user import User

WEBHOOK_FORMATS = ("json", "slack")
DELIVERY_STATES = ("pending", "delivered", "failed", "gave_up")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class WebhookEndpoint(Model):
    """A receiver of signed event deliveries.

    ``secret`` is kept as generated (the signature needs it); pages show it once, when the
    endpoint is created, and masked afterwards. ``events`` is the space-separated list of
    subscribed event names. ``failing_since``: when its deliveries started failing without a
    success since (None: the last one succeeded); after ``WEBHOOK_DISABLE_AFTER_HOURS`` of that
    the sweep sets ``active`` off and ``disabled_at``.
    """

    __tablename__ = "webhook_endpoints"
    __table_args__ = (CheckConstraint(_in("format", WEBHOOK_FORMATS), name="format"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[str] = mapped_column(Text, default="")
    format: Mapped[str] = mapped_column(String(10), default="json")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    created_by: Mapped[User | None] = relationship(lazy="joined")

    @property
    def event_list(self) -> list[str]:
        return self.events.split()

    @property
    def masked_secret(self) -> str:
        return f"{self.secret[:6]}…{self.secret[-4:]}"


class WebhookDelivery(Model):
    """One event for one endpoint: the outbox row, written in the transaction of the write that
    caused it, sent by the job layer after the commit, retried until delivered or given up."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(_in("status", DELIVERY_STATES), name="status"),
        # The due-retry sweep: pending or failed rows whose next attempt is due.
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
        # The per-endpoint delivery log, newest first.
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(36))  # a uuid4; the X-Forum-Delivery header
    payload: Mapped[str] = mapped_column(Text)  # the JSON body as signed and sent
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_response_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    last_response_excerpt: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    endpoint: Mapped[WebhookEndpoint] = relationship(lazy="joined", innerjoin=True)
