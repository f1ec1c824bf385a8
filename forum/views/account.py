"""The member's account outside the profile: forgotten passwords, confirming e-mail addresses
(and staff vouching for one), signed-in devices, API tokens, "Download my data", "Delete my account".

Links in mails open a page with one button (GET changes nothing: mail scanners follow links);
the button's POST uses the link. Throttled requests (429) show the form again with what was
typed and a ``Retry-After`` header. Every page under /settings is sent with
``Cache-Control: no-store`` (``views/private.py``).
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, logout_user

from ..forms import ActionForm, EmailForm
from ..forms.account import ApiTokenForm, DeleteAccountForm, ForgotPasswordForm, ResetPasswordForm
from ..models import ApiToken
from ..models.base import utcnow
from ..services import account_data, accounts, api_tokens, devices, password_reset, verification
from ..services.account_mail import BadLink
from ..services.mail_throttle import MailThrottled
from .formglue import NOT_SAVED, check_rest, flashed, form_status, save, writes

bp = Blueprint("account", __name__)


def _throttled(template: str, exc: MailThrottled, **context: object) -> ResponseReturnValue:
    return render_template(template, **context), 429, {"Retry-After": str(exc.retry_after)}


@bp.route("/password/forgot", methods=["GET", "POST"])
@writes
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            address = save(form, lambda: password_reset.request_reset(form.email.data, request.remote_addr))
        except MailThrottled as exc:
            form.form_errors.append(exc.message)
            return _throttled("account/forgot.html", exc, form=form)
        if address is not NOT_SAVED:
            # The same answer whether or not an account has the address (the mail differs).
            flash(f"Check your inbox at {address}: we've sent you a message with the next step. "
                  "A reset link works for one hour and only once.", "success")
            return redirect(url_for("auth.login"))
    return render_template("account/forgot.html", form=form), form_status(form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@writes
def reset_password(token: str) -> ResponseReturnValue:
    try:
        user = password_reset.reset_target(token)
    except BadLink as exc:
        # The request form at once, so asking for a fresh link is one step.
        forgot = ForgotPasswordForm(formdata=None)
        forgot.form_errors.append(exc.message)
        return render_template("account/forgot.html", form=forgot), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        if save(form, lambda: password_reset.reset_password(token, form.password.data)) is not NOT_SAVED:
            flash("Your password is changed and every device signed in to your account is signed out. "
                  "Sign in with the new password.", "success")
            return redirect(url_for("auth.login"))
    form.password.data = ""
    return render_template("account/reset.html", form=form, user=user), form_status(form)


@bp.route("/verify-email/<token>", methods=["GET", "POST"])
@writes
def verify_email(token: str) -> ResponseReturnValue:
    user, address = verification.confirm_target(token)  # BadLink: the error page, 400
    form = ActionForm()
    if form.validate_on_submit():
        if save(form, lambda: verification.confirm_email(token)) is not NOT_SAVED:
            flash(f"Thank you: {address} is confirmed.", "success")
            if current_user.is_authenticated:
                return redirect(url_for("users.change_email"))
            return redirect(url_for("auth.login"))
    return render_template("account/verify.html", form=form, user=user, address=address), form_status(form)


@bp.route("/settings/email/resend", methods=["POST"])
@login_required
@writes
def resend_verification() -> ResponseReturnValue:
    form = ActionForm()
    if not form.validate_on_submit():
        return redirect(url_for("users.change_email"))
    try:
        address = save(None, lambda: verification.resend(current_user), refused=flashed("info"))
    except MailThrottled as exc:
        email_form = EmailForm(formdata=None)
        email_form.form_errors.append(exc.message)
        return _throttled("users/settings_email.html", exc, form=email_form, section="email")
    if address is not NOT_SAVED:
        flash(f"We've sent a new confirmation link to {address}.", "success")
    return redirect(url_for("users.change_email"))


@bp.route("/settings/email/cancel", methods=["POST"])
@login_required
@writes
def cancel_email_change() -> ResponseReturnValue:
    form = ActionForm()
    if form.validate_on_submit():
        if save(None, lambda: verification.cancel_email_change(current_user), refused=flashed("info")) is not NOT_SAVED:
            flash("The change of address is cancelled.", "success")
    return redirect(url_for("users.change_email"))


@bp.route("/moderation/users/<int:user_id>/verify-email", methods=["POST"])
@login_required
@writes
def mark_verified(user_id: int) -> ResponseReturnValue:
    user = accounts.get_user(user_id)
    form = ActionForm()
    if form.validate_on_submit():
        if save(None, lambda: verification.mark_verified(current_user, user), refused=flashed("info")) is not NOT_SAVED:
            flash(f"{user.username}'s e-mail address is marked confirmed.", "success")
    return redirect(url_for("users.profile", user_id=user.id, _anchor="moderator-tools"))


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


def _render_tokens(form: ApiTokenForm | None = None, status: int = 200, *, secret: str | None = None,
                   created: ApiToken | None = None) -> tuple[str, int]:
    if form is None:
        form = ApiTokenForm(formdata=None, staff=current_user.is_staff)
    return render_template("users/settings_tokens.html", form=form, tokens=api_tokens.tokens_of(current_user),
                           secret=secret, created=created, now=utcnow(), section="tokens"), status


@bp.route("/settings/tokens", methods=["GET", "POST"])
@login_required
@writes
def tokens() -> ResponseReturnValue:
    """The member's API tokens and the form to create one. After a successful POST the page (not
    a redirect) shows the new secret, the only time it is shown: only its hash is stored."""
    if request.method == "GET":
        return _render_tokens()
    form = ApiTokenForm(staff=current_user.is_staff)
    name, scopes = form.name.data or "", list(form.scopes.data or [])
    days = form.expires_in_days.data if isinstance(form.expires_in_days.data, int) else 0
    if form.validate_on_submit():
        made = save(form, lambda: api_tokens.create_token(current_user, name, scopes, days))
        if made is not NOT_SAVED:
            token, secret = made
            return _render_tokens(secret=secret, created=token)
    else:
        check_rest(form, lambda: api_tokens.check_token_input(current_user, name, scopes, days))
    return _render_tokens(form, form_status(form))


@bp.route("/settings/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
@writes
def revoke_token(token_id: int) -> ResponseReturnValue:
    """Revoke one token (NotFound, a 404, for a token that is not the member's)."""
    if ActionForm().validate_on_submit():
        token = save(None, lambda: api_tokens.revoke_token(current_user, token_id), refused=flashed("error"))
        if token is not NOT_SAVED:
            flash(f"\u201c{token.name}\u201d is revoked: programs using it are refused from now on.", "success")
    return redirect(url_for("account.tokens"))


@bp.route("/settings/tokens/revoke-all", methods=["POST"])
@login_required
@writes
def revoke_all_tokens() -> ResponseReturnValue:
    if ActionForm().validate_on_submit():
        revoked = save(None, lambda: api_tokens.revoke_all(current_user))
        if revoked is not NOT_SAVED:
            flash(f"Revoked {revoked} token{'s' if revoked != 1 else ''}.", "success")
    return redirect(url_for("account.tokens"))


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
    if not account_data.has_password(current_user):
        form.password.label.text = "Your username"
        form.password.description = ("You sign in with your company account, so type your username "
                                     f"({current_user.username}) to confirm.")
    return render_template("users/settings_delete.html", form=form, section="delete"), form_status(form)
