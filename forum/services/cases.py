"""Private support cases: take a public question private, talk it through, report back publicly.

Only the asker and staff see a case. The public question shows that support is helping
privately (and the case status), never what was said. A case resolves with a public summary,
posted on the question as an official answer by the resolving agent; everyone following the
question hears of it. Every step lands on the case timeline. Cases are never indexed for search.

Resolving also accepts the resolution answer (a staff acceptance), so the public question is
solved and shows it first. The customer may reply to a resolved case for ``CASE_REOPEN_DAYS``,
which reopens it; an agent resolving while the customer's latest message is unanswered must
confirm. One write tells each person once (``notifications.coalesced``).

The services write and announce (CaseOpened, CaseMessageAdded, CaseStatusChanged,
CaseResolved, CaseReopened); the subscribers at the end tell the parties (forum/subscribers.py).
"""
from __future__ import annotations

import string
from datetime import datetime
from urllib.parse import quote

from flask import current_app
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.exc import IntegrityError

from ..events import CaseMessageAdded, CaseOpened, CaseReopened, CaseResolved, CaseStatusChanged, publish
from ..extensions import db
from ..markup import RENDER_VERSION, render_markdown
from ..models import CASE_STATUSES, Answer, CaseEvent, Question, SupportCase, User
from ..models.base import utcnow
from . import notifications
from .answers import post_answer
from .audit import log_action
from .curation import accept_answer, set_official
from .errors import FieldError, InvalidState, NotFound, PermissionDenied
from .links import remote_images
from .pagination import Page, paginate
from .permissions import can, case_reopen_until, require
from .posts import check_body

STATUS_LABELS = {"open": "Open", "waiting": "Waiting for the customer", "resolved": "Resolved"}


class ReplyPending(InvalidState):
    """Resolving while the customer's latest message has no staff reply: the agent must confirm
    (``reply`` is that message)."""

    def __init__(self, reply: CaseEvent) -> None:
        super().__init__(f"{reply.actor.name} wrote after the support team's last message. "
                         "Read the reply below, then answer it or resolve anyway.")
        self.reply = reply


def reopen_until(case: SupportCase) -> datetime | None:
    """Until when the customer's reply reopens this resolved case (None: not resolved)."""
    return case_reopen_until(case)


def pending_reply(case: SupportCase, events: list[CaseEvent] | None = None) -> CaseEvent | None:
    """The customer's message that no staff message followed yet (the latest message, when the
    customer wrote it), or None. ``events``: the timeline, when already loaded."""
    if events is None:
        latest = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "message")
                                   .order_by(CaseEvent.created_at.desc(), CaseEvent.id.desc()).limit(1))
    else:
        latest = next((e for e in reversed(events) if e.kind == "message"), None)
    return latest if latest is not None and not latest.actor.is_staff else None


def case_url(case: SupportCase) -> str:
    return f"/cases/{case.id}"


def _event(case: SupportCase, actor: User, kind: str, *, status: str = "", body: str = "") -> CaseEvent:
    event = CaseEvent(case_id=case.id, actor_id=actor.id, kind=kind, status=status, body=body,
                      body_html=render_markdown(body, remote_images=remote_images()) if body else "", render_version=RENDER_VERSION,
                      created_at=utcnow())
    db.session.add(event)
    return event


def _parties(case: SupportCase) -> set[int]:
    staff_voices = db.session.scalars(
        select(CaseEvent.actor_id).join(User, User.id == CaseEvent.actor_id)
        .where(CaseEvent.case_id == case.id, User.role != "member").distinct())
    return {case.asker_id, case.opened_by_id, *staff_voices}


def _tell(case: SupportCase, actor: User, subject: str, text: str = "") -> None:
    # Only those who may still read the case hear of it: an agent who opened it and was later
    # made a member must not get its private text by e-mail.
    ids = [uid for uid in _parties(case) if uid != actor.id]
    recipients = [u for u in db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id))
                  if can(u, "view_case", case)] if ids else []
    if recipients:
        notifications.notify(recipients, "case", actor=actor, subject=subject, url=case_url(case), text=text[:200])


def open_case(actor: User, question: Question) -> SupportCase:
    """Open the private case for ``question`` with a copy of its context.

    Raises PermissionDenied (staff only; not on one's own or a hidden question) and
    InvalidState when the question already has a case (a database constraint, so two agents
    clicking at once get one case).
    """
    require(actor, "open_case", question, "Only staff can continue a question privately.")
    if case_for_question(question.id) is not None:
        raise InvalidState("This question already has a private case.")
    now = utcnow()
    case = SupportCase(question_id=question.id, asker_id=question.author_id, opened_by_id=actor.id, status="open",
                       opened_at=now, context_title=question.title, context_body=question.body,
                       context_body_html=question.body_html,
                       context_tags=" ".join(t.name for t in question.tags)[:200])
    try:
        with db.session.begin_nested():
            db.session.add(case)
    except IntegrityError:
        raise InvalidState("This question already has a private case.") from None
    _event(case, actor, "opened", status="open")
    log_action(actor, "open_case", "question", question.id, after={"case_id": case.id})
    db.session.flush()
    publish(CaseOpened(question_id=question.id, case_id=case.id, actor_id=actor.id))
    return case


EXTERNAL_REF_MAX = 100


def check_external_ref(ref: str) -> str | None:
    """The cleaned reference (None for an empty one). Raises FieldError("external_ref") when it
    is longer than EXTERNAL_REF_MAX or holds anything but printable characters (no line breaks
    or control characters: it ends up in URLs, CSV files and other systems)."""
    ref = (ref or "").strip()
    if not ref:
        return None
    if len(ref) > EXTERNAL_REF_MAX:
        raise FieldError("external_ref", f"Keep the reference under {EXTERNAL_REF_MAX} characters (this is {len(ref)}).")
    if not all(ch.isprintable() and (ch not in string.whitespace or ch == " ") for ch in ref):
        raise FieldError("external_ref", "Use printable characters only (no line breaks or tabs).")
    return ref


def set_external_ref(actor: User, case: SupportCase, ref: str) -> str | None:
    """Set (or clear, with an empty ``ref``) the case's ticket or CRM id; returns it. Staff
    only, on any case they can see, resolved too (the CRM side may be linked afterwards);
    logged as ``set_case_ref``. Later case webhooks carry it.

    Raises PermissionDenied for anyone but staff, FieldError("external_ref") (see
    ``check_external_ref``), InvalidState when it is unchanged.
    """
    require(actor, "view_case", case)
    require(actor, "support", None, "Only the support team can link a case to another system.")
    new = check_external_ref(ref)
    if new == case.external_ref:
        raise InvalidState("The case already has that reference." if new else "The case has no reference to remove.")
    before = case.external_ref
    case.external_ref = new
    db.session.flush()
    log_action(actor, "set_case_ref", "question", case.question_id,
               before={"case_id": case.id, "external_ref": before}, after={"case_id": case.id, "external_ref": new})
    return new


def crm_url(case: SupportCase) -> str | None:
    """The link to the case's external reference: the CRM_CASE_URL site setting with ``{ref}``
    replaced by the URL-quoted reference; None without a reference, without a setting, or when
    the setting is not an http(s) address (the page shows the reference as plain text)."""
    template = str(current_app.config.get("CRM_CASE_URL") or "")
    if not case.external_ref or not template.startswith(("https://", "http://")):
        return None
    ref = quote(case.external_ref, safe="")
    return template.replace("{ref}", ref) if "{ref}" in template else template + ref


def case_for_question(question_id: int) -> SupportCase | None:
    return db.session.scalar(select(SupportCase).where(SupportCase.question_id == question_id))


def get_case(case_id: int, viewer: User) -> SupportCase:
    """Raises NotFound for a missing case, PermissionDenied for anyone but the asker and staff."""
    case = db.session.get(SupportCase, case_id)
    if case is None:
        raise NotFound("That case does not exist.")
    if not can(viewer, "view_case", case):
        raise PermissionDenied("Only the customer and the support team can see this case.")
    return case


def timeline(case: SupportCase) -> list[CaseEvent]:
    return list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                   .order_by(CaseEvent.created_at, CaseEvent.id)))


def add_message(actor: User, case: SupportCase, body: str) -> CaseEvent:
    """Post a private message. Raises PermissionDenied (not a party; staff on a resolved case),
    InvalidState (the customer replying after the ``CASE_REOPEN_DAYS`` window), FieldError.

    When the customer writes on a case waiting for them, it goes back to "open"; on a resolved
    case (within the window) their reply reopens it (CaseReopened, the agents are told).
    """
    if case.is_resolved and actor.id == case.asker_id and can(actor, "view_case", case) \
            and not can(actor, "write_case", case):
        raise InvalidState(f"This case was resolved more than {current_app.config['CASE_REOPEN_DAYS']} days ago and "
                           "takes no more replies. Ask a new question and our support team will pick it up.")
    require(actor, "write_case", case, "This case takes no new messages.")
    body = check_body(body, limit_key="CASE_MESSAGE_MAX_LENGTH")
    with notifications.coalesced():
        event = _event(case, actor, "message", body=body)
        reopened = case.is_resolved
        if reopened:
            case.status = "open"
            _event(case, actor, "status", status="reopened")
        elif not actor.is_staff and case.status == "waiting":
            case.status = "open"
            _event(case, actor, "status", status="open")
        db.session.flush()
        publish(CaseMessageAdded(question_id=case.question_id, case_id=case.id, case_event_id=event.id,
                                 actor_id=actor.id))
        if reopened:
            log_action(actor, "reopen_case", "question", case.question_id, after={"case_id": case.id})
            publish(CaseReopened(question_id=case.question_id, case_id=case.id, case_event_id=event.id,
                                 actor_id=actor.id))
    return event


def set_status(actor: User, case: SupportCase, status: str) -> None:
    """Move between "open" and "waiting". Raises PermissionDenied, FieldError (resolving needs a summary)."""
    require(actor, "manage_case", case, "Only staff change a case's status, and not once it is resolved.")
    if status not in CASE_STATUSES or status == "resolved":
        raise FieldError("status", "Choose open or waiting; resolve the case with a public summary.")
    if status == case.status:
        return
    case.status = status
    _event(case, actor, "status", status=status)
    db.session.flush()
    publish(CaseStatusChanged(question_id=case.question_id, case_id=case.id, actor_id=actor.id, status=status))


def resolve_case(actor: User, case: SupportCase, summary: str, *, confirm: bool = False) -> Answer:
    """Resolve with a public summary: posted on the question as this agent's official answer and
    accepted by them (a staff acceptance, replacing any earlier one), so the question is solved
    and shows the resolution first. Everyone concerned is told once (``notifications.coalesced``).

    Raises PermissionDenied (staff only, once), FieldError for a missing, short or long summary,
    InvalidState when the question no longer takes answers (closed, locked or deleted), and
    ReplyPending (an InvalidState) when the customer's latest message has no staff reply and
    ``confirm`` is False.
    """
    require(actor, "manage_case", case, "Only staff resolve a case, and only once.")
    cfg = current_app.config
    summary = check_body(summary, limit_key="CASE_RESOLUTION_MAX_LENGTH", field="summary",
                         minimum=cfg["CASE_RESOLUTION_MIN_LENGTH"])
    question = case.question
    if not question.is_visible or question.is_closed or question.is_locked:
        raise InvalidState("The question is closed, locked or deleted: reopen it to post the public resolution.")
    pending = pending_reply(case)
    if pending is not None and not confirm:
        raise ReplyPending(pending)
    with notifications.coalesced():
        answer = post_answer(actor, question, summary, case_resolution=True)
        if not answer.is_visible:
            raise InvalidState("The resolution was held for review; it must be public. Ask a moderator.")
        set_official(actor, answer, True)
        accept_answer(actor, answer)
        now = utcnow()
        # The relationship, not only the id: the API answers with this object, resolver included.
        case.status, case.resolved_at, case.resolved_by, case.resolution_answer_id = "resolved", now, actor, answer.id
        _event(case, actor, "resolved", status="resolved", body=summary)
        log_action(actor, "resolve_case", "question", question.id,
                   after={"case_id": case.id, "answer_id": answer.id, "confirmed_pending_reply": pending is not None})
        db.session.flush()
        publish(CaseResolved(question_id=question.id, case_id=case.id, actor_id=actor.id, answer_id=answer.id))
    return answer


def _cases_of(viewer: User, status: str) -> Select[SupportCase]:
    """Staff see every case; a member sees the cases opened on their own questions. Raises
    PermissionDenied for an anonymous viewer."""
    if not getattr(viewer, "is_authenticated", False):
        raise PermissionDenied("Sign in to see your support cases.")
    stmt = select(SupportCase)
    if not viewer.is_staff:
        stmt = stmt.where(SupportCase.asker_id == viewer.id)
    if status in CASE_STATUSES:
        stmt = stmt.where(SupportCase.status == status)
    return stmt


def list_cases(viewer: User, status: str, page: int) -> Page[SupportCase]:
    """One page of the viewer's cases (``_cases_of``), the newest first."""
    return paginate(_cases_of(viewer, status).order_by(SupportCase.opened_at.desc(), SupportCase.id.desc()), page)


def cases_after(viewer: User, status: str, before: tuple[datetime, int] | None, limit: int) -> list[SupportCase]:
    """Up to ``limit`` of the viewer's cases (``_cases_of``), the newest first, after the keyset
    position ``before`` (opened_at, id). Raises PermissionDenied for an anonymous viewer."""
    stmt = _cases_of(viewer, status)
    if before is not None:
        opened, case_id = before
        stmt = stmt.where(or_(SupportCase.opened_at < opened,
                              and_(SupportCase.opened_at == opened, SupportCase.id < case_id)))
    return list(db.session.scalars(stmt.order_by(SupportCase.opened_at.desc(), SupportCase.id.desc()).limit(limit)))


# ---------------------------------------------------------------- subscribers: who hears of it


def _case_and_actor(case_id: int, actor_id: int) -> tuple[SupportCase, User]:
    case, actor = db.session.get(SupportCase, case_id), db.session.get(User, actor_id)
    assert case is not None and actor is not None
    return case, actor


def case_opened(event: CaseOpened) -> None:
    """The asker hears "case" at once: support is on it, privately."""
    case, actor = _case_and_actor(event.case_id, event.actor_id)
    notifications.notify([case.asker_id], "case", actor=actor, url=case_url(case),
                         subject=f"Our support team opened a private case for your question: {case.question.title}")


def message_added(event: CaseMessageAdded) -> None:
    """The other parties hear "case", with the message's start."""
    case, actor = _case_and_actor(event.case_id, event.actor_id)
    message = db.session.get(CaseEvent, event.case_event_id)
    _tell(case, actor, f"New message on your support case: {case.context_title}", message.body if message else "")


def status_changed(event: CaseStatusChanged) -> None:
    case, actor = _case_and_actor(event.case_id, event.actor_id)
    _tell(case, actor, f"Your support case is now: {STATUS_LABELS[event.status].lower()}")


def case_reopened(event: CaseReopened) -> None:
    """The agents on the case hear "case": the customer's reply reopened it (with its start)."""
    case, actor = _case_and_actor(event.case_id, event.actor_id)
    message = db.session.get(CaseEvent, event.case_event_id)
    _tell(case, actor, f"{actor.name} replied and reopened the resolved support case: {case.context_title}",
          message.body if message else "")


def case_resolved(event: CaseResolved) -> None:
    """The parties hear "case" with the summary; the question's followers hear "follow"."""
    case, actor = _case_and_actor(event.case_id, event.actor_id)
    question = case.question
    answer = db.session.get(Answer, event.answer_id)
    summary = answer.body if answer is not None else ""
    _tell(case, actor, f"Your support case is resolved: {question.title}", summary)
    notifications.notify_followers(question, "follow", actor=actor, url=f"/answers/{event.answer_id}",
                                   text=summary[:200], subject=f"Support posted the resolution: {question.title}")
