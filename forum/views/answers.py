"""Posting, editing, deleting answers and their history."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..forms import AnswerForm
from ..models import Answer
from ..services import answers as svc
from ..services import editing, suggestions
from ..services.errors import RateLimited
from ..services.membership import held_message
from ..services.posts import revisions_of
from ..services.questions import get_question
from .drafts import posted
from .formglue import NOT_SAVED, editor_preview, form_status, save, too_fast, writes
from .history import revision_diffs
from .questions import SUGGESTED, question_url, render_thread

bp = Blueprint("answers", __name__)


def answer_url(answer: Answer) -> str:
    return question_url(answer.question, _anchor=f"answer-{answer.id}")


@bp.route("/questions/<int:question_id>/answers", methods=["POST"])
@login_required
@writes
def create(question_id: int) -> ResponseReturnValue:
    question = get_question(question_id, current_user)
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            answer = save(form, lambda: svc.post_answer(current_user, question, form.body.data))
        except RateLimited as exc:  # the answer typed comes back with the wait
            return too_fast(form, exc, lambda: render_thread(question, answer_form=form))
        if answer is not NOT_SAVED:
            posted(f"answer:{question.id}")
            if answer.awaits_review:
                flash(held_message("answer"), "warning")
            else:
                flash("Thanks for answering!", "success")
            return redirect(answer_url(answer))
    # Show the thread again with the answer text kept in the form and the error beside it.
    return render_thread(question, answer_form=form, status=400)


@bp.route("/answers/<int:answer_id>")
def show(answer_id: int) -> ResponseReturnValue:
    return redirect(answer_url(svc.get_answer(answer_id, current_user)))


@bp.route("/answers/<int:answer_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(answer_id: int) -> ResponseReturnValue:
    answer = svc.get_answer(answer_id, current_user)
    mode = editing.edit_mode(current_user, answer)
    form = AnswerForm(obj=answer if request.method == "GET" else None)
    if form.validate_on_submit():
        outcome = save(form, lambda: editing.edit_or_suggest(current_user, answer, form.body.data or "",
                                                             form.summary.data or ""))
        if outcome is not NOT_SAVED:
            flash(SUGGESTED if outcome.suggested else "Your edit is saved.", "success")
            return redirect(answer_url(answer))
    return render_template("answers/edit.html", form=form, answer=answer, question=answer.question,
                           body_preview=editor_preview(form.body.data), suggest=mode is editing.EditMode.SUGGEST,
                           pending=suggestions.pending_for(answer) if mode is editing.EditMode.SUGGEST else None),\
                           form_status(form)


@bp.route("/answers/<int:answer_id>/delete", methods=["POST"])
@login_required
@writes
def delete(answer_id: int) -> ResponseReturnValue:
    answer = svc.get_answer(answer_id, current_user)
    svc.delete_answer(current_user, answer)
    flash("The answer is deleted. You can restore it from the question page.", "info")
    return redirect(answer_url(answer))


@bp.route("/answers/<int:answer_id>/restore", methods=["POST"])
@login_required
@writes
def restore(answer_id: int) -> ResponseReturnValue:
    answer = svc.get_answer(answer_id, current_user)
    svc.restore_answer(current_user, answer)
    flash("The answer is restored.", "success")
    return redirect(answer_url(answer))


@bp.route("/answers/<int:answer_id>/history")
def history(answer_id: int) -> ResponseReturnValue:
    answer = svc.get_answer(answer_id, current_user)
    return render_template("questions/history.html", post=answer, question=answer.question,
                           diffs=revision_diffs(revisions_of(answer)))
