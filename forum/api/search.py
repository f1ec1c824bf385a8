"""Tags and search: the tags list and one tag, search with the search page's query language,
and the ask form's similar questions."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from marshmallow import fields, validate

from ..models import Article, Question, Tag
from ..ratelimit import limited
from ..services import questions as questions_service
from ..services import search as search_service
from ..services.pagination import clamp_page
from ..templating import article_url
from ..views.search import similar_results
from .core import api_blueprint, decode_cursor, encode_cursor, page_limit, page_of, reads, viewer
from .schemas import Cursor, Error, QuestionSummary, Utc

bp = api_blueprint("search", "Tags, search and similar questions.", title="Tags and search")

# --------------------------------------------------------------------------- schemas

class TagOut(ma.Schema):
    name = fields.String(required=True)
    question_count = fields.Integer(required=True, metadata={"description": "Visible questions with the tag."})
    description = fields.String(required=True, metadata={"description": "Plain-text excerpt of the tag's "
                                                         "description (empty when staff wrote none)."})
    url = fields.Method("_url", required=True)
    questions_url = fields.Method("_questions_url", required=True)

    def _url(self, tag: Tag) -> str:
        return url_for("questions.tag", name=tag.name, _external=True)

    def _questions_url(self, tag: Tag) -> str:
        return url_for("api_questions.list_questions", tag=tag.name, _external=True)


class TagDetail(TagOut):
    wiki = fields.String(required=True, metadata={"description": "What the tag is for, in Markdown (staff write it)."})
    wiki_html = fields.String(required=True, metadata={"description": "The description rendered and sanitised."})
    wiki_edited_at = Utc(required=True, allow_none=True)
    created_at = Utc(required=True)


class TagPage(ma.Schema):
    items = fields.List(fields.Nested(TagOut), required=True)
    next_cursor = fields.String(required=True, allow_none=True,
                                metadata={"description": "Pass as ?cursor= for the next page; null on the last."})


class TagFilters(Cursor):
    sort = fields.String(load_default="popular", validate=validate.OneOf(questions_service.TAG_SORTS),
                         metadata={"description": "popular (most questions first) or name."})


class SearchArgs(Cursor):
    class Meta:
        unknown = ma.RAISE
        exclude = ("limit",)  # pages have the search page's fixed size

    q = fields.String(load_default="", validate=validate.Length(max=500),
                      metadata={"description": "The search page's query language: words, \"a phrase\", "
                                               "-word, OR, tag:name, is:solved, is:unanswered, is:article, user:name."})
    tag = fields.List(fields.String(validate=validate.Length(min=1, max=35)), load_default=list,
                      validate=validate.Length(max=5), metadata={"description": "Only results with these tags."})
    solved = fields.Boolean(load_default=None, metadata={"description": "Only solved (true) or unsolved (false)."})
    kind = fields.String(load_default=None, validate=validate.OneOf(search_service.KINDS),
                         metadata={"description": "Only questions or only articles."})
    sort = fields.String(load_default="relevance", validate=validate.OneOf(search_service.SORTS))
    as_typed = fields.Boolean(load_default=False, metadata={
        "description": "Search exactly what was typed: no spelling correction when nothing is found."})


class Hit(ma.Schema):
    kind = fields.String(required=True, metadata={"description": "question or article (official)."})
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    url = fields.String(required=True)
    title_html = fields.String(required=True, metadata={"description": "The title, matches in <mark>."})
    snippet_html = fields.String(required=True, metadata={"description": "An excerpt, matches in <mark>."})
    tags = fields.List(fields.String(), required=True)
    question = fields.Nested(QuestionSummary, required=True, allow_none=True,
                             metadata={"description": "The question, for kind question; null for an article."})


class SearchOut(ma.Schema):
    query = fields.String(required=True, metadata={"description": "The query searched (corrected, when "
                                                                  "corrected_from is set)."})
    corrected_from = fields.String(required=True, allow_none=True,
                                   metadata={"description": "The query as typed, when it found nothing and "
                                                            "these are the results of its correction."})
    suggestion = fields.String(required=True, allow_none=True, metadata={"description": "Did you mean …?"})
    total = fields.Integer(required=True)
    items = fields.List(fields.Nested(Hit), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class SimilarArgs(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    title = fields.String(required=True, validate=validate.Length(max=300),
                          metadata={"description": "A question title as typed (two words at least find something)."})


class Similar(ma.Schema):
    kind = fields.String(required=True, metadata={"description": "question, or article (official)."})
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    url = fields.String(required=True)
    score = fields.Integer(required=True)
    answer_count = fields.Integer(required=True, attribute="answers")
    solved = fields.Boolean(required=True)


class SimilarOut(ma.Schema):
    items = fields.List(fields.Nested(Similar), required=True)


# --------------------------------------------------------------------------- views

@bp.route("/tags", methods=["GET"])
@reads()
@bp.arguments(TagFilters, location="query", as_kwargs=True)
@bp.response(200, TagPage)
def list_tags(cursor: str | None, limit: int | None, sort: str) -> dict[str, Any]:
    """Tags with questions, as the tags page lists them: the most used first, or by name."""
    after = decode_cursor(cursor, (int, str))
    size = page_limit(limit)
    rows = questions_service.tags_after(sort, (after[0], after[1]) if after else None, size + 1)
    return page_of(rows, size, lambda t: (t.question_count, t.name))


@bp.route("/tags/<string(minlength=1, maxlength=35):name>", methods=["GET"])
@reads()
@bp.response(200, TagDetail)
@bp.alt_response(404, schema=Error, description="No tag has this name.")
def get_tag(name: str) -> Tag:
    """One tag with its description."""
    return questions_service.get_tag(name)


def _hit(result: search_service.Result) -> dict[str, Any]:
    row: Question | Article | None = result.question or result.article
    assert row is not None  # a Result carries one or the other
    url = (url_for("questions.show", question_id=row.id, _external=True) if isinstance(row, Question)
           else article_url(row, _external=True))
    return {"kind": result.kind, "id": row.id, "title": row.title, "url": url, "title_html": result.title_html,
            "snippet_html": result.snippet_html, "tags": [t.name for t in row.tags], "question": result.question}


@bp.route("/search", methods=["GET"])
@reads()
@limited("search", staff_exempt=True)
@bp.arguments(SearchArgs, location="query", as_kwargs=True)
@bp.response(200, SearchOut)
def search(cursor: str | None, q: str, tag: list[str], solved: bool | None, kind: str | None,
           sort: str, as_typed: bool) -> dict[str, Any]:
    """Visible questions and published articles matching ``q``, best first, as on the search page."""
    after = decode_cursor(cursor, (int,))
    tags = search_service.tag_filters(tag)
    if not search_service.asks_anything(q, tags, solved, kind):
        return {"query": "", "corrected_from": None, "suggestion": None, "total": 0, "items": [], "next_cursor": None}
    page = search_service.search_posts(viewer(), q, sort=sort, page=clamp_page(after[0] if after else 1),
                                       tags=tags, solved=solved, kind=kind, correct=not as_typed)
    return {"query": page.query, "corrected_from": page.corrected_from, "suggestion": page.suggestion,
            "total": page.total, "items": [_hit(r) for r in page.results],
            "next_cursor": encode_cursor([page.page + 1]) if page.has_next and clamp_page(page.page + 1) > page.page
            else None}


@bp.route("/search/similar", methods=["GET"])
@reads()
@limited("similar", staff_exempt=True)
@bp.arguments(SimilarArgs, location="query", as_kwargs=True)
@bp.response(200, SimilarOut)
def similar(title: str) -> dict[str, Any]:
    """Questions (and official articles) like a title, as the ask form suggests while typing."""
    rows = search_service.similar_questions(viewer(), title, with_articles=True)
    return {"items": similar_results(rows, external=True)}
