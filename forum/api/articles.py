"""Knowledge-base articles: the published ones for everyone (drafts and archived ones for staff
too, as on the pages), and for staff writing a draft, editing it and publishing it (the
``article.published`` webhook fires as from the page)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma
from flask import url_for
from marshmallow import fields, validate

from ..models import ARTICLE_STATES, Article
from ..services import articles as svc
from ..services.permissions import require
from .core import api_blueprint, changes, decode_cursor, idempotent, member, page_limit, page_of, reads, viewer
from .refusals import BAD_CURSOR, FORBIDDEN, UNAUTHORIZED, documents
from .schemas import AskIn, Author, Cursor, Utc

bp = api_blueprint("articles", "Knowledge-base articles written by the support team.")

NOT_FOUND = (404, "No such article, or a draft or archived one and the caller is not staff.")


# --------------------------------------------------------------------------- schemas

class ArticleSummary(ma.Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    url = fields.Method("_url", required=True)
    state = fields.String(required=True, metadata={"description": ", ".join(ARTICLE_STATES)})
    tags = fields.Method("_tags", required=True)
    author = fields.Nested(Author, required=True)
    helpful_yes = fields.Integer(required=True)
    helpful_no = fields.Integer(required=True)
    source_question_id = fields.Integer(required=True, allow_none=True,
                                        metadata={"description": "The solved question it was promoted from."})
    created_at = Utc(required=True)
    updated_at = Utc(required=True)
    published_at = Utc(required=True, allow_none=True, metadata={"description": "Its first publication."})

    def _url(self, article: Article) -> str:
        return url_for("articles.show", article_id=article.id, slug=svc.article_slug(article.title), _external=True)

    def _tags(self, article: Article) -> list[str]:
        # By name, as the relationship loads them (a just-edited article holds them as given).
        return sorted(t.name for t in article.tags)


class ArticleOut(ArticleSummary):
    body = fields.String(required=True, metadata={"description": "Markdown as written."})
    body_html = fields.String(required=True, metadata={"description": "Rendered and sanitised HTML."})


class ArticlePage(ma.Schema):
    items = fields.List(fields.Nested(ArticleSummary), required=True)
    next_cursor = fields.String(required=True, allow_none=True,
                                metadata={"description": "Pass as ?cursor= for the next page; null on the last."})


class ArticleFilters(Cursor):
    tag = fields.String(load_default=None, validate=validate.Length(min=1, max=35))
    state = fields.String(load_default="published", validate=validate.OneOf(svc.STATE_FILTERS),
                          metadata={"description": "Staff only: drafts, archived or all; others always get the "
                                                   "published articles."})


class ArticleIn(AskIn):
    """An article: a title, a Markdown body and its tags, checked as a question's are."""

    summary = fields.String(load_default="", validate=validate.Length(max=200),
                            metadata={"description": "What this revision changed (the history shows it)."})


class ArticleEditIn(ArticleIn):
    """An edit (loaded partial): the fields left out keep their current value."""


class StateIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    state = fields.String(required=True, validate=validate.OneOf(ARTICLE_STATES),
                          metadata={"description": "published (publish), draft (unpublish) or archived."})


def article_input(data: dict[str, Any], article: Article | None = None) -> svc.ArticleInput:
    """The service's input from the JSON, an edit's missing fields taken from ``article``."""
    def pick(key: str, current: str) -> str:
        value = data.get(key)
        if value is None:
            return current
        return " ".join(value) if isinstance(value, list) else str(value)
    return svc.ArticleInput(pick("title", article.title if article else ""), pick("body", article.body if article else ""),
                            pick("tags", " ".join(t.name for t in article.tags) if article else ""))


def located(article: Article, status: int) -> tuple[Article, int, dict[str, str]]:
    return article, status, {"Location": url_for("api_articles.get_article", article_id=article.id, _external=True)}


# --------------------------------------------------------------------------- views

@bp.route("/articles", methods=["GET"])
@reads()
@bp.arguments(ArticleFilters, location="query", as_kwargs=True)
@bp.response(200, ArticlePage)
@documents(bp, BAD_CURSOR)
def list_articles(cursor: str | None, limit: int | None, tag: str | None, state: str) -> dict[str, Any]:
    """Published articles, the latest published first.

    Staff may ask for drafts, archived or all articles (``state``), the latest changed first."""
    before = decode_cursor(cursor, (datetime, int))
    size = page_limit(limit)
    rows, when = svc.articles_after(viewer(), state, tag, (before[0], before[1]) if before else None, size + 1)
    return page_of(rows, size, lambda a: (getattr(a, when), a.id))


@bp.route("/articles/<int:article_id>", methods=["GET"])
@reads()
@bp.response(200, ArticleOut)
@documents(bp, NOT_FOUND)
def get_article(article_id: int) -> Article:
    """One article (a draft or archived one for staff only)."""
    return svc.get_article(article_id, viewer())


@bp.route("/articles", methods=["POST"])
@changes("staff")
@idempotent
@bp.arguments(ArticleIn)
@bp.response(201, ArticleOut)
@documents(bp, UNAUTHORIZED, FORBIDDEN)
def create_article(data: dict[str, Any]) -> tuple[Article, int, dict[str, str]]:
    """Write a draft (staff). Publish it with POST /articles/{id}/state."""
    return located(svc.create_article(member(), article_input(data), data["summary"]), 201)


@bp.route("/articles/<int:article_id>", methods=["PATCH"])
@changes("staff")
@bp.arguments(ArticleEditIn(partial=True))
@bp.response(200, ArticleOut)
@documents(bp, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, (409, "Nothing changed."))
def edit_article(data: dict[str, Any], article_id: int) -> Article:
    """Edit an article in any state (staff), as a new revision."""
    require(member(), "edit_article", message="Only staff edit articles.")
    article = svc.get_article(article_id, member())
    return svc.edit_article(member(), article, article_input(data, article), data.get("summary", ""))


@bp.route("/articles/<int:article_id>/state", methods=["POST"])
@changes("staff")
@bp.arguments(StateIn)
@bp.response(200, ArticleOut)
@documents(bp, UNAUTHORIZED, FORBIDDEN, NOT_FOUND,
           (409, "The article is already in that state, or cannot be published as it stands."))
def set_state(data: dict[str, str], article_id: int) -> Article:
    """Publish (everyone can read it; the article.published webhook fires), unpublish or archive (staff)."""
    require(member(), "edit_article", message="Only staff publish or archive articles.")
    article = svc.get_article(article_id, member())
    return svc.set_state(member(), article, data["state"])
