"""Help pages: /help/privileges lists what reputation unlocks and marks what the viewer has."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..services import privileges as svc

bp = Blueprint("help", __name__)


@bp.route("/help/privileges")
def privileges() -> ResponseReturnValue:
    return render_template("help/privileges.html", ladder=svc.ladder(current_user),
                           limits=svc.new_member_limits(current_user))
