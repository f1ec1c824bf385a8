"""Knowledge-base articles: list, read, write, publish, history, "Was this helpful?", promote."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..forms.articles import ArticleForm, ArticleStateForm, FeedbackForm
from ..services import articles as svc
from ..services import links as links_svc
from ..services.pagination import clamp_page
from ..services.permissions import require
from ..services.questions import get_question
from ..templating import article_url
from .formglue import NOT_SAVED, check_rest, form_status, save, writes
from .history import revision_diffs
from .notifications import mark_seen

bp = Blueprint("articles", __name__)

STATE_MESSAGES = {
    "published": "The article is published.",
    "draft": "The article is back in drafts; only staff can see it.",
    "archived": "The article is archived; only staff can see it.",
}


def _input(form: ArticleForm) -> svc.ArticleInput:
    return svc.ArticleInput(form.title.data or "", form.body.data or "", form.tags.data or "")


@bp.route("/articles")
def index() -> ResponseReturnValue:
    state = svc.visible_state(current_user, request.args.get("state", "all"))
    tag = request.args.get("tag", "").strip().lower()[:35] or None
    page = svc.list_articles(current_user, clamp_page(request.args.get("page")), state=state, tag=tag)
    return render_template("articles/index.html", page=page, state=state, states=svc.STATE_FILTERS, tag=tag)


@bp.route("/articles/new", methods=["GET", "POST"])
@login_required
@writes
def new() -> ResponseReturnValue:
    require(current_user, "write_article", message="Only staff write articles.")
    form = ArticleForm()
    if form.validate_on_submit():
        article = save(form, lambda: svc.create_article(current_user, _input(form), form.summary.data or ""))
        if article is not NOT_SAVED:
            flash("Draft saved. Publish it when it is ready.", "success")
            return redirect(article_url(article))
    else:
        check_rest(form, lambda: svc.check_article_input(_input(form)))
    return render_template("articles/edit.html", form=form, article=None), form_status(form)


@bp.route("/articles/<int:article_id>")
@bp.route("/articles/<int:article_id>/<slug>")
def show(article_id: int, slug: str | None = None) -> ResponseReturnValue:
    article = svc.get_article(article_id, current_user)
    canonical = svc.article_slug(article.title)
    if slug != canonical:
        query = request.query_string.decode()
        target = url_for("articles.show", article_id=article.id, slug=canonical)
        return redirect(f"{target}?{query}" if query else target, code=301)
    mark_seen(f"article:{article.id}")
    return render_template("articles/show.html", article=article, extra=svc.article_page(article, current_user),
                           links=links_svc.article_links(article, current_user))


@bp.route("/articles/<int:article_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(article_id: int) -> ResponseReturnValue:
    require(current_user, "edit_article", message="Only staff edit articles.")
    article = svc.get_article(article_id, current_user)
    form = ArticleForm(obj=article if request.method == "GET" else None)
    if request.method == "GET":
        form.tags.data = " ".join(t.name for t in article.tags)
    if form.validate_on_submit():
        if save(form, lambda: svc.edit_article(current_user, article, _input(form), form.summary.data or "")) is not NOT_SAVED:
            flash("Your edit is saved.", "success")
            return redirect(article_url(article))
    else:
        check_rest(form, lambda: svc.check_article_input(_input(form)))
    return render_template("articles/edit.html", form=form, article=article), form_status(form)


@bp.route("/articles/<int:article_id>/state", methods=["POST"])
@login_required
@writes
def change_state(article_id: int) -> ResponseReturnValue:
    require(current_user, "edit_article", message="Only staff publish or archive articles.")
    article = svc.get_article(article_id, current_user)
    form = ArticleStateForm()
    if not form.validate_on_submit():
        abort(400)
    if save(None, lambda: svc.set_state(current_user, article, form.state.data)) is not NOT_SAVED:
        flash(STATE_MESSAGES[article.state], "success")
    return redirect(article_url(article))


@bp.route("/articles/<int:article_id>/history")
def history(article_id: int) -> ResponseReturnValue:
    article = svc.get_article(article_id, current_user)
    return render_template("articles/history.html", article=article,
                           diffs=revision_diffs(svc.revisions_of(article), with_title=True))


@bp.route("/articles/<int:article_id>/feedback", methods=["POST"])
@login_required
@writes
def feedback(article_id: int) -> ResponseReturnValue:
    article = svc.get_article(article_id, current_user)
    form = FeedbackForm()
    if not form.validate_on_submit():
        abort(400)
    svc.rate_article(current_user, article, form.helpful.data == "yes")
    flash("Thanks for your feedback.", "success")
    return redirect(article_url(article, _anchor="feedback"))


@bp.route("/questions/<int:question_id>/promote", methods=["POST"])
@login_required
@writes
def promote(question_id: int) -> ResponseReturnValue:
    question = get_question(question_id, current_user)
    article, created = svc.promote_question(current_user, question)
    if created:
        flash("A draft article is ready: edit it, then publish it.", "success")
    else:
        flash("This question already has an article; here it is.", "info")
    return redirect(url_for("articles.edit", article_id=article.id))
