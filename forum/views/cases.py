"""Private support cases: open from a question, the private conversation, status, resolution."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..forms.support import CaseMessageForm, CaseStatusForm, ExternalRefForm, ResolveForm
from ..models import CASE_STATUSES, CaseEvent, SupportCase
from ..services import cases as svc
from ..services.errors import ServiceError
from ..services.pages import case_page
from ..services.pagination import clamp_page
from ..services.questions import get_question
from .drafts import posted
from .errorpages import wants_json
from .formglue import NOT_SAVED, flashed, save, show_error, writes
from .notifications import mark_seen
from .questions import question_url
from .support import composer_form

bp = Blueprint("cases", __name__)


@bp.route("/questions/<int:question_id>/private", methods=["POST"])
@login_required
@writes
def open_case(question_id: int) -> ResponseReturnValue:
    question = get_question(question_id, current_user)
    case = save(None, lambda: svc.open_case(current_user, question), refused=flashed("info"))
    if case is NOT_SAVED:
        existing = svc.case_for_question(question.id)
        return redirect(url_for("cases.show", case_id=existing.id) if existing else question_url(question))
    flash("Private case opened. The customer is told, and the question shows that support is helping privately.",
          "success")
    return redirect(url_for("cases.show", case_id=case.id))


@bp.route("/cases")
@login_required
def index() -> ResponseReturnValue:
    status = request.args.get("status", "")
    status = status if status in CASE_STATUSES else ""
    page = svc.list_cases(current_user, status, clamp_page(request.args.get("page")))
    return render_template("cases/index.html", page=page, status=status, statuses=svc.STATUS_LABELS)


def render_case(case: SupportCase, *, message_form: CaseMessageForm | None = None,
                resolve_form: ResolveForm | None = None, confirm_reply: CaseEvent | None = None,
                ref_form: ExternalRefForm | None = None, status: int = 200) -> tuple[str, int]:
    """The case page; ``confirm_reply``: the resolve form comes back asking to confirm over it."""
    data = case_page(case, current_user)
    if message_form is None:
        message_form = composer_form(case.question, CaseMessageForm)
        draft = data.drafts.get(f"case:{case.id}")
        if draft is not None and not message_form.body.data:  # the message they were typing
            message_form.body.data = draft.body
    if resolve_form is None:
        resolve_form = ResolveForm(formdata=None)
        draft = data.drafts.get(f"resolve:{case.id}")
        if draft is not None:
            resolve_form.summary.data = draft.body
    return render_template(
        "cases/show.html", case=case, events=data.events, canned_replies=data.canned_replies,
        statuses=svc.STATUS_LABELS, pending_reply=data.pending_reply, reopen_until=data.reopen_until,
        confirm_reply=confirm_reply,
        drafts=data.drafts, message_form=message_form,
        status_form=CaseStatusForm(formdata=None, status=case.status),
        resolve_form=resolve_form,
        ref_form=ref_form or ExternalRefForm(formdata=None, external_ref=case.external_ref or ""),
        crm_url=svc.crm_url(case),
    ), status


@bp.route("/cases/<int:case_id>")
@login_required
def show(case_id: int) -> ResponseReturnValue:
    case = svc.get_case(case_id, current_user)
    mark_seen(f"case:{case.id}")
    return render_case(case)


@bp.route("/cases/<int:case_id>/messages", methods=["POST"])
@login_required
@writes
def message(case_id: int) -> ResponseReturnValue:
    case = svc.get_case(case_id, current_user)
    form = CaseMessageForm()
    if form.validate_on_submit() and save(form, lambda: svc.add_message(current_user, case, form.body.data)) is not NOT_SAVED:
        posted(f"case:{case.id}")
        return redirect(url_for("cases.show", case_id=case.id, _anchor="timeline-end"))
    form.prefill_note = ""
    return render_case(case, message_form=form, status=400)


@bp.route("/cases/<int:case_id>/status", methods=["POST"])
@login_required
@writes
def status(case_id: int) -> ResponseReturnValue:
    case = svc.get_case(case_id, current_user)
    form = CaseStatusForm()
    if form.validate_on_submit():
        svc.set_status(current_user, case, form.status.data)
        flash(f"Status: {svc.STATUS_LABELS[case.status].lower()}.", "info")
    else:
        flash("Choose open or waiting.", "error")
    return redirect(url_for("cases.show", case_id=case.id))


@bp.route("/cases/<int:case_id>/resolve", methods=["POST"])
@login_required
@writes
def resolve(case_id: int) -> ResponseReturnValue:
    case = svc.get_case(case_id, current_user)
    form = ResolveForm()
    pending: list[CaseEvent] = []

    def refused(exc: ServiceError) -> None:
        if isinstance(exc, svc.ReplyPending):
            pending.append(exc.reply)
        show_error(form, exc)

    if form.validate_on_submit():
        answer = save(form, lambda: svc.resolve_case(current_user, case, form.summary.data, confirm=form.confirm.data),
                      refused=refused)
        if answer is not NOT_SAVED:
            posted(f"resolve:{case.id}")
            flash("Case resolved. The summary is posted and accepted on the question as the official answer.",
                  "success")
            return redirect(url_for("cases.show", case_id=case.id))
    return render_case(case, resolve_form=form, confirm_reply=pending[0] if pending else None, status=400)


@bp.route("/cases/<int:case_id>/external-ref", methods=["POST"])
@login_required
@writes
def external_ref(case_id: int) -> ResponseReturnValue:
    """Staff set the case's ticket or CRM id (a form field ``external_ref``; JSON clients get
    ``{"case_id", "external_ref"}`` or the error object)."""
    case = svc.get_case(case_id, current_user)
    form = ExternalRefForm()
    if form.validate_on_submit():
        ref = save(form, lambda: svc.set_external_ref(current_user, case, form.external_ref.data or ""))
        if ref is not NOT_SAVED:
            if wants_json():
                return jsonify({"case_id": case.id, "external_ref": ref})
            flash(f"Reference set: {ref}." if ref else "Reference removed.", "success")
            return redirect(url_for("cases.show", case_id=case.id))
    return render_case(case, ref_form=form, status=400)
