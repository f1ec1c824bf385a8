"""Profiles, the members leaderboard and account settings."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..charts import line_chart
from ..forms import EmailForm, PasswordForm, ProfileForm
from ..services import accounts, profiles, verification
from ..services.mail_throttle import MailThrottled
from ..services.pages import profile_page
from ..services.pagination import clamp_page
from .auth import start_session
from .formglue import NOT_SAVED, form_status, save, writes

bp = Blueprint("users", __name__)


@bp.route("/users")
def index() -> ResponseReturnValue:
    board = profiles.leaderboard(request.args.get("period", "week"), clamp_page(request.args.get("page")),
                                 request.args.get("q", ""))
    return render_template("users/index.html", board=board, periods=profiles.PERIODS)


@bp.route("/users/<int:user_id>")
@bp.route("/users/<int:user_id>/<slug>")
def profile(user_id: int, slug: str | None = None) -> ResponseReturnValue:
    return render_profile(user_id, request.args.get("tab", "answers"), clamp_page(request.args.get("page")))


def render_profile(user_id: int, tab: str = "answers", page: int = 1, **context: Any) -> str:
    """The profile page; the moderation views re-render it with their forms' errors in ``context``."""
    data = profile_page(user_id, tab, page, current_user)
    info = data.profile
    chart = line_chart(info.history.days, info.history.totals)
    return render_template("users/show.html", user=info.user, profile=info, page=info.page, chart=chart,
                           user_badges=data.badges, moderator_tools=data.moderator_tools, reach=info.stats.reach,
                           **context)


@bp.route("/settings", methods=["GET"])
@login_required
def settings() -> ResponseReturnValue:
    return redirect(url_for("users.edit_profile"))


@bp.route("/settings/profile", methods=["GET", "POST"])
@login_required
@writes
def edit_profile() -> ResponseReturnValue:
    form = ProfileForm(obj=current_user if request.method == "GET" else None)
    if form.validate_on_submit():
        if save(form, lambda: accounts.update_profile(current_user, form.display_name.data or "",
                                                      form.bio.data or "")) is not NOT_SAVED:
            flash("Profile saved.", "success")
            return redirect(url_for("users.profile", user_id=current_user.id))
    return render_template("users/settings_profile.html", form=form, section="profile"), form_status(form)


@bp.route("/settings/password", methods=["GET", "POST"])
@login_required
@writes
def change_password() -> ResponseReturnValue:
    form = PasswordForm()
    if form.validate_on_submit():
        if save(form, lambda: accounts.change_password(current_user, form.current_password.data,
                                                       form.new_password.data)) is not NOT_SAVED:
            # Every other session is now invalid; keep this one signed in with the new token.
            start_session(current_user._get_current_object(), remember=False)
            flash("Password changed. Other devices have been signed out.", "success")
            return redirect(url_for("users.change_password"))
    return render_template("users/settings_password.html", form=form, section="password"), form_status(form)


@bp.route("/settings/email", methods=["GET", "POST"])
@login_required
@writes
def change_email() -> ResponseReturnValue:
    form = EmailForm()
    if form.validate_on_submit():
        try:
            address = save(form, lambda: verification.request_email_change(current_user, form.password.data,
                                                                         form.email.data))
        except MailThrottled as exc:
            form.form_errors.append(exc.message)
            return render_template("users/settings_email.html", form=form, section="email"), 429, {
                "Retry-After": str(exc.retry_after)}
        if address is not NOT_SAVED:
            # Nothing changes until the new address is confirmed (services/verification.py).
            flash(f"We've sent a link to {address}. Your address changes when you follow it; "
                  f"until then we keep writing to {current_user.email}.", "success")
            return redirect(url_for("users.change_email"))
    return render_template("users/settings_email.html", form=form, section="email"), form_status(form)
