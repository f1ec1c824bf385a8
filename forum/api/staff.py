"""Staff actions on a question: triage (type and severity, as on the support desk), close and
reopen, lock and unlock, pin and unpin. Each is the page's service call, with its permission
check: a token's ``staff`` scope never stands in for the member's role."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from ..models import SEVERITIES, TRIAGE_TYPES, Question, QuestionTriage, User
from ..services import curation, support
from ..services.curation import CLOSE_REASONS, LOCK_REASON_MAX
from ..services.questions import get_question
from .core import api_blueprint, changes, member
from .questions import thread
from .refusals import FORBIDDEN, UNAUTHORIZED, documents
from .schemas import Author, QuestionOut, Utc, With

bp = api_blueprint("staff", "Staff actions on questions: triage, close, lock, pin (the `staff` scope, staff only).",
                   "Staff actions")

#: The errors every staff action can answer.
refusals = documents(bp, UNAUTHORIZED, FORBIDDEN, (404, "No such question, or one the member may not see."))


# --------------------------------------------------------------------------- schemas

class TriageIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    type = fields.String(required=True, validate=validate.OneOf(TRIAGE_TYPES))
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))


class TriageOut(ma.Schema):
    question_id = fields.Integer(required=True)
    type = fields.String(required=True)
    severity = fields.String(required=True)
    triaged_by = fields.Nested(Author, required=True)
    triaged_at = Utc(required=True)
    target_hours = fields.Integer(required=True, metadata={"description": "The playbook's first-response target."})
    due_at = Utc(required=True, metadata={"description": "When a first response is due (asked + target)."})


class CloseIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    reason = fields.String(required=True, validate=validate.OneOf(list(CLOSE_REASONS)))
    duplicate_of = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=2**31 - 1),
                                  metadata={"description": "The original question's id (reason `duplicate` only)."})
    note = fields.String(load_default="", validate=validate.Length(max=500),
                         metadata={"description": "Shown on the question."})


class LockIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    reason = fields.String(load_default="", validate=validate.Length(max=LOCK_REASON_MAX),
                           metadata={"description": "Shown on the locked thread."})


# --------------------------------------------------------------------------- views

@bp.route("/questions/<int:question_id>/triage", methods=["POST"])
@changes("staff")
@bp.arguments(TriageIn)
@bp.response(200, TriageOut)
@refusals
def triage(data: dict[str, str], question_id: int) -> With:
    """Triage a question: its type and severity pick the playbook and the first-response due time."""
    question = get_question(question_id, member())
    row: QuestionTriage = support.triage_question(member(), question, data["type"], data["severity"])
    books = support.all_playbooks()
    # The row's triaged_by relationship still holds the previous agent after an update.
    return With(row, triaged_by=member(), target_hours=books[(row.type, row.severity)].target_hours,
                due_at=support.due_at(question, row, books))


@bp.route("/questions/<int:question_id>/close", methods=["POST"])
@changes("staff")
@bp.arguments(CloseIn)
@bp.response(200, QuestionOut)
@refusals
def close(data: dict[str, Any], question_id: int) -> With:
    """Close a question with a reason (a duplicate names its original); 403 when it is already closed."""
    question = get_question(question_id, member())
    original = data["duplicate_of"]
    curation.close_by_ref(member(), question, data["reason"], note=data["note"],
                          duplicate_ref=str(original) if original is not None else "")
    return thread(question_id)


@bp.route("/questions/<int:question_id>/lock", methods=["POST"])
@changes("staff")
@bp.arguments(LockIn, required=False)
@bp.response(200, QuestionOut)
@refusals
def lock(data: dict[str, Any], question_id: int) -> With:
    """Lock a thread (no answers, comments, votes or edits until unlocked); 403 when already locked."""
    curation.set_locked(member(), get_question(question_id, member()), True, data.get("reason", ""))
    return thread(question_id)


def _switch(action: str, summary: str, apply: Callable[[User, Question], None]) -> None:
    """Register the body-less action ``POST /questions/{id}/<action>``: ``apply`` (the page's
    service call) to the question, which the answer shows as it is now."""
    def view(question_id: int) -> With:
        apply(member(), get_question(question_id, member()))
        return thread(question_id)
    view.__name__ = action
    view.__doc__ = summary
    route = bp.route(f"/questions/<int:question_id>/{action}", methods=["POST"])
    route(changes("staff")(bp.response(200, QuestionOut)(refusals(view))))


_switch("reopen", "Reopen a closed question; 403 when it is not closed.", curation.reopen_question)
_switch("unlock", "Unlock a thread; 403 when it is not locked.",
        lambda actor, question: curation.set_locked(actor, question, False))
_switch("pin", "Pin to the top of the home page and the question's tags; 403 when already pinned or not visible.",
        lambda actor, question: curation.set_pinned(actor, question, True))
_switch("unpin", "Unpin; 403 when it is not pinned.",
        lambda actor, question: curation.set_pinned(actor, question, False))
