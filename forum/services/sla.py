"""The first-response sweep: invite top answerers, then alert staff when a target is breached.

Run by ``flask support sweep`` every few minutes (cron). Idempotent: each question gets at
most one invitation round and one breach alert, guaranteed by the primary key of
``support_alerts`` (two sweeps running at once cannot both notify).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload

from ..events import SlaBreached, publish
from ..extensions import db
from ..models import Answer, Question, QuestionTriage, Role, SupportAlert, User, question_tags
from ..models.base import table_of, utcnow
from . import notifications
from .support import UNTRIAGED, PlaybookView, all_playbooks, on_duty_staff, unresponded_filter


@dataclass(frozen=True)
class SweepReport:
    checked: int
    invited: int  # questions whose invitations went out in this run
    breached: int  # questions whose breach alert went out in this run


def top_answerers(question: Question, limit: int,
                  cache: dict[tuple[int, ...], list[User]] | None = None) -> list[User]:
    """Members (not staff, not the asker) with the most accepted answers, then score, in the question's tags.

    ``cache`` shares the ranking between questions with the same tags within one sweep.
    """
    tag_ids = sorted(t.id for t in question.tags)
    if not tag_ids or limit <= 0:
        return []
    cache = {} if cache is None else cache
    key = tuple(tag_ids)
    if key not in cache:
        cache[key] = _ranked_in_tags(tag_ids, limit + 1)  # one spare, in case the asker is among them
    return [u for u in cache[key] if u.id != question.author_id][:limit]


def _ranked_in_tags(tag_ids: list[int], limit: int) -> list[User]:
    in_tags = select(question_tags.c.question_id).where(question_tags.c.tag_id.in_(tag_ids))
    accepted = func.sum(case((Question.accepted_answer_id == Answer.id, 1), else_=0))
    score = func.sum(Answer.score)
    ranked = (select(Answer.author_id)
              .join(Question, Question.id == Answer.question_id)
              .join(User, User.id == Answer.author_id)
              .where(Answer.question_id.in_(in_tags), Answer.is_visible,
                     Question.deleted_at.is_(None), User.role == Role.MEMBER.value)
              .group_by(Answer.author_id)
              .having((accepted > 0) | (score > 0))
              .order_by(accepted.desc(), score.desc(), Answer.author_id)
              .limit(limit))
    ids = list(db.session.scalars(ranked))
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    now = utcnow()
    return [users[i] for i in ids if not users[i].is_suspended(now)]


def breach_recipients(book: PlaybookView, on_duty: list[User] | None = None) -> list[User]:
    """Staff on duty, plus everyone the playbook names by role or by name."""
    people = {u.id: u for u in (on_duty_staff() if on_duty is None else on_duty)}
    if book.notify_roles:
        for u in db.session.scalars(select(User).where(User.role.in_(book.notify_roles))):
            people[u.id] = u
    for u in book.watchers:
        if u.is_staff:
            people[u.id] = u
    return list(people.values())


def _claim(question_id: int, kind: str, recipients: int) -> bool:
    """Record the alert; False when it already exists (an earlier or concurrent sweep sent it).

    One INSERT … ON CONFLICT DO NOTHING: the primary key decides, whichever sweep gets there first.
    """
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = db.session.execute(
        insert(table_of(SupportAlert)).values(question_id=question_id, kind=kind, recipients=recipients, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["question_id", "kind"])
        .returning(table_of(SupportAlert).c.question_id))
    # RETURNING, not rowcount: psycopg reports -1 for this statement.
    return result.first() is not None


def sweep(now: datetime | None = None) -> SweepReport:
    """Send due invitations and breach alerts (flushed; the caller commits); each breach also
    publishes SlaBreached (webhooks hear it)."""
    now = now or utcnow()
    cfg = current_app.config
    books = all_playbooks()
    oldest = now - timedelta(days=cfg["SUPPORT_SWEEP_MAX_AGE_DAYS"])
    rows = list(db.session.execute(
        select(Question, QuestionTriage)
        .outerjoin(QuestionTriage, QuestionTriage.question_id == Question.id)
        .where(unresponded_filter(), Question.created_at >= oldest)
        .options(selectinload(Question.tags))
        .order_by(Question.created_at, Question.id)))
    ids = [q.id for q, _ in rows]
    sent = {(r.question_id, r.kind) for r in db.session.execute(
        select(SupportAlert.question_id, SupportAlert.kind).where(SupportAlert.question_id.in_(ids)))} if ids else set()
    invited = breached = 0
    recipients: dict[tuple[str, str], list[User]] = {}  # per playbook, worked out once per sweep
    rankings: dict[tuple[int, ...], list[User]] = {}  # per tag set
    duty: list[User] | None = None
    fraction = cfg["SUPPORT_INVITE_AT_PERCENT"] / 100
    for question, triage in rows:
        book = books[(triage.type, triage.severity) if triage else UNTRIAGED]
        waited = now - question.created_at
        url = f"/questions/{question.id}"
        if waited >= book.target * fraction and (question.id, "invite") not in sent:
            people = top_answerers(question, cfg["SUPPORT_INVITE_MAX"], rankings)
            if _claim(question.id, "invite", len(people)):
                invited += 1
                if people:
                    notifications.notify(people, "invite", actor=None, url=url, text=question.title,
                                         subject=f"A question in your tags is waiting for an answer: {question.title}")
        if waited >= book.target and (question.id, "breach") not in sent:
            key = (book.type, book.severity)
            if key not in recipients:
                duty = on_duty_staff() if duty is None else duty
                recipients[key] = breach_recipients(book, duty)
            people = recipients[key]
            if _claim(question.id, "breach", len(people)):
                breached += 1
                publish(SlaBreached(breached_question_id=question.id, target_hours=book.target_hours))
                if people:
                    notifications.notify(people, "sla", actor=None, url=url, text=question.title,
                                         subject=f"No first response after {book.target_hours} h: {question.title}")
    db.session.flush()
    return SweepReport(checked=len(rows), invited=invited, breached=breached)
