"""The admin area (admins only): members and their roles, the mail queue, run-time site settings,
outbound webhooks (docs/webhooks.md).

Every page checks the "administer" rule through its service, so anyone else gets the 403
page. The mail queue lives at /admin/mail (views/notifications.py); this module links it.
"""
from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..forms.admin import RoleForm, SettingsForm, WebhookForm
from ..models import User, WebhookEndpoint
from ..services import admin as svc
from ..services import site_settings, webhooks
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


# ---------------------------------------------------------------- webhooks


def _render_webhooks(form: WebhookForm | None = None, status: int = 200, *, secret: str | None = None,
                     created: int | None = None) -> tuple[str, int]:
    if form is None:
        form = WebhookForm(formdata=None, format="json")
    return render_template("admin/webhooks.html", rows=webhooks.list_endpoints(current_user), form=form,
                           secret=secret, created=created, labels=webhooks.EVENT_LABELS,
                           formats=webhooks.FORMAT_LABELS), status


@bp.route("/webhooks", methods=["GET", "POST"])
@login_required
@writes
def webhooks_page() -> ResponseReturnValue:
    """The endpoints and the form to add one. After a successful POST the page (not a redirect)
    shows the new secret, the only time it is shown."""
    webhooks.admin_only(current_user)  # 403 before the form is read
    if request.method == "GET":
        return _render_webhooks()
    form = WebhookForm()
    data = webhooks.EndpointInput(form.url.data or "", list(form.events.data or []), form.format.data or "")
    if form.validate_on_submit():
        made = save(form, lambda: webhooks.create_endpoint(current_user, data))
        if made is not NOT_SAVED:
            endpoint, secret = made
            return _render_webhooks(secret=secret, created=endpoint.id)
    else:
        check_rest(form, lambda: webhooks.check_endpoint_input(data))
    return _render_webhooks(form, form_status(form))


@bp.route("/webhooks/<int:endpoint_id>")
@login_required
def webhook(endpoint_id: int) -> ResponseReturnValue:
    endpoint = webhooks.get_endpoint(current_user, endpoint_id)
    log = webhooks.delivery_log(current_user, endpoint, clamp_page(request.args.get("page")))
    return render_template("admin/webhook.html", endpoint=endpoint, log=log, labels=webhooks.EVENT_LABELS,
                           formats=webhooks.FORMAT_LABELS)


def _render_edit(endpoint: WebhookEndpoint, form: WebhookForm | None = None, status: int = 200) -> tuple[str, int]:
    if form is None:
        form = WebhookForm(formdata=None, url=endpoint.url, events=endpoint.event_list, format=endpoint.format)
    return render_template("admin/webhook_edit.html", endpoint=endpoint, form=form), status


@bp.route("/webhooks/<int:endpoint_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def webhook_edit(endpoint_id: int) -> ResponseReturnValue:
    """Change the URL, events or format, with the registration form's checks."""
    endpoint = webhooks.get_endpoint(current_user, endpoint_id)  # 403/404 before the form is read
    if request.method == "GET":
        return _render_edit(endpoint)
    form = WebhookForm()
    data = webhooks.EndpointInput(form.url.data or "", list(form.events.data or []), form.format.data or "")
    if form.validate_on_submit():
        changed = save(form, lambda: webhooks.update_endpoint(current_user, endpoint, data))
        if changed is not NOT_SAVED:
            flash("Endpoint updated." if changed else "Nothing changed.", "success" if changed else "info")
            return redirect(url_for("admin.webhook", endpoint_id=endpoint.id))
    else:
        check_rest(form, lambda: webhooks.check_endpoint_input(data))
    return _render_edit(endpoint, form, form_status(form))


@bp.route("/webhooks/<int:endpoint_id>/secret", methods=["POST"])
@login_required
@writes
def webhook_rotate_secret(endpoint_id: int) -> ResponseReturnValue:
    """A new secret, shown on the page this once (not a redirect: it is never shown again)."""
    endpoint = webhooks.get_endpoint(current_user, endpoint_id)
    secret = webhooks.rotate_secret(current_user, endpoint)
    log = webhooks.delivery_log(current_user, endpoint, 1)
    return render_template("admin/webhook.html", endpoint=endpoint, log=log, labels=webhooks.EVENT_LABELS,
                           formats=webhooks.FORMAT_LABELS, secret=secret)


@bp.route("/webhooks/<int:endpoint_id>/active", methods=["POST"])
@login_required
@writes
def webhook_active(endpoint_id: int) -> ResponseReturnValue:
    endpoint = webhooks.get_endpoint(current_user, endpoint_id)
    active = request.form.get("active") == "1"
    if save(None, lambda: webhooks.set_active(current_user, endpoint, active)) is not NOT_SAVED:
        flash("Endpoint enabled." if active else "Endpoint disabled: nothing is sent to it.", "success")
    return redirect(url_for("admin.webhook", endpoint_id=endpoint_id))


@bp.route("/webhooks/<int:endpoint_id>/delete", methods=["POST"])
@login_required
@writes
def webhook_delete(endpoint_id: int) -> ResponseReturnValue:
    endpoint = webhooks.get_endpoint(current_user, endpoint_id)
    url = endpoint.url
    webhooks.delete_endpoint(current_user, endpoint)
    flash(f"Endpoint {url} deleted, with its delivery log.", "success")
    return redirect(url_for("admin.webhooks_page"))


@bp.route("/webhooks/<int:endpoint_id>/ping", methods=["POST"])
@login_required
@writes
def webhook_ping(endpoint_id: int) -> ResponseReturnValue:
    endpoint = webhooks.get_endpoint(current_user, endpoint_id)
    if save(None, lambda: webhooks.send_ping(current_user, endpoint)) is not NOT_SAVED:
        flash("Test ping queued: its result appears in the log below.", "success")
    return redirect(url_for("admin.webhook", endpoint_id=endpoint_id))


@bp.route("/webhooks/deliveries/<int:delivery_id>/redeliver", methods=["POST"])
@login_required
@writes
def webhook_redeliver(delivery_id: int) -> ResponseReturnValue:
    again = save(None, lambda: webhooks.redeliver(current_user, delivery_id))
    if again is NOT_SAVED:
        return redirect(url_for("admin.webhooks_page"))
    flash("Redelivery queued: its result appears at the top of the log.", "success")
    return redirect(url_for("admin.webhook", endpoint_id=again.endpoint_id))
