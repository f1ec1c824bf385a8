"""Adding, editing and deleting comments."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..forms import CommentForm
from ..models import Answer, Question
from ..services import comments as svc
from ..services.answers import get_answer
from ..services.errors import RateLimited
from ..services.membership import held_message
from ..services.permissions import require
from ..services.questions import get_question
from .drafts import posted
from .formglue import NOT_SAVED, form_status, save, too_fast, writes
from .questions import question_url, render_thread

bp = Blueprint("comments", __name__)


def _comment_key(target: Question | Answer) -> str:
    return "q" if isinstance(target, Question) else f"a{target.id}"


def _create(question: Question, target: Question | Answer) -> ResponseReturnValue:
    form = CommentForm()
    if form.validate_on_submit():
        try:
            comment = save(form, lambda: svc.add_comment(current_user, target, form.body.data))
        except RateLimited as exc:  # the comment typed comes back with the wait
            return too_fast(form, exc, lambda: render_thread(question, comment_forms={_comment_key(target): form}))
        if comment is not NOT_SAVED:
            posted(f"comment:{'q' if isinstance(target, Question) else 'a'}{target.id}")
            if comment.awaits_review:
                flash(held_message("comment"), "warning")
            return redirect(question_url(question, _anchor=f"comment-{comment.id}"))
    return render_thread(question, comment_forms={_comment_key(target): form}, status=400)


@bp.route("/questions/<int:question_id>/comments", methods=["POST"])
@login_required
@writes
def on_question(question_id: int) -> ResponseReturnValue:
    question = get_question(question_id, current_user)
    return _create(question, question)


@bp.route("/answers/<int:answer_id>/comments", methods=["POST"])
@login_required
@writes
def on_answer(answer_id: int) -> ResponseReturnValue:
    answer = get_answer(answer_id, current_user)
    return _create(answer.question, answer)


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(comment_id: int) -> ResponseReturnValue:
    comment = svc.get_visible_comment(comment_id, current_user)
    question = get_question(comment.question_id, current_user)
    require(current_user, "edit_comment", comment, "Comments can only be edited by their author for five minutes.")
    form = CommentForm(obj=comment if request.method == "GET" else None)
    if form.validate_on_submit():
        if save(form, lambda: svc.edit_comment(current_user, comment, form.body.data)) is not NOT_SAVED:
            return redirect(question_url(question, _anchor=f"comment-{comment.id}"))
    return render_template("comments/edit.html", form=form, comment=comment, question=question), form_status(form)


@bp.route("/comments/<int:comment_id>/delete", methods=["POST"])
@login_required
@writes
def delete(comment_id: int) -> ResponseReturnValue:
    comment = svc.get_comment(comment_id)
    question = get_question(comment.question_id, current_user)
    svc.delete_comment(current_user, comment)
    flash("Comment deleted.", "info")
    return redirect(question_url(question, _anchor="comments-q"))
