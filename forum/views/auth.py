"""Register, sign in, sign out."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db
from ..forms import ActionForm, LoginForm, RegisterForm
from ..models.base import utcnow
from ..services import accounts
from ..services.errors import FieldError
from ..services.moderation import suspension_message
from .formglue import form_status, show_field_error
from .redirects import next_from_request

bp = Blueprint("auth", __name__)


def _start_session(user: accounts.User, remember: bool) -> None:
    # A fresh session at sign-in: nothing planted before login (fixation) survives it.
    session.clear()
    login_user(user, remember=remember)


@bp.route("/register", methods=["GET", "POST"])
def register():  # noqa: ANN201
    if current_user.is_authenticated:
        return redirect(next_from_request(url_for("main.index")))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.register(accounts.Registration(form.username.data, form.email.data, form.password.data))
        except FieldError as exc:
            db.session.rollback()
            show_field_error(form, exc)
        else:
            db.session.commit()
            _start_session(user, remember=False)
            flash(f"Welcome, {user.username}! Your account is ready.", "success")
            return redirect(next_from_request(url_for("main.index")))
    return render_template("auth/register.html", form=form), form_status(form)


@bp.route("/login", methods=["GET", "POST"])
def login():  # noqa: ANN201
    if current_user.is_authenticated:
        return redirect(next_from_request(url_for("main.index")))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.login.data, form.password.data)
        if user is None:
            # One message for unknown accounts and wrong passwords alike.
            form.form_errors.append("That username/e-mail and password don't match an account.")
        elif user.is_suspended(utcnow()):
            # Only someone who knows the password learns of the suspension and its reason.
            form.form_errors.append(suspension_message(user))
        else:
            db.session.commit()  # a re-hashed password, if the parameters changed
            _start_session(user, remember=bool(form.remember.data))
            return redirect(next_from_request(url_for("main.index")))
    form.password.data = ""
    return render_template("auth/login.html", form=form), form_status(form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():  # noqa: ANN201
    form = ActionForm()
    if not form.validate_on_submit():
        return redirect(url_for("main.index"))
    accounts.end_sessions(current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("main.index"))
