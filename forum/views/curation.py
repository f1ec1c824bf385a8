"""Staff curation actions on threads, and the crisis announcements."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..extensions import csrf
from ..forms.curation import AnnouncementForm, CloseForm
from ..models import Question
from ..services import announcements as ann
from ..services import curation as svc
from ..services.answers import get_answer
from ..services.permissions import require
from ..services.questions import get_question
from .formglue import NOT_SAVED, flashed, form_status, save, show_error, writes
from .questions import question_url
from .redirects import safe_next

bp = Blueprint("curation", __name__)


def _back_to(question: Question, anchor: str | None = None) -> Response:
    return redirect(question_url(question, _anchor=anchor))


@bp.route("/answers/<int:answer_id>/accept", methods=["POST"])
@login_required
@writes
def accept(answer_id: int) -> ResponseReturnValue:
    answer = get_answer(answer_id, current_user)
    svc.accept_answer(current_user, answer)
    flash("Answer accepted. It now shows first, and the question is marked solved.", "success")
    return _back_to(answer.question, f"answer-{answer.id}")


@bp.route("/questions/<int:question_id>/unaccept", methods=["POST"])
@login_required
@writes
def unaccept(question_id: int) -> ResponseReturnValue:
    question = get_question(question_id, current_user)
    if save(None, lambda: svc.unaccept_answer(current_user, question), refused=flashed("info")) is not NOT_SAVED:
        flash("Acceptance withdrawn.", "info")
    return _back_to(question)


@bp.route("/answers/<int:answer_id>/official", methods=["POST"])
@login_required
@writes
def official(answer_id: int) -> ResponseReturnValue:
    answer = get_answer(answer_id, current_user)
    svc.set_official(current_user, answer, request.form.get("official") == "1")
    return _back_to(answer.question, f"answer-{answer.id}")


@bp.route("/questions/<int:question_id>/close", methods=["GET", "POST"])
@login_required
@writes
def close(question_id: int) -> ResponseReturnValue:
    question = get_question(question_id, current_user)
    require(current_user, "close", question)
    form = CloseForm()
    if form.validate_on_submit() and save(form, lambda: svc.close_by_ref(
            current_user, question, form.reason.data, note=form.note.data or "",
            duplicate_ref=form.duplicate_of.data or "")) is not NOT_SAVED:
        flash("Question closed.", "info")
        return _back_to(question)
    return render_template("curation/close.html", form=form, question=question), form_status(form)


@bp.route("/questions/<int:question_id>/reopen", methods=["POST"])
@login_required
@writes
def reopen(question_id: int) -> ResponseReturnValue:
    question = get_question(question_id, current_user)
    svc.reopen_question(current_user, question)
    flash("Question reopened.", "success")
    return _back_to(question)


@bp.route("/questions/<int:question_id>/<any(lock, unlock):action>", methods=["POST"])
@login_required
@writes
def lock(question_id: int, action: str) -> ResponseReturnValue:
    question = get_question(question_id, current_user)
    # The reason box has maxlength; a longer one (no browser check) is refused with a flash.
    if save(None, lambda: svc.set_locked(current_user, question, action == "lock", request.form.get("reason", "")),
            refused=flashed("error")) is not NOT_SAVED:
        flash("Thread locked: no new answers, comments or edits." if action == "lock" else "Thread unlocked.", "info")
    return _back_to(question)


@bp.route("/questions/<int:question_id>/<any(pin, unpin):action>", methods=["POST"])
@login_required
@writes
def pin(question_id: int, action: str) -> ResponseReturnValue:
    question = get_question(question_id, current_user)
    svc.set_pinned(current_user, question, action == "pin")
    flash("Pinned to the top of the home page and its tags." if action == "pin" else "Unpinned.", "info")
    return _back_to(question)


@bp.route("/announcements", methods=["GET", "POST"])
@login_required
@writes
def announcements() -> ResponseReturnValue:
    require(current_user, "announce")
    form = AnnouncementForm()
    # find_question_ref names the field it checks "duplicate_of"; here it is the incident.
    if form.validate_on_submit() and save(form, lambda: _announce(form), refused=lambda exc: show_error(
            form, exc, rename={"duplicate_of": "incident"})) is not NOT_SAVED:
        flash("Announcement is live on every page.", "success")
        return redirect(url_for("curation.announcements"))
    return render_template("curation/announcements.html", form=form, items=ann.recent(),
                           active_ids={a.id for a in ann.active()}), form_status(form)


def _announce(form: AnnouncementForm) -> None:
    incident = svc.find_question_ref(form.incident.data) if (form.incident.data or "").strip() else None
    ann.create_announcement(current_user, form.message.data, form.severity.data, incident=incident,
                            starts_at=form.starts_at.data, ends_at=form.ends_at.data)


@bp.route("/announcements/<int:announcement_id>/end", methods=["POST"])
@login_required
@writes
def end_announcement(announcement_id: int) -> ResponseReturnValue:
    ann.end_announcement(current_user, ann.get_announcement(announcement_id))
    flash("Announcement ended.", "info")
    return redirect(url_for("curation.announcements"))


@bp.route("/announcements/<int:announcement_id>/dismiss", methods=["POST"])
@csrf.exempt
@writes
def dismiss_announcement(announcement_id: int) -> ResponseReturnValue:
    """Hide a banner for this visitor.

    Raises CSRFError for a signed-in member without a valid token. Anonymous visitors need
    none: their banners come on pages shared through the page cache, which carry no
    per-session token, and all a forged request could do is hide a banner in that browser.
    """
    if current_user.is_authenticated:
        csrf.protect()
    item = ann.get_announcement(announcement_id)
    if current_user.is_authenticated:
        ann.dismiss(current_user, item)
    else:
        # Anonymous visitors: remembered in their session cookie.
        session["dismissed"] = sorted({*session.get("dismissed", []), item.id})[-20:]
    return redirect(safe_next(request.form.get("next"), url_for("main.index")))

