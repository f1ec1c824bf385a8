"""The member's own account: signed-in devices, "Download my data", "Delete my account".

Every page here is under /settings, so it is sent with ``Cache-Control: no-store``
(``views/private.py``).
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, logout_user

from ..forms import ActionForm
from ..forms.account import DeleteAccountForm
from ..services import account_data, devices
from .formglue import NOT_SAVED, flashed, form_status, save, writes

bp = Blueprint("account", __name__)


@bp.route("/settings/sessions")
@login_required
def sessions() -> ResponseReturnValue:
    return render_template("users/settings_sessions.html", devices=devices.list_devices(current_user),
                           section="sessions")


@bp.route("/settings/sessions/<int:session_id>/end", methods=["POST"])
@login_required
@writes
def end_session(session_id: int) -> ResponseReturnValue:
    if ActionForm().validate_on_submit() and save(
            None, lambda: devices.end(current_user, session_id), refused=flashed("error")) is not NOT_SAVED:
        flash("That device is signed out.", "success")
    return redirect(url_for("account.sessions"))


@bp.route("/settings/sessions/end-others", methods=["POST"])
@login_required
@writes
def end_other_sessions() -> ResponseReturnValue:
    if ActionForm().validate_on_submit():
        ended = save(None, lambda: devices.end_others(current_user))
        if ended is not NOT_SAVED:
            flash(f"Signed out {ended} other device{'s' if ended != 1 else ''}.", "success")
    return redirect(url_for("account.sessions"))


@bp.route("/settings/data")
@login_required
def data() -> ResponseReturnValue:
    return render_template("users/settings_data.html", section="data")


@bp.route("/settings/data/export.json")
@login_required
def export() -> ResponseReturnValue:
    body = json.dumps(account_data.export(current_user), ensure_ascii=False, indent=2)
    filename = f"{current_user.username}-data.json"
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/settings/delete", methods=["GET", "POST"])
@login_required
@writes
def delete() -> ResponseReturnValue:
    form = DeleteAccountForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if save(form, lambda: account_data.delete_account(user, form.password.data)) is not NOT_SAVED:
            logout_user()
            session.clear()
            flash("Your account is deleted. What you posted stays, under \u201cDeleted member\u201d.", "info")
            return redirect(url_for("main.index"))
    form.password.data = ""
    return render_template("users/settings_delete.html", form=form, section="delete"), form_status(form)
