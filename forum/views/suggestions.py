"""Suggested edits: the review queue (/review/edits) and the proposer's own list.

Suggestions are created by the normal edit pages (questions.edit, answers.edit) when the
editor is below the edit privilege.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..forms import ActionForm
from ..forms.moderation import ReasonForm
from ..services import suggestions as svc
from ..services.errors import FieldError, InvalidState
from ..services.pagination import clamp_page
from ..services.permissions import require
from .history import suggestion_diff

bp = Blueprint("suggestions", __name__)


def _render_queue(errors: dict[int, str] | None = None, typed: dict[int, str] | None = None, status: int = 200):  # noqa: ANN202
    page, items = svc.review_queue(current_user, clamp_page(request.args.get("page")))
    return render_template("suggestions/queue.html", page=page, items=items, diff=suggestion_diff,
                           errors=errors or {}, typed=typed or {}, action_form=ActionForm()), status


@bp.route("/review/edits")
@login_required
def queue():  # noqa: ANN201
    return _render_queue()


@bp.route("/review/edits/<int:suggestion_id>/approve", methods=["POST"])
@login_required
def approve(suggestion_id: int):  # noqa: ANN201
    require(current_user, "review_edits", None, "Reviewing suggested edits needs the review privilege.")
    if not ActionForm().validate_on_submit():
        return redirect(url_for("suggestions.queue"))
    try:
        suggestion = svc.approve(current_user, svc.get_suggestion(suggestion_id))
    except (FieldError, InvalidState) as exc:
        db.session.rollback()
        flash(f"Not applied: {exc.message}", "error")
        return redirect(url_for("suggestions.queue"))
    db.session.commit()
    if suggestion.status == "superseded":
        flash(f"Not applied: {suggestion.reject_reason} It is marked superseded.", "info")
    else:
        flash(f"Approved: the edit is live as revision {suggestion.revision_number}, credited to "
              f"{suggestion.proposer.username}.", "success")
    return redirect(url_for("suggestions.queue"))


@bp.route("/review/edits/<int:suggestion_id>/reject", methods=["POST"])
@login_required
def reject(suggestion_id: int):  # noqa: ANN201
    require(current_user, "review_edits", None, "Reviewing suggested edits needs the review privilege.")
    form = ReasonForm()
    typed = {suggestion_id: form.reason.data or ""}
    if not form.validate_on_submit():
        return _render_queue({suggestion_id: "Keep the reason under 500 characters."}, typed, 400)
    try:
        svc.reject(current_user, svc.get_suggestion(suggestion_id), form.reason.data or "")
    except FieldError as exc:
        db.session.rollback()
        return _render_queue({suggestion_id: exc.message}, typed, 400)
    except InvalidState as exc:
        db.session.rollback()
        flash(exc.message, "info")
        return redirect(url_for("suggestions.queue"))
    db.session.commit()
    flash("Rejected. The member sees your reason under My suggested edits.", "success")
    return redirect(url_for("suggestions.queue"))


@bp.route("/review/edits/mine")
@login_required
def mine():  # noqa: ANN201
    page, items = svc.my_suggestions(current_user, clamp_page(request.args.get("page")))
    return render_template("suggestions/mine.html", page=page, items=items, diff=suggestion_diff)
