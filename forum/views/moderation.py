"""Flagging posts, the moderation queue, the review queue, people, watched words and the log.

Members: flag a post (``/flag/<post_type>/<id>``) and follow their flags (``/flags/mine``).
Moderators and admins (rule "moderate"): everything under ``/moderation``; staff (agents
too) may read the log. Each POST validates its form and makes one service call, which checks
the rule; ``@writes`` commits once. A POST whose rejected form shows a moderators' page again
(the queue, a profile's tools) checks the rule itself first, so nobody else ever sees it.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..forms import ActionForm
from ..forms.moderation import FlagActionForm, FlagForm, NoteForm, ReasonForm, RestrictForm, WatchedWordForm
from ..models import User
from ..services import accounts, safety
from ..services import flags as flag_svc
from ..services import moderation as svc
from ..services.errors import PermissionDenied
from ..services.pagination import clamp_page
from ..services.permissions import require
from ..templating import post_url
from .formglue import NOT_SAVED, fields_on, flashed, form_messages, form_status, has_errors, save, writes
from .redirects import next_from_request
from .users import render_profile

bp = Blueprint("moderation", __name__)

POST_TYPE = "any(question,answer,comment)"


def _back(default: str) -> Any:
    return redirect(next_from_request(default))


# ---------------------------------------------------------------- members: flags


@bp.route(f"/flag/<{POST_TYPE}:post_type>/<int:post_id>", methods=["GET", "POST"])
@login_required
@writes
def flag(post_type: str, post_id: int) -> ResponseReturnValue:
    post = flag_svc.get_flaggable(current_user, post_type, post_id)
    ref = flag_svc.PostRef(post_type, post, flag_svc.question_of(post))
    if post.author_id == current_user.id:
        raise PermissionDenied("You can't flag your own post.")
    require(current_user, "flag", post, "You can't flag this post.")
    form = FlagForm()
    if form.validate_on_submit():
        # Flagged now or already (AlreadyFlagged, flashed): back to the post. A bad field: the form again.
        flagged = save(form, lambda: flag_svc.flag_post(current_user, post_type, post.id, form.reason.data,
                                                        form.note.data or ""), refused=fields_on(form))
        if flagged is not NOT_SAVED:
            flash("Thanks for the flag. A moderator will review it; follow it under My flags.", "success")
        if not has_errors(form):
            return redirect(post_url(ref) or url_for("moderation.my_flags"))
    return render_template("moderation/flag.html", form=form, ref=ref), form_status(form)


@bp.route("/flags/mine")
@login_required
def my_flags() -> ResponseReturnValue:
    page, rows = flag_svc.my_flags(current_user, clamp_page(request.args.get("page")))
    return render_template("moderation/my_flags.html", page=page, rows=rows)


# ---------------------------------------------------------------- moderators: queue


def _render_queue(errors: dict[str, str] | None = None, typed: dict[str, dict[str, Any]] | None = None,
                  status: int = 200) -> tuple[str, int]:
    groups = flag_svc.pending_groups(clamp_page(request.args.get("page")))
    review = svc.review_queue(clamp_page(request.args.get("rpage")))
    return render_template("moderation/queue.html", groups=groups, review=review, errors=errors or {},
                           typed=typed or {}, action_form=ActionForm()), status


@bp.route("/moderation")
@login_required
def queue() -> ResponseReturnValue:
    require(current_user, "moderate")
    return _render_queue()


@bp.route(f"/moderation/flags/<{POST_TYPE}:post_type>/<int:post_id>/<any(dismiss,hide,delete,warn,suspend):action>",
          methods=["POST"])
@login_required
@writes
def flag_action(post_type: str, post_id: int, action: str) -> ResponseReturnValue:
    require(current_user, "moderate")
    form = FlagActionForm()
    key = f"{post_type}-{post_id}"
    if form.validate_on_submit():
        n = save(form, lambda: svc.act_on_flags(current_user, post_type, post_id, action, reason=form.reason.data or "",
                                                days=form.days.data), refused=fields_on(form))
        if n is not NOT_SAVED:
            flash(f"Done: {svc.OUTCOMES[action]} ({n} flag{'s' if n != 1 else ''} resolved.)", "success")
        if not has_errors(form):
            return _back(url_for("moderation.queue"))
    message = form_messages(form) or "Please check the form."
    return _render_queue({key: message}, {key: {"reason": form.reason.data or "", "days": request.form.get("days", "")}},
                         status=400)


@bp.route(f"/moderation/review/<{POST_TYPE}:post_type>/<int:post_id>/<any(approve,reject):decision>",
          methods=["POST"])
@login_required
@writes
def review(post_type: str, post_id: int, decision: str) -> ResponseReturnValue:
    require(current_user, "moderate")
    form = ReasonForm()
    if not form.validate_on_submit():
        return _render_queue({f"review-{post_type}-{post_id}": "Keep the reason under 500 characters."}, status=400)
    if decision == "approve":
        decided = save(None, lambda: svc.approve_post(current_user, post_type, post_id), refused=flashed("info"))
    else:
        decided = save(None, lambda: svc.reject_post(current_user, post_type, post_id, form.reason.data or ""),
                       refused=flashed("info"))
    if decided is not NOT_SAVED:
        flash("Published." if decision == "approve" else "Rejected: the post stays hidden.", "success")
    return _back(url_for("moderation.queue"))


@bp.route(f"/moderation/posts/<{POST_TYPE}:post_type>/<int:post_id>/<any(unhide,restore):undo>", methods=["POST"])
@login_required
@writes
def undo_post(post_type: str, post_id: int, undo: str) -> ResponseReturnValue:
    form = ReasonForm()
    if not form.validate_on_submit():
        flash("Keep the reason under 500 characters.", "error")
        return _back(url_for("moderation.log"))
    action = svc.unhide if undo == "unhide" else svc.restore
    if save(None, lambda: action(current_user, post_type, post_id, form.reason.data or ""),
            refused=flashed("info")) is not NOT_SAVED:
        flash("The post is visible again." if undo == "unhide" else "The post is restored.", "success")
    return _back(url_for("moderation.log"))


# ---------------------------------------------------------------- watched words


@bp.route("/moderation/words", methods=["GET", "POST"])
@login_required
@writes
def words() -> ResponseReturnValue:
    require(current_user, "manage_watched_words")
    form = WatchedWordForm()
    if form.validate_on_submit():
        word = save(form, lambda: safety.add_watched_word(current_user, form.phrase.data, form.action.data))
        if word is not NOT_SAVED:
            flash(f"“{word.phrase}” now means: {word.action}.", "success")
            return redirect(url_for("moderation.words"))
    return render_template("moderation/words.html", form=form, words=safety.list_watched_words(current_user),
                           action_form=ActionForm()), form_status(form)


@bp.route("/moderation/words/<int:word_id>/delete", methods=["POST"])
@login_required
@writes
def remove_word(word_id: int) -> ResponseReturnValue:
    form = ActionForm()
    if not form.validate_on_submit():
        return redirect(url_for("moderation.words"))
    safety.remove_watched_word(current_user, word_id)
    flash("Removed from the watched words.", "success")
    return redirect(url_for("moderation.words"))


# ---------------------------------------------------------------- the log


@bp.route("/moderation/log")
@login_required
def log() -> ResponseReturnValue:
    require(current_user, "view_moderation_log")
    target_type = request.args.get("target_type") or None
    try:
        target_id = int(request.args["target_id"]) if request.args.get("target_id") else None
    except ValueError:
        target_id = None
    result = svc.log_page(current_user, clamp_page(request.args.get("page")), target_type, target_id)
    return render_template("moderation/log.html", log=result, target_type=target_type if target_id or target_type else None,
                           target_id=target_id, target_types=svc.LOG_TARGET_TYPES, action_form=ActionForm())


# ---------------------------------------------------------------- people


def _profile(user: User) -> str:
    return url_for("users.profile", user_id=user.id, _anchor="moderator-tools")


def _render_profile_with(user: User, forms: dict[str, Any]) -> tuple[str, int]:
    return render_profile(user.id, mod_forms=forms), 400


@bp.route("/moderation/users/<int:user_id>/<any(suspend,silence):mode>", methods=["POST"])
@login_required
@writes
def restrict(user_id: int, mode: str) -> ResponseReturnValue:
    require(current_user, "moderate")
    user = accounts.get_user(user_id)
    require(current_user, "suspend", user, "Staff accounts can't be suspended or silenced.")
    form = RestrictForm(prefix=mode)
    action = svc.suspend_user if mode == "suspend" else svc.silence_user
    if form.validate_on_submit():
        if save(form, lambda: action(current_user, user, form.days.data, form.reason.data)) is not NOT_SAVED:
            until = user.suspended_until if mode == "suspend" else user.silenced_until
            assert until is not None  # the service just set it
            flash(f"{user.username} is {'suspended' if mode == 'suspend' else 'silenced'} until "
                  f"{svc.format_until(until)}.", "success")
            return redirect(_profile(user))
    return _render_profile_with(user, {mode: form})


@bp.route("/moderation/users/<int:user_id>/<any(unsuspend,unsilence):mode>", methods=["POST"])
@login_required
@writes
def lift(user_id: int, mode: str) -> ResponseReturnValue:
    user = accounts.get_user(user_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return redirect(_profile(user))
    action = svc.unsuspend_user if mode == "unsuspend" else svc.unsilence_user
    if save(None, lambda: action(current_user, user, form.reason.data or ""), refused=flashed("info")) is not NOT_SAVED:
        flash(f"{user.username} can {'sign in' if mode == 'unsuspend' else 'post'} again.", "success")
    return redirect(_profile(user))


@bp.route("/moderation/users/<int:user_id>/<any(notes,warn):what>", methods=["POST"])
@login_required
@writes
def note(user_id: int, what: str) -> ResponseReturnValue:
    require(current_user, "note_user")
    user = accounts.get_user(user_id)
    if what == "notes":
        form: Any = NoteForm(prefix="note")
    else:
        form = ReasonForm(prefix="warn")
    if form.validate_on_submit():
        if what == "notes":
            noted = save(form, lambda: svc.add_note(current_user, user, form.body.data))
        else:
            noted = save(form, lambda: svc.warn_user(current_user, user, form.reason.data or ""))
        if noted is not NOT_SAVED:
            flash("Note saved." if what == "notes" else f"Warning recorded for {user.username}.", "success")
            return redirect(_profile(user))
    return _render_profile_with(user, {what: form})

