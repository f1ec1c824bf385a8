"""Home page."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from ..services import questions as svc
from ..services.curation import pinned_questions

bp = Blueprint("main", __name__)


@bp.route("/")
def index() -> ResponseReturnValue:
    active = svc.list_questions("active", 1)
    unanswered = svc.list_questions("unanswered", 1)
    tags = svc.list_tags(1)
    return render_template("main/index.html", active=active, unanswered=unanswered, tags=tags.items[:15],
                           pinned=pinned_questions())
