"""Support desk: triage, playbooks, SLA alerts, private cases, canned replies."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db
from .base import UTCDateTime, utcnow
from .post import Question
from .user import User

TRIAGE_TYPES = ("question", "problem", "complaint", "feature", "outage")
SEVERITIES = ("low", "normal", "high", "critical")
CASE_STATUSES = ("open", "waiting", "resolved")
CASE_EVENTS = ("opened", "message", "status", "resolved")
ALERT_KINDS = ("invite", "breach")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class QuestionTriage(Model):
    """A staff rating of a public question: its type and severity pick the playbook."""

    __tablename__ = "question_triage"
    __table_args__ = (
        CheckConstraint(_in("type", TRIAGE_TYPES), name="type"),
        CheckConstraint(_in("severity", SEVERITIES), name="severity"),
    )

    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True)
    type: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    triaged_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    triaged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Not innerjoin: the queue and the sweep outer-join triage rows, and an inner eager join would drop untriaged questions.
    triaged_by: Mapped[User] = relationship(lazy="joined")


playbook_watchers = Table(
    "playbook_watchers",
    db.metadata,
    Column("playbook_id", ForeignKey("support_playbooks.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Playbook(Model):
    """What to do for one (type, severity): suggested first reply, response target, who hears of a breach.

    A combination without a row follows the defaults in ``services/playbooks.py``; admins'
    edits create the row (one per combination: a database constraint).
    """

    __tablename__ = "support_playbooks"
    __table_args__ = (
        UniqueConstraint("type", "severity", name="uq_support_playbooks_type_severity"),
        CheckConstraint(_in("type", TRIAGE_TYPES), name="type"),
        CheckConstraint(_in("severity", SEVERITIES), name="severity"),
        CheckConstraint("target_hours > 0", name="target_hours"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    target_hours: Mapped[int]
    first_reply: Mapped[str] = mapped_column(Text, default="")
    # Comma-separated staff roles told of a breach, e.g. "agent,moderator".
    notify_roles: Mapped[str] = mapped_column(String(100), default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    watchers: Mapped[list[User]] = relationship(secondary=playbook_watchers, order_by=User.username)


class OnDuty(Model):
    """A staff member on duty: told when a question breaches its first-response target."""

    __tablename__ = "support_on_duty"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SupportAlert(Model):
    """One invitation or breach alert per question: the primary key makes the sweep idempotent."""

    __tablename__ = "support_alerts"
    __table_args__ = (CheckConstraint(_in("kind", ALERT_KINDS), name="kind"),)

    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    recipients: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SupportCase(Model):
    """A private conversation between the asker and staff, opened from a public question.

    Holds a copy of the question as it was when the case opened. Never indexed for search.
    """

    __tablename__ = "support_cases"
    __table_args__ = (
        # One case per question: two agents clicking at once cannot open two.
        UniqueConstraint("question_id", name="uq_support_cases_question_id"),
        CheckConstraint(_in("status", CASE_STATUSES), name="status"),
        Index("ix_support_cases_status_opened", "status", "opened_at"),
        # /insights counts escalations opened in a date range.
        Index("ix_support_cases_opened", "opened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    asker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10), default="open")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    resolution_answer_id: Mapped[int | None] = mapped_column(ForeignKey("answers.id"), default=None)
    context_title: Mapped[str] = mapped_column(String(150))
    context_body: Mapped[str] = mapped_column(Text)
    context_body_html: Mapped[str] = mapped_column(Text)
    context_tags: Mapped[str] = mapped_column(String(200), default="")
    # The ticket or CRM id this case has elsewhere (staff or a JSON client set it; case
    # webhooks carry it; the page links it through the CRM_CASE_URL site setting).
    external_ref: Mapped[str | None] = mapped_column(String(100), default=None)

    question: Mapped[Question] = relationship(lazy="joined", innerjoin=True)
    asker: Mapped[User] = relationship(foreign_keys=[asker_id], lazy="joined", innerjoin=True)
    opened_by: Mapped[User] = relationship(foreign_keys=[opened_by_id], lazy="joined", innerjoin=True)
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id], lazy="joined")

    @property
    def is_resolved(self) -> bool:
        return self.status == "resolved"


class CaseEvent(Model):
    """The case timeline: opened, each message, each status change, the resolution."""

    __tablename__ = "case_events"
    __table_args__ = (
        CheckConstraint(_in("kind", CASE_EVENTS), name="kind"),
        Index("ix_case_events_case_created", "case_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_cases.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10))
    # A status change or resolution: the new status ("reopened": the customer's reply reopened
    # a resolved case, which is "open" again); a message: empty.
    status: Mapped[str] = mapped_column(String(10), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    render_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class CannedReply(Model):
    """A shared reply template with placeholders ({asker}, {question_link}, {article_link})."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100), unique=True)
    body: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    updated_by: Mapped[User] = relationship(foreign_keys=[updated_by_id], lazy="joined", innerjoin=True)
