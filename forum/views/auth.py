"""Register, sign in, sign out."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user

from ..forms import ActionForm, LoginForm, RegisterForm
from ..models import User
from ..models.base import utcnow
from ..ratelimit import form_page, limited
from ..services import accounts, deflection, devices, sso, throttle, verification
from ..services.moderation import suspension_message
from .formglue import NOT_SAVED, form_status, save, writes
from .redirects import next_from_request

bp = Blueprint("auth", __name__)


def start_session(user: User, remember: bool) -> None:
    """Sign ``user`` in on this browser: a fresh session and a new signed-in device row
    (services/devices.py), whose key the session and remember-me cookies carry. Call it from a
    @writes view (the row commits with it), also to stay signed in after ``end_sessions``."""
    # A fresh session at sign-in: nothing planted before login (fixation) survives it.
    visitor = deflection.current_visitor()  # random, grants nothing: a question asked next still cancels
    session.clear()
    deflection.keep_visitor(visitor)
    devices.start(user, request.headers.get("User-Agent", ""), request.remote_addr)
    login_user(user, remember=remember)


@bp.route("/register", methods=["GET", "POST"])
@writes
@limited("register", methods=["POST"], page=form_page("auth/register.html", RegisterForm))
def register() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(next_from_request(url_for("main.index")))
    if sso.sso_only():  # members' accounts come from the provider: the first sign-in creates one
        return redirect(url_for("sso.login", next=request.args.get("next")))
    form = RegisterForm()
    if form.validate_on_submit():
        address = save(form, lambda: verification.sign_up(
            accounts.Registration(form.username.data, form.email.data, form.password.data)))
        if address is not NOT_SAVED:
            # The same answer, and no sign-in, whether the address was free or already had an
            # account (whose owner is mailed instead): nobody learns who is registered.
            flash(f"Almost done: we've sent a link to {address} to confirm it. "
                  "Sign in meanwhile to ask and answer.", "success")
            return redirect(url_for("auth.login", next=request.args.get("next")))
    elif form.is_submitted():
        verification.spend_sign_up_time(form.password.data or "")  # a refused form hashes too
    return render_template("auth/register.html", form=form), form_status(form)


@bp.route("/login", methods=["GET", "POST"])
@writes
@limited("login", methods=["POST"], page=form_page("auth/login.html", LoginForm))
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(next_from_request(url_for("main.index")))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = throttle.sign_in(form.login.data, form.password.data, request.remote_addr,
                                    request.cookies.get(throttle.DEVICE_COOKIE))
        except throttle.LoginThrottled as exc:
            # The form again, with the typed name kept, and when to come back.
            form.form_errors.append(exc.message)
            form.password.data = ""
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(exc.retry_after)}
        if user is None:
            # One message for unknown accounts and wrong passwords alike.
            form.form_errors.append("That username/e-mail and password don't match an account.")
        elif sso.sso_only() and not user.is_staff:
            # Only staff keep a password sign-in (break-glass) when members sign in through the provider.
            form.form_errors.append(f"Members sign in with the button above: {sso.button_label()}.")
        elif user.is_suspended(utcnow()):
            # Only someone who knows the password learns of the suspension and its reason.
            form.form_errors.append(suspension_message(user))
        else:  # @writes commits a re-hashed password, if the parameters changed
            start_session(user, remember=bool(form.remember.data))
            response = redirect(next_from_request(url_for("main.index")))
            throttle.remember_device(response, user)  # this browser is not locked out by others' guesses
            return response
    form.password.data = ""
    return render_template("auth/login.html", form=form), form_status(form)


@bp.route("/logout", methods=["POST"])
@login_required
@writes
def logout() -> ResponseReturnValue:
    form = ActionForm()
    if not form.validate_on_submit():
        return redirect(url_for("main.index"))
    # This browser only: other devices stay signed in (ended from /settings/sessions).
    devices.end_current(current_user._get_current_object())
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("main.index"))
