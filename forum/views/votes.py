"""Voting: a plain POST form that redirects back to the post, or JSON for the script."""
from __future__ import annotations

from flask import Blueprint, jsonify, redirect, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

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

