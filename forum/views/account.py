"""Forgotten passwords, confirming e-mail addresses, and staff vouching for one.

Links in mails open a page with one button (GET changes nothing: mail scanners follow links);
the button's POST uses the link. Throttled requests (429) show the form again with what was
typed and a ``Retry-After`` header.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..forms import ActionForm, EmailForm
from ..forms.account import ForgotPasswordForm, ResetPasswordForm
from ..services import accounts, password_reset, verification
from ..services.account_mail import BadLink
from ..services.mail_throttle import MailThrottled
from .formglue import NOT_SAVED, flashed, form_status, save, writes

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
