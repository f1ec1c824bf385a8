"""The support desk: first responses, triage, playbooks, staff on duty and the queue.

A public question needs a first response until someone other than the asker posts a visible
answer or comment on it, or staff open a private case for it (opening a case is a staff
response: the asker hears from support at once and the question leaves the queue).
``questions.first_response_at`` records that moment; it is set once with an atomic UPDATE and
recomputed for one question when a response is deleted, hidden, restored or shown again. The
subscribers below keep it (forum/subscribers.py: AnswerPosted, CommentAdded, CaseOpened,
PostHidden, PostRestored).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import Float, Table, and_, bindparam, case, exists, func, literal, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from ..events import AnswerPosted, CaseOpened, CommentAdded, PostHidden, PostRestored
from ..extensions import db
from ..models import (
    SEVERITIES,
    STAFF_ROLES,
    TRIAGE_TYPES,
    Answer,
    Comment,
    OnDuty,
    Playbook,
    Question,
    QuestionTriage,
    SupportCase,
    Tag,
    User,
)
from ..models.base import utcnow
from .audit import log_action
from .errors import FieldError
from .pagination import Page, paginate
from .permissions import require
from .posts import expire_question, first_response_known, forget_first_response, without_nul

TYPE_LABELS = {"question": "Question", "problem": "Problem", "complaint": "Complaint",
               "feature": "Feature request", "outage": "Outage"}
SEVERITY_LABELS = {"low": "Low", "normal": "Normal", "high": "High", "critical": "Critical"}
DEFAULT_TARGET_HOURS = {"critical": 1, "high": 4, "normal": 24, "low": 72}
MAX_TARGET_HOURS = 24 * 30
DEFAULT_FIRST_REPLIES = {
    "question": "Hi {asker}, thanks for asking. Here is what usually helps:\n\n1. …",
    "problem": "Hi {asker}, sorry the hub is giving you trouble. Could you tell us the hub model, the app "
               "version and what the status light shows?",
    "complaint": "Hi {asker}, thank you for telling us, and sorry about the experience. I'm looking into it "
                 "now and will come back to you here.",
    "feature": "Hi {asker}, thanks for the suggestion. I've passed it to the product team; others can vote "
               "on this question to show they want it too.",
    "outage": "Hi {asker}, we know about this and are working on it. Updates follow on this question.",
}
UNTRIAGED = ("question", "normal")


# --------------------------------------------------------------------------- first response

def record_first_response(question_id: int, responder_id: int, when: datetime) -> None:
    """Mark the question as responded to, unless it already was or the responder is the asker.

    One conditional UPDATE, so two responses at once cannot move the time; none when this
    transaction already holds the question's row and saw a first response there (an answer or
    comment touched the question first: `posts.first_response_known`).
    """
    if first_response_known(question_id):
        return
    db.session.execute(_FIRST_RESPONSE, {"question_id": question_id, "responder_id": responder_id, "when": when})
    expire_question(question_id, "first_response_at")


#: `record_first_response`'s UPDATE, built once and on the table (every answer runs it; building
#: an ORM UPDATE per call, and the ORM's bulk UPDATE machinery, cost more than running it).
_QUESTIONS = cast(Table, Question.__table__)
_FIRST_RESPONSE = (update(_QUESTIONS)
                   .where(_QUESTIONS.c.id == bindparam("question_id"), _QUESTIONS.c.first_response_at.is_(None),
                          _QUESTIONS.c.author_id != bindparam("responder_id"))
                   .values(first_response_at=bindparam("when", type_=_QUESTIONS.c.first_response_at.type)))


def recompute_first_response(question_id: int) -> None:
    """Set first_response_at from the responses that still count (after a delete, hide or restore)."""
    question = db.session.get(Question, question_id)
    if question is None:
        return
    db.session.flush()
    responses = union_all(
        select(Answer.created_at.label("at")).where(
            Answer.question_id == question_id, Answer.author_id != question.author_id,
            Answer.is_visible),
        # A comment under a deleted or hidden answer is not shown, so it is no response.
        select(Comment.created_at.label("at")).where(
            Comment.question_id == question_id, Comment.author_id != question.author_id,
            Comment.is_visible,
            or_(Comment.answer_id.is_(None), exists().where(
                Answer.id == Comment.answer_id, Answer.is_visible))),
        select(SupportCase.opened_at.label("at")).where(SupportCase.question_id == question_id),
    ).subquery()
    first = db.session.scalar(select(func.min(responses.c.at)))
    db.session.execute(update(Question).where(Question.id == question_id).values(first_response_at=first),
                       execution_options={"synchronize_session": False})
    forget_first_response(question_id)
    expire_question(question_id, "first_response_at")


def answer_responds(event: AnswerPosted) -> None:
    """Subscriber: a published answer by someone other than the asker is a first response."""
    answer = db.session.get(Answer, event.answer_id)
    if answer is not None and answer.is_visible:
        record_first_response(answer.question_id, answer.author_id, answer.created_at)


def comment_responds(event: CommentAdded) -> None:
    """Subscriber: so is a published comment."""
    comment = db.session.get(Comment, event.comment_id)
    if comment is not None and comment.is_visible:
        record_first_response(comment.question_id, comment.author_id, comment.created_at)


def case_responds(event: CaseOpened) -> None:
    """Subscriber: opening a private case is a staff response."""
    case = db.session.get(SupportCase, event.case_id)
    if case is not None:
        record_first_response(case.question_id, event.actor_id, case.opened_at)


def response_shown_or_hidden(event: PostHidden | PostRestored) -> None:
    """Subscriber: an answer or comment that appears or disappears may be the first response."""
    if event.post_type != "question" and event.question_id is not None:
        recompute_first_response(event.question_id)


# --------------------------------------------------------------------------- playbooks

@dataclass(frozen=True)
class PlaybookView:
    """The playbook in force for one combination (a stored row or the defaults)."""

    type: str
    severity: str
    target_hours: int
    first_reply: str
    notify_roles: tuple[str, ...] = ()
    watchers: tuple[User, ...] = field(default=())
    customised: bool = False

    @property
    def target(self) -> timedelta:
        return timedelta(hours=self.target_hours)


def _default(type_: str, severity: str) -> PlaybookView:
    return PlaybookView(type_, severity, DEFAULT_TARGET_HOURS[severity], DEFAULT_FIRST_REPLIES[type_])


def all_playbooks() -> dict[tuple[str, str], PlaybookView]:
    """Every (type, severity) combination, stored or default: two queries (rows, watchers)."""
    rows = {(p.type, p.severity): p for p in db.session.scalars(select(Playbook).options(selectinload(Playbook.watchers)))}
    books = {}
    for t in TRIAGE_TYPES:
        for s in SEVERITIES:
            row = rows.get((t, s))
            books[(t, s)] = _default(t, s) if row is None else PlaybookView(
                t, s, row.target_hours, row.first_reply,
                tuple(r for r in row.notify_roles.split(",") if r), tuple(row.watchers), True)
    return books


def playbook_for(triage: QuestionTriage | None) -> PlaybookView:
    key = (triage.type, triage.severity) if triage is not None else UNTRIAGED
    return all_playbooks()[key]


@dataclass(frozen=True)
class PlaybookInput:
    type: str
    severity: str
    target_hours: int | None
    first_reply: str
    notify_roles: list[str]
    watchers: str  # usernames separated by spaces or commas


def save_playbook(actor: User, data: PlaybookInput) -> Playbook:
    """Create or update one combination's playbook. Raises PermissionDenied (admins only), FieldError."""
    require(actor, "edit_playbooks", None, "Only admins edit the playbooks.")
    if data.type not in TRIAGE_TYPES or data.severity not in SEVERITIES:
        raise FieldError("type", "Choose a type and a severity.")
    if data.target_hours is None or not 1 <= data.target_hours <= MAX_TARGET_HOURS:
        raise FieldError("target_hours", f"Give a target between 1 and {MAX_TARGET_HOURS} hours.")
    reply = without_nul(data.first_reply).rstrip()
    limit = current_app.config["CANNED_REPLY_MAX_LENGTH"]
    if len(reply) > limit:
        raise FieldError("first_reply", f"Keep it under {limit:,} characters (this is {len(reply):,}).")
    roles = [r for r in data.notify_roles if r]
    if any(r not in {str(x) for x in STAFF_ROLES} for r in roles):
        raise FieldError("notify_roles", "Only staff roles can be notified.")
    watchers = _staff_by_names(data.watchers)
    row = db.session.scalar(select(Playbook).where(Playbook.type == data.type, Playbook.severity == data.severity))
    if row is None:
        row = Playbook(type=data.type, severity=data.severity, target_hours=data.target_hours)
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:  # another admin created it a moment ago: update theirs
            row = db.session.scalars(select(Playbook).where(Playbook.type == data.type,
                                                            Playbook.severity == data.severity)).one()
    before = {"target_hours": row.target_hours, "notify_roles": row.notify_roles}
    row.target_hours = data.target_hours
    row.first_reply = reply
    row.notify_roles = ",".join(sorted(set(roles)))
    row.watchers = watchers
    row.updated_by_id = actor.id
    row.updated_at = utcnow()
    db.session.flush()
    log_action(actor, "edit_playbook", "playbook", row.id, before=before,
               after={"target_hours": row.target_hours, "notify_roles": row.notify_roles,
                      "watchers": [u.username for u in watchers]})
    return row


def _staff_by_names(raw: str) -> list[User]:
    names = [n.lstrip("@").lower() for n in raw.replace(",", " ").split() if n.strip("@")]
    if len(names) > 20:
        raise FieldError("watchers", "Name at most 20 staff members.")
    if not names:
        return []
    found = {u.username_key: u for u in db.session.scalars(select(User).where(User.username_key.in_(names)))}
    wrong = [n for n in names if n not in found or not found[n].is_staff]
    if wrong:
        raise FieldError("watchers", "Not staff members: " + ", ".join(wrong[:5]))
    return list({u.id: u for u in (found[n] for n in names)}.values())


# --------------------------------------------------------------------------- triage

def triage_question(actor: User, question: Question, type_: str, severity: str) -> QuestionTriage:
    """Rate a question's type and severity. Raises PermissionDenied (staff only), FieldError."""
    require(actor, "support", None, "Only staff triage questions.")
    if type_ not in TRIAGE_TYPES:
        raise FieldError("type", "Choose a type.")
    if severity not in SEVERITIES:
        raise FieldError("severity", "Choose a severity.")
    row = db.session.get(QuestionTriage, question.id)
    before = {"type": row.type, "severity": row.severity} if row else {}
    if row is None:
        row = QuestionTriage(question_id=question.id, type=type_, severity=severity, triaged_by_id=actor.id)
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:  # triaged by someone else at the same moment: last one wins
            row = db.session.scalars(select(QuestionTriage).where(QuestionTriage.question_id == question.id)
                                     .execution_options(populate_existing=True)).one()
    row.type, row.severity, row.triaged_by_id, row.triaged_at = type_, severity, actor.id, utcnow()
    db.session.flush()
    log_action(actor, "triage", "question", question.id, before=before, after={"type": type_, "severity": severity})
    return row


def triage_of(question_id: int) -> QuestionTriage | None:
    return db.session.get(QuestionTriage, question_id)


def due_at(question: Question, triage: QuestionTriage | None, books: dict[tuple[str, str], PlaybookView]) -> datetime:
    key = (triage.type, triage.severity) if triage is not None else UNTRIAGED
    return question.created_at + books[key].target


# --------------------------------------------------------------------------- staff on duty

def set_on_duty(user: User, on: bool) -> None:
    """Go on or off duty (staff only): on-duty staff hear of every breach. Idempotent."""
    require(user, "support", None, "Only staff go on duty.")
    row = db.session.get(OnDuty, user.id)
    if on and row is None:
        try:
            with db.session.begin_nested():
                db.session.add(OnDuty(user_id=user.id))
        except IntegrityError:  # a double click in two tabs
            pass
    elif not on and row is not None:
        db.session.delete(row)
    db.session.flush()


def is_on_duty(user: User) -> bool:
    return db.session.get(OnDuty, user.id) is not None


def on_duty_staff() -> list[User]:
    stmt = select(User).join(OnDuty, OnDuty.user_id == User.id).where(User.role.in_([str(r) for r in STAFF_ROLES]))
    return list(db.session.scalars(stmt.order_by(User.username)))


# --------------------------------------------------------------------------- the queue

class _DueEpoch(FunctionElement[float]):
    """created_at + hours, in seconds since the epoch: a sort key both backends can compute."""

    type = Float()
    inherit_cache = True


@compiles(_DueEpoch, "sqlite")
def _due_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    created, hours = list(element.clauses)
    return f"((julianday({compiler.process(created, **kw)}) - 2440587.5) * 86400.0 + {compiler.process(hours, **kw)} * 3600.0)"


@compiles(_DueEpoch, "postgresql")
def _due_pg(element: Any, compiler: Any, **kw: Any) -> str:
    created, hours = list(element.clauses)
    return f"(EXTRACT(EPOCH FROM {compiler.process(created, **kw)}) + {compiler.process(hours, **kw)} * 3600.0)"


def target_hours_sql(books: dict[tuple[str, str], PlaybookView]) -> ColumnElement[Any]:
    """The target hours of each question's playbook, in SQL (needs question_triage outer-joined)."""
    key = func.coalesce(QuestionTriage.type, literal(UNTRIAGED[0])) + "/" + func.coalesce(
        QuestionTriage.severity, literal(UNTRIAGED[1]))
    return case({f"{t}/{s}": b.target_hours for (t, s), b in books.items()}, value=key,
                else_=books[UNTRIAGED].target_hours)


@dataclass(frozen=True)
class QueueRow:
    question: Question
    triage: QuestionTriage | None
    due_at: datetime
    playbook: PlaybookView

    def overdue_by(self, now: datetime) -> timedelta:
        return now - self.due_at


@dataclass(frozen=True)
class QueueFilters:
    tag: str = ""
    type: str = ""  # a TRIAGE_TYPES value, "untriaged" or ""
    severity: str = ""


def queue(viewer: User, filters: QueueFilters, page: int) -> Page[QueueRow]:
    """Open public questions still waiting for a first response, the closest to breaching first.

    Raises PermissionDenied for non-staff. A fixed number of queries whatever the page size.
    Never ordered by who asked (no VIP lanes): only by the due time, then age.
    """
    require(viewer, "support", None, "The support queue is for staff.")
    books = all_playbooks()
    stmt = (select(Question)
            .outerjoin(QuestionTriage, QuestionTriage.question_id == Question.id)
            .where(Question.first_response_at.is_(None), Question.is_visible, Question.closed_at.is_(None))
            .options(selectinload(Question.tags)))
    if filters.tag:
        stmt = stmt.where(Question.tags.any(Tag.name == filters.tag.lower()))
    if filters.type == "untriaged":
        stmt = stmt.where(QuestionTriage.question_id.is_(None))
    elif filters.type in TRIAGE_TYPES:
        stmt = stmt.where(QuestionTriage.type == filters.type)
    if filters.severity in SEVERITIES:
        stmt = stmt.where(QuestionTriage.severity == filters.severity)
    stmt = stmt.order_by(_DueEpoch(Question.created_at, target_hours_sql(books)), Question.created_at, Question.id)
    result = paginate(stmt, page, per_page=current_app.config["SUPPORT_QUEUE_PER_PAGE"])
    ids = [q.id for q in result.items]
    triages = {t.question_id: t for t in db.session.scalars(
        select(QuestionTriage).where(QuestionTriage.question_id.in_(ids)))} if ids else {}
    rows = []
    for q in result.items:
        t = triages.get(q.id)
        book = books[(t.type, t.severity) if t else UNTRIAGED]
        rows.append(QueueRow(q, t, q.created_at + book.target, book))
    return Page(items=rows, page=result.page, per_page=result.per_page, total=result.total)


@dataclass(frozen=True)
class Metrics:
    days: int
    asked: int
    responded: int
    median_first_response: timedelta | None
    solved: int

    @property
    def solved_rate(self) -> float:
        return self.solved / self.asked if self.asked else 0.0


def metrics(days: int = 30, limit: int = 10_000) -> Metrics:
    """Questions asked in the last ``days``: median time to first response and the solved share.

    One query, bounded by ``limit`` rows (the newest), so a busy forum pays a fixed price.
    """
    since = utcnow() - timedelta(days=days)
    rows = db.session.execute(
        select(Question.created_at, Question.first_response_at, Question.accepted_answer_id)
        .where(Question.created_at >= since, Question.is_visible)
        .order_by(Question.created_at.desc()).limit(limit)).all()
    waits = sorted(r.first_response_at - r.created_at for r in rows if r.first_response_at is not None)
    median = None
    if waits:
        mid = len(waits) // 2
        median = waits[mid] if len(waits) % 2 else (waits[mid - 1] + waits[mid]) / 2
    return Metrics(days, len(rows), len(waits), median, sum(1 for r in rows if r.accepted_answer_id is not None))


def unresponded_filter() -> ColumnElement[bool]:
    """Questions the sweep looks at: visible, open, no first response."""
    return and_(Question.first_response_at.is_(None), Question.is_visible, Question.closed_at.is_(None))
