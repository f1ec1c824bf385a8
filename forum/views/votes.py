"""Voting and "This solved my problem too": plain POST forms that redirect back to the post, or
JSON for the scripts."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..services import solved_too as solved_too_svc
from ..services import votes as svc
from ..services.errors import FieldError
from .errorpages import wants_json
from .formglue import writes
from .questions import question_url

bp = Blueprint("votes", __name__)

KINDS = {"questions": "question", "answers": "answer"}


@bp.route("/<any(questions, answers):kind>/<int:post_id>/vote", methods=["POST"])
@login_required
@writes
def vote(kind: str, post_id: int) -> ResponseReturnValue:
    try:
        value = int(request.form.get("value", ""))
    except ValueError:
        raise FieldError("value", "A vote is up (1), down (-1) or withdrawn (0).") from None
    result = svc.cast_vote(current_user, KINDS[kind], post_id, value)
    if wants_json():
        return jsonify(score=result.score, my_vote=result.my_vote)
    anchor = "question" if kind == "questions" else f"answer-{post_id}"
    return redirect(question_url(result.question, _anchor=anchor))



@bp.route("/questions/<int:question_id>/solved-too", methods=["POST"])
@login_required
@writes
def solved_too(question_id: int) -> ResponseReturnValue:
    """"This solved my problem too": ``mark`` 1 or 0 asks for that state (the button sends the
    opposite of what it shows, so a double submit doesn't undo itself), absent flips it. A plain
    form redirects back to the mark; the script (static/js/solved_too.js) asks for JSON and
    updates the count in place."""
    want = {"1": True, "0": False}.get(request.form.get("mark", ""))  # absent: flip
    result = solved_too_svc.toggle(current_user, question_id, want)
    if wants_json():
        return jsonify(marked=result.marked, count=result.count)
    if result.marked:
        flash("Thanks for letting others know this solved your problem too.", "success")
    return redirect(question_url(result.question, _anchor="solved-too"))
