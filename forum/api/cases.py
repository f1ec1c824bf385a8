"""Private support cases: open one from a question (staff), read and list them (the customer
and staff only), write on one, change its status, resolve it with the public report-back, set
its ticket or CRM reference. The services are the case pages'; so are the events (and with them
the ``case.opened``, ``case.message`` and ``case.resolved`` webhooks and the notifications)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma
from flask import url_for
from marshmallow import fields, validate

from ..models import CASE_STATUSES, SupportCase
from ..services import cases as svc
from ..services.questions import get_question
from .core import BEARER, api_blueprint, changes, decode_cursor, idempotent, member, page_limit, page_of, reads
from .refusals import BAD_CURSOR, FORBIDDEN, UNAUTHORIZED, documents
from .schemas import Author, Cursor, Utc, With

bp = api_blueprint("cases", "Private support cases between a customer and the support team.")

NOT_FOUND = (404, "No such case.")
NOT_A_PARTY = (403, "Only the case's customer and staff see a case (as on its page), or the token lacks the scope.")
CONFLICT = (409, "The case is not in a state that allows this (the message says why).")


def private_read(view: Any) -> Any:
    """A read of private data: a token with ``read`` is needed (the view asks ``member()``, so
    no token is 401), documented as such instead of as a public read."""
    return bp.doc(security=BEARER, description="Scopes: `read` (a token is needed: cases are private).")(reads()(view))


# --------------------------------------------------------------------------- schemas

class CaseEventOut(ma.Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "opened, message, status or resolved."})
    status = fields.String(required=True, metadata={"description": "The new status of a status change or "
                                                    "resolution (reopened: the customer's reply reopened it); "
                                                    "empty for a message."})
    body = fields.String(required=True, metadata={"description": "Markdown as written (a message, the summary)."})
    body_html = fields.String(required=True)
    actor = fields.Nested(Author, required=True)
    created_at = Utc(required=True)


class CaseSummary(ma.Schema):
    id = fields.Integer(required=True)
    question_id = fields.Integer(required=True)
    title = fields.String(required=True, attribute="context_title",
                          metadata={"description": "The question's title when the case was opened."})
    status = fields.String(required=True, metadata={"description": ", ".join(CASE_STATUSES)})
    external_ref = fields.String(required=True, allow_none=True,
                                 metadata={"description": "The ticket or CRM id this case has elsewhere."})
    asker = fields.Nested(Author, required=True)
    opened_by = fields.Nested(Author, required=True)
    opened_at = Utc(required=True)
    resolved_by = fields.Nested(Author, required=True, allow_none=True)
    resolved_at = Utc(required=True, allow_none=True)
    resolution_answer_id = fields.Integer(required=True, allow_none=True,
                                          metadata={"description": "The public summary, an answer on the question."})
    url = fields.Method("_url", required=True)

    def _url(self, case: SupportCase) -> str:
        return url_for("cases.show", case_id=case.id, _external=True)


class CaseOut(CaseSummary):
    body = fields.String(required=True, attribute="context_body",
                         metadata={"description": "The question's body when the case was opened."})
    body_html = fields.String(required=True, attribute="context_body_html")
    tags = fields.Method("_tags", required=True)
    crm_url = fields.String(required=True, allow_none=True,
                            metadata={"description": "The reference's link in the CRM (the CRM_CASE_URL setting)."})
    reopen_until = Utc(required=True, allow_none=True,
                       metadata={"description": "Until when the customer's reply reopens a resolved case."})
    pending_reply_id = fields.Integer(required=True, allow_none=True,
                                      metadata={"description": "The customer's message no staff message followed yet."})
    events = fields.List(fields.Nested(CaseEventOut), required=True, metadata={"description": "The timeline, oldest first."})

    def _tags(self, case: SupportCase) -> list[str]:
        return case.context_tags.split()


class CasePage(ma.Schema):
    items = fields.List(fields.Nested(CaseSummary), required=True)
    next_cursor = fields.String(required=True, allow_none=True,
                                metadata={"description": "Pass as ?cursor= for the next page; null on the last."})


class CaseFilters(Cursor):
    status = fields.String(load_default="", validate=validate.OneOf(("", *CASE_STATUSES)))


class MessageIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    body = fields.String(required=True, validate=validate.Length(max=100_000))


class StatusIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    status = fields.String(required=True, validate=validate.OneOf(("open", "waiting")),
                           metadata={"description": "Resolve with POST …/resolve instead."})


class ResolveIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    summary = fields.String(required=True, validate=validate.Length(max=100_000),
                            metadata={"description": "The public report-back: posted on the question as an "
                                                     "official, accepted answer."})
    confirm = fields.Boolean(load_default=False,
                             metadata={"description": "Resolve although the customer's latest message has no "
                                                      "staff reply (otherwise 409)."})


class ExternalRefIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    external_ref = fields.String(required=True, allow_none=True, validate=validate.Length(max=1000),
                                 metadata={"description": "The ticket or CRM id; empty or null removes it."})


def full(case: SupportCase) -> With:
    """The case with its timeline, as its page shows it."""
    events = svc.timeline(case)
    pending = svc.pending_reply(case, events)
    return With(case, events=events, crm_url=svc.crm_url(case), reopen_until=svc.reopen_until(case),
                pending_reply_id=pending.id if pending is not None else None)


def located(case: SupportCase, status: int) -> tuple[With, int, dict[str, str]]:
    return full(case), status, {"Location": url_for("api_cases.get_case", case_id=case.id, _external=True)}


def party_case(case_id: int) -> SupportCase:
    """The case, for its customer and staff. Raises PermissionDenied (403) for anyone else, as
    the case page does, and NotFound for no such id."""
    return svc.get_case(case_id, member())


# --------------------------------------------------------------------------- views

@bp.route("/questions/<int:question_id>/case", methods=["POST"])
@changes("staff")
@idempotent
@bp.response(201, CaseOut)
@documents(bp, UNAUTHORIZED, FORBIDDEN, (404, "No such question, or one the member may not see."),
           (409, "The question already has a case."))
def open_case(question_id: int) -> tuple[With, int, dict[str, str]]:
    """Continue a question privately (staff; not on one's own question).

    The customer is told, and the question shows that support is helping privately."""
    return located(svc.open_case(member(), get_question(question_id, member())), 201)


@bp.route("/cases", methods=["GET"])
@private_read
@bp.arguments(CaseFilters, location="query", as_kwargs=True)
@bp.response(200, CasePage)
@documents(bp, BAD_CURSOR, UNAUTHORIZED, FORBIDDEN)
def list_cases(cursor: str | None, limit: int | None, status: str) -> dict[str, Any]:
    """Cases, newest first: every case for staff, a member's own (on their questions) for a member."""
    before = decode_cursor(cursor, (datetime, int))
    size = page_limit(limit)
    rows = svc.cases_after(member(), status, (before[0], before[1]) if before else None, size + 1)
    return page_of(rows, size, lambda c: (c.opened_at, c.id))


@bp.route("/cases/<int:case_id>", methods=["GET"])
@private_read
@bp.response(200, CaseOut)
@documents(bp, UNAUTHORIZED, NOT_A_PARTY, NOT_FOUND)
def get_case(case_id: int) -> With:
    """One case with its timeline."""
    return full(party_case(case_id))


@bp.route("/cases/<int:case_id>/messages", methods=["POST"])
@changes("write")
@idempotent
@bp.arguments(MessageIn)
@bp.response(201, CaseEventOut)
@documents(bp, UNAUTHORIZED, NOT_A_PARTY, NOT_FOUND, CONFLICT)
def post_message(data: dict[str, str], case_id: int) -> tuple[Any, int, dict[str, str]]:
    """Write on the case (its customer or staff).

    The customer's reply to a waiting case opens it again, and to a resolved one (within
    CASE_REOPEN_DAYS) reopens it; later it is 409."""
    case = party_case(case_id)
    event = svc.add_message(member(), case, data["body"])
    return event, 201, {"Location": url_for("api_cases.get_case", case_id=case.id, _external=True)}


@bp.route("/cases/<int:case_id>/status", methods=["POST"])
@changes("staff")
@bp.arguments(StatusIn)
@bp.response(200, CaseOut)
@documents(bp, UNAUTHORIZED, FORBIDDEN, NOT_FOUND)
def set_status(data: dict[str, str], case_id: int) -> With:
    """Mark the case open or waiting for the customer (staff; not once resolved)."""
    case = party_case(case_id)
    svc.set_status(member(), case, data["status"])
    return full(case)


@bp.route("/cases/<int:case_id>/resolve", methods=["POST"])
@changes("staff")
@bp.arguments(ResolveIn)
@bp.response(200, CaseOut)
@documents(bp, UNAUTHORIZED, FORBIDDEN, NOT_FOUND,
           (409, "The question is closed, locked or deleted, or the customer's latest message has no staff "
                 "reply and `confirm` is false."))
def resolve(data: dict[str, Any], case_id: int) -> With:
    """Resolve with a public summary (staff, once).

    The summary is posted on the question as the agent's official answer and accepted, so the
    question is solved; the parties and the question's followers are told."""
    case = party_case(case_id)
    svc.resolve_case(member(), case, data["summary"], confirm=data["confirm"])
    return full(case)


@bp.route("/cases/<int:case_id>/external-ref", methods=["POST"])
@changes("staff")
@bp.arguments(ExternalRefIn)
@bp.response(200, CaseOut)
@documents(bp, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, (409, "The case already has that reference (or none to remove)."))
def set_external_ref(data: dict[str, str | None], case_id: int) -> With:
    """Set (or remove, with an empty one) the case's ticket or CRM id (staff); later case webhooks carry it."""
    case = party_case(case_id)
    svc.set_external_ref(member(), case, data["external_ref"] or "")
    return full(case)
