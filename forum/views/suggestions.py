"""Suggested edits: the review queue (/review/edits) and the proposer's own list.

Suggestions are created by the normal edit pages (questions.edit, answers.edit) when the
editor is below the edit privilege.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..forms import ActionForm
from ..forms.moderation import ReasonForm
from ..services import suggestions as svc
from ..services.pagination import clamp_page
from ..services.permissions import require
from .formglue import NOT_SAVED, fields_on, flashed, form_messages, has_errors, save, writes
from .history import suggestion_diff

bp = Blueprint("suggestions", __name__)


def _render_queue(errors: dict[int, str] | None = None, typed: dict[int, str] | None = None,
                  status: int = 200) -> tuple[str, int]:
    page, items = svc.review_queue(current_user, clamp_page(request.args.get("page")))
    return render_template("suggestions/queue.html", page=page, items=items, diff=suggestion_diff,
                           errors=errors or {}, typed=typed or {}, action_form=ActionForm()), status


@bp.route("/review/edits")
@login_required
def queue() -> ResponseReturnValue:
    return _render_queue()


@bp.route("/review/edits/<int:suggestion_id>/approve", methods=["POST"])
@login_required
@writes
def approve(suggestion_id: int) -> ResponseReturnValue:
    require(current_user, "review_edits", None, "Reviewing suggested edits needs the review privilege.")
    if not ActionForm().validate_on_submit():
        return redirect(url_for("suggestions.queue"))
    suggestion = save(None, lambda: svc.approve(current_user, svc.get_suggestion(suggestion_id)),
                      refused=flashed("error", "Not applied: "))
    if suggestion is not NOT_SAVED:
        if suggestion.status == "superseded":
            flash(f"Not applied: {suggestion.reject_reason} It is marked superseded.", "info")
        else:
            flash(f"Approved: the edit is live as revision {suggestion.revision_number}, credited to "
                  f"{suggestion.proposer.username}.", "success")
    return redirect(url_for("suggestions.queue"))


@bp.route("/review/edits/<int:suggestion_id>/reject", methods=["POST"])
@login_required
@writes
def reject(suggestion_id: int) -> ResponseReturnValue:
    require(current_user, "review_edits", None, "Reviewing suggested edits needs the review privilege.")
    form = ReasonForm()
    typed = {suggestion_id: form.reason.data or ""}
    if not form.validate_on_submit():
        return _render_queue({suggestion_id: "Keep the reason under 500 characters."}, typed, 400)
    # A reason the service refuses comes back beside the buttons; any other refusal is flashed.
    rejected = save(form, lambda: svc.reject(current_user, svc.get_suggestion(suggestion_id), form.reason.data or ""),
                    refused=fields_on(form))
    if has_errors(form):
        return _render_queue({suggestion_id: form_messages(form)}, typed, 400)
    if rejected is not NOT_SAVED:
        flash("Rejected. The member sees your reason under My suggested edits.", "success")
    return redirect(url_for("suggestions.queue"))


@bp.route("/review/edits/mine")
@login_required
def mine() -> ResponseReturnValue:
    page, items = svc.my_suggestions(current_user, clamp_page(request.args.get("page")))
    return render_template("suggestions/mine.html", page=page, items=items, diff=suggestion_diff)
