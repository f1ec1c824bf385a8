"""Home page."""
from __future__ import annotations

from flask import Blueprint, render_template

from ..services import questions as svc
from ..services.curation import pinned_questions

bp = Blueprint("main", __name__)


@bp.route("/")
def index():  # noqa: ANN201
    active = svc.list_questions("active", 1)
    unanswered = svc.list_questions("unanswered", 1)
    tags = svc.list_tags(1)
    return render_template("main/index.html", active=active, unanswered=unanswered, tags=tags.items[:15],
                           pinned=pinned_questions())
