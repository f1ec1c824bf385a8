"""Home page."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from ..services import questions as svc
from ..services.curation import pinned_questions

bp = Blueprint("main", __name__)


@bp.route("/")
def index() -> ResponseReturnValue:
    # Bounded: the active list is never counted, the unanswered one up to LIST_COUNT_CAP.
    active = svc.list_questions("active", 1, per_page=10, count=False)
    unanswered = svc.list_questions("unanswered", 1, per_page=5)
    tags = svc.list_tags(1)
    return render_template("main/index.html", active=active, unanswered=unanswered, tags=tags.items[:15],
                           pinned=pinned_questions())
