"""Question lists, asking, reading, editing, history; tags; Markdown preview."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..forms import AnswerForm, CommentForm, QuestionForm, TagWikiForm
from ..forms.support import triage_form_for
from ..models import Draft, Question
from ..pagecache import private_hit
from ..ratelimit import limited
from ..search_index import SearchUnavailable
from ..services import drafts, editing, suggestions
from ..services import links as links_svc
from ..services import questions as svc
from ..services import search as search_svc
from ..services import tags as tags_svc
from ..services.announcements import active as active_announcements
from ..services.errors import RateLimited
from ..services.membership import held_message, links_held, may_be_held
from ..services.pages import tag_page
from ..services.pagination import clamp_page
from ..services.permissions import require
from ..services.posts import revisions_of
from ..services.threads import thread_page
from ..templating import question_url
from .drafts import posted
from .formglue import NOT_SAVED, check_rest, editor_preview, form_status, save, too_fast, writes
from .history import revision_diffs
from .notifications import mark_seen
from .support import composer_form

bp = Blueprint("questions", __name__)

SUGGESTED = "Thanks! Your suggested edit is waiting for review; follow it under My suggested edits."


@bp.route("/questions")
def index() -> ResponseReturnValue:
    tab = request.args.get("tab", "newest")
    if tab not in svc.TABS:
        tab = "newest"
    page = svc.list_questions(tab, clamp_page(request.args.get("page")))
    return render_template("questions/index.html", page=page, tab=tab, tabs=svc.TABS)


@bp.route("/questions/ask", methods=["GET", "POST"])
@login_required
@writes
def ask() -> ResponseReturnValue:
    form = QuestionForm()
    draft = drafts.draft_for(current_user, "ask")
    if request.method == "GET":
        if draft is not None:  # the question they were typing, without JavaScript too
            form.title.data, form.body.data, form.tags.data = draft.title, draft.body, draft.tags
        if request.args.get("title") and not form.title.data:
            form.title.data = request.args["title"][:current_app.config["TITLE_MAX_LENGTH"]]
    if form.validate_on_submit():
        try:
            question = save(form, lambda: svc.ask_question(
                current_user, svc.QuestionInput(form.title.data, form.body.data, form.tags.data)))
        except RateLimited as exc:  # posting too fast: the question typed comes back with the wait
            return too_fast(form, exc, lambda: _ask_page(form, draft))
        if question is not NOT_SAVED:
            posted("ask")
            if question.awaits_review:
                flash(held_message("question"), "warning")
            else:
                flash("Your question is posted. You'll see answers here.", "success")
            return redirect(question_url(question))
    else:
        check_rest(form, lambda: svc.check_question_input(
            svc.QuestionInput(form.title.data or "", form.body.data or "", form.tags.data or ""), creator=current_user))
    return _ask_page(form, draft), form_status(form)


def _ask_page(form: QuestionForm, draft: Draft | None) -> str:
    """The ask page. Text already in the form (a draft, ``?title=``, a rejected post) comes with
    what the scripts draw for it: its similar questions, its preview and the note on new tags.
    Drawn after the load, each would push the "Post your question" button down under a quick click."""
    title = (form.title.data or "").strip()
    try:
        similar = search_svc.similar_questions(current_user, title, with_articles=True) if title else []
    except SearchUnavailable:  # the script asks again; the page itself must not fail for it
        similar = []
    return render_template("questions/ask.html", form=form, announcements=active_announcements(),
                           links_held=links_held(current_user), draft=draft, similar=similar, similar_for=title,
                           body_preview=editor_preview(form.body.data), new_tags=svc.typed_new_tags(form.tags.data))


@bp.route("/questions/<int:question_id>")
@bp.route("/questions/<int:question_id>/<slug>")
def show(question_id: int, slug: str | None = None) -> ResponseReturnValue:
    # A signed-in member's own copy, if nothing it showed has changed (forum/pagecache). Here, in
    # the view, so every before-request hook and the session checks have run first.
    kept = private_hit()
    if kept is not None:
        return kept
    question = svc.get_question(question_id, current_user)
    canonical = svc.slugify(question.title)
    if slug != canonical:
        query = request.query_string.decode()
        target = url_for("questions.show", question_id=question.id, slug=canonical)
        return redirect(f"{target}?{query}" if query else target, code=301)
    mark_seen(f"question:{question.id}")
    return render_thread(question)


def render_thread(question: Question, answer_form: AnswerForm | None = None, status: int = 200,
                  comment_forms: dict[str, CommentForm] | None = None) -> tuple[str, int]:
    """Render the question page; also used to redisplay a rejected answer or comment."""
    thread = thread_page(question.id, current_user)
    panel = thread.staff_panel
    # Building a form puts a CSRF token in the visitor's session. Anonymous visitors may not
    # post here, and their page is shared through the page cache (forum/pagecache/): no forms.
    signed_in = current_user.is_authenticated
    if answer_form is None and signed_in:
        answer_form = composer_form(question)
        draft = thread.drafts.get(f"answer:{question.id}")
        if draft is not None and not answer_form.body.data:  # the answer they were typing
            answer_form.body.data = draft.body
    return render_template(
        "questions/show.html",
        # The user object itself rather than Flask-Login's proxy: the page asks about the viewer
        # a few hundred times (permission checks), and each look-up through the proxy costs.
        current_user=current_user._get_current_object(),
        thread=thread,
        question=thread.question,
        answer_form=answer_form,
        answer_preview=editor_preview(answer_form.body.data) if answer_form is not None else "",
        comment_forms=comment_forms or {},
        triage_form=triage_form_for(panel.triage) if panel else None,
        may_be_held=signed_in and may_be_held(current_user),
    ), status


@bp.route("/questions/<int:question_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(question_id: int) -> ResponseReturnValue:
    question = svc.get_question(question_id, current_user)
    mode = editing.edit_mode(current_user, question)
    form = QuestionForm(obj=question if request.method == "GET" else None)
    if request.method == "GET":
        form.tags.data = " ".join(t.name for t in question.tags)
    if form.validate_on_submit():
        data = svc.QuestionInput(form.title.data, form.body.data, form.tags.data)
        outcome = save(form, lambda: editing.edit_or_suggest(current_user, question, data, form.summary.data or ""))
        if outcome is not NOT_SAVED:
            flash(SUGGESTED if outcome.suggested else "Your edit is saved.", "success")
            return redirect(question_url(question))
    else:
        check_rest(form, lambda: svc.check_question_input(
            svc.QuestionInput(form.title.data or "", form.body.data or "", form.tags.data or ""), creator=current_user))
    return render_template("questions/edit.html", form=form, question=question,
                           body_preview=editor_preview(form.body.data), new_tags=svc.typed_new_tags(form.tags.data),
                           suggest=mode is editing.EditMode.SUGGEST,
                           pending=suggestions.pending_for(question) if mode is editing.EditMode.SUGGEST else None),\
                           form_status(form)


@bp.route("/questions/<int:question_id>/delete", methods=["POST"])
@login_required
@writes
def delete(question_id: int) -> ResponseReturnValue:
    question = svc.get_question(question_id, current_user)
    svc.delete_question(current_user, question)
    flash("The question is deleted. Only you and staff can still see it; you can restore it.", "info")
    return redirect(question_url(question))


@bp.route("/questions/<int:question_id>/restore", methods=["POST"])
@login_required
@writes
def restore(question_id: int) -> ResponseReturnValue:
    question = svc.get_question(question_id, current_user)
    svc.restore_question(current_user, question)
    flash("The question is restored.", "success")
    return redirect(question_url(question))


@bp.route("/questions/<int:question_id>/history")
def history(question_id: int) -> ResponseReturnValue:
    question = svc.get_question(question_id, current_user)
    revisions = revisions_of(question)
    return render_template("questions/history.html", post=question, question=question,
                           diffs=revision_diffs(revisions, with_title=True))


@bp.route("/tags")
def tags() -> ResponseReturnValue:
    sort = request.args.get("sort", "popular")
    sort = sort if sort in svc.TAG_SORTS else "popular"
    page = svc.list_tags(clamp_page(request.args.get("page")), sort)
    return render_template("questions/tags.html", page=page, sort=sort)


@bp.route("/tags/<name>")
def tag(name: str) -> ResponseReturnValue:
    tab = request.args.get("tab", "newest")
    if tab not in svc.TABS:
        tab = "newest"
    data = tag_page(name, tab, clamp_page(request.args.get("page")), current_user)
    return render_template("questions/index.html", page=data.questions, tab=tab, tabs=svc.TABS, tag=data.tag,
                           pinned=data.pinned, following_tag=data.following, top_helpers=data.top_helpers)


@bp.route("/tags/<name>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit_tag(name: str) -> ResponseReturnValue:
    """Staff write what a tag is for (Markdown), shown on its page, the tags index and in suggestions."""
    tag = svc.get_tag(name)
    require(current_user, "edit_tag", tag)
    form = TagWikiForm(obj=tag if request.method == "GET" else None)
    if form.validate_on_submit():
        saved = save(form, lambda: tags_svc.edit_tag_wiki(current_user, tag, form.wiki.data or ""))
        if saved is not NOT_SAVED:
            flash(f"The description of {tag.name} is saved.", "success")
            return redirect(url_for("questions.tag", name=tag.name))
    return render_template("questions/tag_edit.html", form=form, tag=tag), form_status(form)


@bp.route("/tag-suggestions")
@limited("tag_suggestions", staff_exempt=True, json=True)
def tag_suggestions() -> ResponseReturnValue:
    """Existing tags starting with ``q`` as JSON, for the tag box (static/js/tags.js).

    The same for every visitor, so browsers may keep an answer a minute (a description edited
    meanwhile shows on the next minute's lookups).
    """
    found = tags_svc.suggest_tags(request.args.get("q", ""))
    response = jsonify(
        query=tags_svc.normalise_prefix(request.args.get("q", "")),
        tags=[{"name": t.name, "excerpt": t.excerpt, "count": t.count,
               "url": url_for("questions.tag", name=t.name)} for t in found],
    )
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.route("/preview", methods=["POST"])
@login_required
@limited("preview", staff_exempt=True, json=True)
def preview() -> ResponseReturnValue:
    """Render Markdown through the same pipeline as a saved post (for the live preview)."""
    text = request.form.get("body", "")
    if len(text) > max(current_app.config["BODY_MAX_LENGTH"], current_app.config["ANSWER_MAX_LENGTH"]):
        abort(413)
    return jsonify(html=links_svc.render_body(text).html)
