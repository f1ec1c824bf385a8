"""Home page; the colour theme switch."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from .. import theme
from ..extensions import csrf
from ..services import questions as svc
from ..services.curation import pinned_questions
from .errorpages import error_response, wants_json
from .formglue import writes
from .redirects import safe_next

bp = Blueprint("main", __name__)


@bp.route("/")
def index() -> ResponseReturnValue:
    # Bounded: the active list is never counted, the unanswered one up to HOME_COUNT_CAP.
    active = svc.list_questions("active", 1, per_page=10, count=False)
    unanswered = svc.list_questions("unanswered", 1, per_page=5, count_cap=int(current_app.config["HOME_COUNT_CAP"]))
    tags = svc.list_tags(1)
    return render_template("main/index.html", active=active, unanswered=unanswered, tags=tags.items[:15],
                           pinned=pinned_questions())


@bp.route("/theme", methods=["POST"])
@csrf.exempt
@writes
def set_theme() -> ResponseReturnValue:
    """Remember the visitor's colour theme (light, dark or system) in a cookie; back to ``next``.

    Works without JavaScript (a form in the footer); static/js/theme.js posts the same form
    with ``Accept: application/json`` and gets ``{"theme": ...}``. Answers 400 for a value
    that is not a theme. Raises CSRFError for a signed-in member without a valid token;
    anonymous visitors need none, as with banner dismissals: their pages come from the shared
    page cache, which carries no per-session token, and all a forged request could do is
    change the colours in that browser.
    """
    if current_user.is_authenticated:
        csrf.protect()
    value = request.form.get("theme", "")
    if value not in theme.THEMES:
        return error_response(400, "Choose a theme: light, dark or system.", field="theme")
    response = (jsonify(theme=value) if wants_json()
                else redirect(safe_next(request.form.get("next"), url_for("main.index"))))
    response.set_cookie(theme.COOKIE, value, max_age=theme.COOKIE_MAX_AGE, httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response
