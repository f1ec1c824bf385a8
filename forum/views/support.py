"""The support desk for staff: queue, triage, duty, playbooks, canned replies and filling them."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.exceptions import HTTPException

from ..extensions import db
from ..forms import ActionForm, AnswerForm
from ..forms.support import CannedReplyForm, PlaybookForm, TriageForm, triage_form_for
from ..models import SEVERITIES, TRIAGE_TYPES, Article, Question
from ..models.base import utcnow
from ..services import canned, support
from ..services.errors import NotFound
from ..services.pagination import clamp_page
from ..services.permissions import can, require
from ..services.questions import get_question
from ..templating import article_url, question_url
from .formglue import NOT_SAVED, form_status, save, writes
from .redirects import safe_next

bp = Blueprint("support", __name__)


def _placeholder_values(question: Question, article_id: str | None) -> dict[str, str]:
    values = {"asker": question.author.name, "question_link": question_url(question, _external=True)}
    if article_id and article_id.isdigit():
        article = db.session.get(Article, int(article_id))
        if article is not None and article.is_published:
            values["article_link"] = article_url(article, _external=True)
    return values


def _template_for(question: Question, which: str) -> str:
    if which == "playbook":
        return support.playbook_for(support.triage_of(question.id)).first_reply
    if not which.isdigit():
        abort(404)
    return canned.get_reply(current_user, int(which)).body


def composer_form(question: Question, form_class: type[FlaskForm] = AnswerForm) -> Any:
    """A fresh composer, pre-filled for staff who chose a canned or suggested reply (works without JS)."""
    form = form_class(formdata=None)
    which = request.args.get("reply", "")
    form.prefill_note = ""
    if which and can(current_user, "support"):
        try:
            template = _template_for(question, which)
        except (NotFound, HTTPException):  # a reply deleted meanwhile, or a mangled link: show the page anyway
            form.prefill_note = "That reply is no longer in the library."
            return form
        filled = canned.fill(template, _placeholder_values(question, request.args.get("article")))
        form.body.data = filled.text
        form.prefill_note = _note(filled)
    return form


def _note(filled: canned.Filled) -> str:
    parts = []
    if filled.unknown:
        parts.append("Unknown placeholders left as typed: " + ", ".join("{%s}" % n for n in filled.unknown))
    if filled.unfilled:
        parts.append("Fill in yourself: " + ", ".join("{%s}" % n for n in filled.unfilled))
    return ". ".join(parts)


@bp.route("/support/fill")
@login_required
def fill() -> ResponseReturnValue:
    """JSON for the "Insert reply" picker: the reply with this question's placeholders filled."""
    require(current_user, "support")
    question_id = request.args.get("question", "")
    if not question_id.isdigit():
        abort(400)
    question = get_question(int(question_id), current_user)
    filled = canned.fill(_template_for(question, request.args.get("reply", "")),
                         _placeholder_values(question, request.args.get("article")))
    return jsonify(text=filled.text, unknown=list(filled.unknown), unfilled=list(filled.unfilled), note=_note(filled))


@bp.route("/support/queue")
@login_required
def queue() -> ResponseReturnValue:
    filters = support.QueueFilters(tag=request.args.get("tag", "")[:35], type=request.args.get("type", ""),
                                   severity=request.args.get("severity", ""))
    page = support.queue(current_user, filters, clamp_page(request.args.get("page")))
    return render_template("support/queue.html", page=page, filters=filters, types=TRIAGE_TYPES, severities=SEVERITIES,
                           on_duty=support.is_on_duty(current_user), on_duty_staff=support.on_duty_staff(),
                           action_form=ActionForm(), triage_form=triage_form_for, now=utcnow(), stats=support.metrics())


@bp.route("/support/duty", methods=["POST"])
@login_required
@writes
def duty() -> ResponseReturnValue:
    on = request.values.get("on") == "1"
    support.set_on_duty(current_user, on)
    flash("You are on duty: breaches reach you." if on else "You are off duty.", "info")
    return redirect(url_for("support.queue"))


@bp.route("/questions/<int:question_id>/triage", methods=["POST"])
@login_required
@writes
def triage(question_id: int) -> ResponseReturnValue:
    question = get_question(question_id, current_user)
    form = TriageForm()
    back = safe_next(request.form.get("next"), question_url(question))
    if not form.validate_on_submit():
        flash("Choose a type and a severity.", "error")
        return redirect(back)
    if save(None, lambda: support.triage_question(current_user, question, form.type.data,
                                                  form.severity.data)) is not NOT_SAVED:
        flash(f"Triaged as {support.TYPE_LABELS[form.type.data].lower()}, "
              f"{support.SEVERITY_LABELS[form.severity.data].lower()} severity.", "success")
    return redirect(back)


@bp.route("/support/playbooks")
@login_required
def playbooks() -> ResponseReturnValue:
    require(current_user, "support")
    return render_template("support/playbooks.html", books=support.all_playbooks(), types=TRIAGE_TYPES,
                           severities=SEVERITIES)


@bp.route("/support/playbooks/<type_>/<severity>", methods=["GET", "POST"])
@login_required
@writes
def edit_playbook(type_: str, severity: str) -> ResponseReturnValue:
    require(current_user, "edit_playbooks")
    book = support.all_playbooks().get((type_, severity))
    if book is None:
        abort(404)
    form = PlaybookForm(obj=None if request.method == "POST" else book)
    if request.method == "GET":
        form.notify_roles.data = list(book.notify_roles)
        form.watchers.data = " ".join(u.username for u in book.watchers)
    if form.validate_on_submit():
        data = support.PlaybookInput(type_, severity, form.target_hours.data, form.first_reply.data or "",
                                     form.notify_roles.data or [], form.watchers.data or "")
        if save(form, lambda: support.save_playbook(current_user, data)) is not NOT_SAVED:
            flash("Playbook saved.", "success")
            return redirect(url_for("support.playbooks"))
    return render_template("support/playbook_edit.html", form=form, book=book), form_status(form)


@bp.route("/support/replies")
@login_required
def replies() -> ResponseReturnValue:
    return render_template("support/replies.html", replies=canned.all_replies(current_user), action_form=ActionForm())


@bp.route("/support/replies/new", methods=["GET", "POST"])
@bp.route("/support/replies/<int:reply_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit_reply(reply_id: int | None = None) -> ResponseReturnValue:
    require(current_user, "support")
    reply = canned.get_reply(current_user, reply_id) if reply_id else None
    form = CannedReplyForm(obj=reply if request.method == "GET" else None)
    if form.validate_on_submit():
        data = canned.ReplyInput(form.title.data, form.body.data)
        action = (lambda: canned.update_reply(current_user, reply, data)) if reply else (
            lambda: canned.create_reply(current_user, data))
        if save(form, action) is not NOT_SAVED:
            flash("Reply saved to the shared library.", "success")
            return redirect(url_for("support.replies"))
    return render_template("support/reply_edit.html", form=form, reply=reply), form_status(form)


@bp.route("/support/replies/<int:reply_id>/delete", methods=["POST"])
@login_required
@writes
def delete_reply(reply_id: int) -> ResponseReturnValue:
    canned.delete_reply(current_user, canned.get_reply(current_user, reply_id))
    flash("Reply deleted.", "info")
    return redirect(url_for("support.replies"))

