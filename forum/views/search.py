"""The search page and the similar-questions endpoint used while typing a title."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..models import Article, Question
from ..ratelimit import limited
from ..services import search as svc
from ..services.pagination import clamp_page
from .articles import article_url
from .questions import question_url

bp = Blueprint("search", __name__)


def _solved_arg() -> bool | None:
    value = request.args.get("solved", "")
    return {"yes": True, "no": False}.get(value)


def _limited_page(message: str) -> ResponseReturnValue:
    """The search page again, the query in its box, saying when to come back."""
    return render_template("search/index.html", page=None, query=request.args.get("q", "")[:500],
                           limited_message=message)


@bp.route("/search")
@limited("search", staff_exempt=True, page=_limited_page)
def index() -> ResponseReturnValue:
    query = request.args.get("q", "")[:500]
    tags = svc.tag_filters(request.args.getlist("tag"))
    solved = _solved_arg()
    kind = request.args.get("kind") if request.args.get("kind") in svc.KINDS else None
    if not svc.asks_anything(query, tags, solved, kind):
        return render_template("search/index.html", page=None, query="")
    page = svc.search_posts(current_user, query, sort=request.args.get("sort", "relevance"),
                            page=clamp_page(request.args.get("page")), tags=tags, solved=solved, kind=kind,
                            correct=request.args.get("as_typed") != "1")
    # A corrected search shows (and its sort, filter and paging links keep) the corrected query.
    return render_template("search/index.html", page=page, query=page.query)


@bp.route("/search/similar")
@limited("similar", staff_exempt=True, json=True)
def similar() -> ResponseReturnValue:
    title = request.args.get("title", "")[:300]
    rows = svc.similar_questions(current_user, title, with_articles=True)
    return jsonify(results=similar_results(rows))


def similar_results(rows: list[Question | Article], *, external: bool = False) -> list[dict[str, Any]]:
    """The similar questions and articles as JSON objects (this endpoint's and the API's)."""
    return [
        {"id": r.id, "title": r.title, "url": article_url(r, _external=external), "score": 0, "answers": 0,
         "solved": False, "kind": "article"}
        if isinstance(r, Article) else
        {"id": r.id, "title": r.title, "url": question_url(r, _external=external), "score": r.score,
         "answers": r.answer_count, "solved": r.is_solved, "kind": "question"}
        for r in rows
    ]
