"""The badge catalogue and who earned each badge."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..services import badges
from ..services.pagination import clamp_page

bp = Blueprint("badges", __name__)


@bp.route("/badges")
def index() -> ResponseReturnValue:
    return render_template("badges/index.html", tiers=badges.catalogue(current_user), labels=badges.TIER_LABELS)


@bp.route("/badges/<key>")
def show(key: str) -> ResponseReturnValue:
    badge = badges.get_badge(key)
    page = badges.badge_page(badge, clamp_page(request.args.get("page")))
    return render_template("badges/show.html", badge=badge, page=page)
