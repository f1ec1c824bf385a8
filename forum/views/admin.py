"""The admin area (admins only): members and their roles, the mail queue, run-time site settings.

Every page checks the "administer" rule through its service, so anyone else gets the 403
page. The mail queue lives at /admin/mail (views/notifications.py); this module links it.
"""
from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..forms.admin import RoleForm, SettingsForm
from ..models import User
from ..services import admin as svc
from ..services import site_settings
from ..services.pagination import clamp_page
from .formglue import NOT_SAVED, check_rest, form_status, save, writes

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.record_once
def _reload_settings(state: BlueprintSetupState) -> None:
    # Every request reloads the run-time site settings when due (services/site_settings.py).
    site_settings.init_app(cast(Flask, state.app))


@bp.route("")
@login_required
def members() -> ResponseReturnValue:
    result = svc.members(current_user, request.args.get("q", ""), request.args.get("role", ""),
                         clamp_page(request.args.get("page")))
    return render_template("admin/members.html", result=result, roles=svc.ROLE_LABELS)


def _render_member(user: User, form: RoleForm | None = None, status: int = 200) -> tuple[str, int]:
    if form is None:
        form = RoleForm(formdata=None)
        form.role.data = user.role
    return render_template("admin/member.html", user=user, form=form, roles=svc.ROLE_LABELS,
                           history=svc.role_history(current_user, user), admins=svc.admin_count()), status


@bp.route("/members/<int:user_id>")
@login_required
def member(user_id: int) -> ResponseReturnValue:
    return _render_member(svc.get_member(current_user, user_id))


@bp.route("/members/<int:user_id>/role", methods=["POST"])
@login_required
@writes
def change_role(user_id: int) -> ResponseReturnValue:
    user = svc.get_member(current_user, user_id)
    form = RoleForm()
    if form.validate_on_submit():
        old = save(form, lambda: svc.change_role(current_user, user, form.role.data or "", form.reason.data or ""))
        if old is not NOT_SAVED:
            flash(f"{user.username} is now {svc.ROLE_LABELS[user.role].lower()} (was {svc.ROLE_LABELS[old].lower()}).",
                  "success")
            return redirect(url_for("admin.member", user_id=user.id))
    return _render_member(user, form, form_status(form))


def _settings_form(rows: list[site_settings.SettingRow]) -> SettingsForm:
    form = SettingsForm(formdata=None)
    for row in rows:
        getattr(form, row.setting.key).data = (row.value if row.setting.kind == "bool"
                                               else site_settings.to_text(row.setting, row.value))
    return form


@bp.route("/settings", methods=["GET", "POST"])
@login_required
@writes
def settings() -> ResponseReturnValue:
    rows = site_settings.settings_page(current_user)
    if request.method == "GET":
        form = _settings_form(rows)
    else:
        form = SettingsForm()
        values: dict[str, Any] = {s.key: getattr(form, s.key).data for s in site_settings.SETTINGS}
        if form.validate_on_submit():
            changed = save(form, lambda: site_settings.change_settings(current_user, values, form.reason.data or ""))
            if changed is not NOT_SAVED:
                flash(f"Saved: {', '.join(site_settings.BY_KEY[k].label for k in changed)}." if changed
                      else "Nothing changed.", "success" if changed else "info")
                return redirect(url_for("admin.settings"))
        else:
            check_rest(form, lambda: site_settings.check_settings(values))
    return render_template("admin/settings.html", form=form, rows=rows, groups=site_settings.GROUPS), form_status(form)
