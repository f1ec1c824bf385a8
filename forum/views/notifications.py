"""The bell, the notification list, notification settings, following and one-click unsubscribe."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from .. import mail
from ..extensions import csrf
from ..forms.notifications import NotificationSettingsForm
from ..services import following as follow_svc
from ..services import notifications as svc
from ..services.pagination import clamp_page
from ..services.permissions import require
from ..services.questions import get_question, get_tag, slugify
from ..templating import unread_notifications
from .formglue import form_status, writes
from .redirects import safe_next

bp = Blueprint("notifications", __name__)


def mark_seen(target: str) -> None:
    """A signed-in member is viewing ``target`` (a thread, case or article): their unread
    notifications about it are read now. Costs nothing when the bell (read once per request,
    so no extra query) shows none unread, else one UPDATE; the bell then shows what is left.
    A failure is logged and the page still shows: being marked read is a convenience."""
    if not current_user.is_authenticated:
        return
    unread = unread_notifications()
    try:
        n = svc.read_target(current_user, target, unread)
    except Exception:  # the page must not fail for it
        current_app.logger.warning("could not mark notifications about %s read", target, exc_info=True)
        return
    if n:
        g.unread_notifications = max(unread - n, 0)


@bp.route("/notifications")
@login_required
def index() -> ResponseReturnValue:
    page = svc.inbox(current_user, clamp_page(request.args.get("page")))
    # The bell's count, shared with the layout (one query per request).
    return render_template("notifications/index.html", page=page, unread=unread_notifications())


@bp.route("/notifications/read", methods=["POST"])
@login_required
@writes
def read_all() -> ResponseReturnValue:
    n = svc.mark_all_read(current_user)
    flash(f"Marked {n} notification{'s' if n != 1 else ''} read.", "info")
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/<int:notification_id>/open", methods=["POST"])
@login_required
@writes
def open_item(notification_id: int) -> ResponseReturnValue:
    url = svc.open_notification(current_user, notification_id)
    return redirect(safe_next(url, url_for("notifications.index")))


@bp.route("/settings/notifications", methods=["GET", "POST"])
@login_required
@writes
def settings() -> ResponseReturnValue:
    prefs = svc.preferences(current_user)
    form = NotificationSettingsForm()
    if request.method == "GET":
        form.digest.data = prefs.digest
        form.helped_monthly.data = prefs.helped_monthly
        form.weekly_report.data = prefs.weekly_report
    if form.validate_on_submit():
        svc.save_preferences(current_user, form.in_app.data or [], form.email.data or [], bool(form.digest.data),
                             bool(form.helped_monthly.data), bool(form.weekly_report.data))
        flash("Notification settings saved.", "success")
        return redirect(url_for("notifications.settings"))
    return render_template("notifications/settings.html", form=form, prefs=prefs, section="notifications",
                           follows=follow_svc.following(current_user)), form_status(form)


@bp.route("/unsubscribe/<token>", methods=["GET"])
def unsubscribe_page(token: str) -> ResponseReturnValue:
    # No state change on GET: mail scanners follow links. The page has one button.
    found = svc.read_unsubscribe(token)
    return render_template("notifications/unsubscribe.html", found=found, token=token, done=False)


@bp.route("/unsubscribe/<token>", methods=["POST"])
@csrf.exempt  # RFC 8058 one-click: the mail client posts without a session; the signed token is the proof
@writes
def unsubscribe(token: str) -> ResponseReturnValue:
    found = svc.unsubscribe(token)
    return render_template("notifications/unsubscribe.html", found=found, token=token, done=True)


@bp.route("/questions/<int:question_id>/follow", methods=["POST"], defaults={"action": "follow"})
@bp.route("/questions/<int:question_id>/unfollow", methods=["POST"], defaults={"action": "unfollow"})
@login_required
@writes
def follow_question(question_id: int, action: str) -> ResponseReturnValue:
    question = get_question(question_id, current_user)
    if action == "unfollow":
        follow_svc.unfollow_question(current_user, question)
        message = "You no longer follow this question."
    else:
        follow_svc.follow_question(current_user, question)
        message = "You follow this question: new answers and comments appear under the bell."
    flash(message, "success")
    return redirect(safe_next(request.form.get("next"),
                              url_for("questions.show", question_id=question.id, slug=slugify(question.title))))


@bp.route("/tags/<name>/follow", methods=["POST"], defaults={"action": "follow"})
@bp.route("/tags/<name>/unfollow", methods=["POST"], defaults={"action": "unfollow"})
@login_required
@writes
def follow_tag(name: str, action: str) -> ResponseReturnValue:
    tag = get_tag(name)
    if action == "unfollow":
        follow_svc.unfollow_tag(current_user, tag)
        message = f"You no longer follow {tag.name}."
    else:
        follow_svc.follow_tag(current_user, tag)
        message = f"You follow {tag.name}: new unanswered questions come in your daily digest."
    flash(message, "success")
    return redirect(safe_next(request.form.get("next"), url_for("questions.tag", name=tag.name)))



@bp.route("/admin/mail", methods=["GET"])
@login_required
def outbox() -> ResponseReturnValue:
    require(current_user, "manage_mail")
    return render_template("notifications/outbox.html", report=mail.status())


@bp.route("/admin/mail/requeue", methods=["POST"])
@login_required
@writes
def requeue() -> ResponseReturnValue:
    require(current_user, "manage_mail")
    n = mail.requeue_failed()
    flash(f"{n} failed mail{'s' if n != 1 else ''} will be retried by the next sweep.", "success")
    return redirect(url_for("notifications.outbox"))
