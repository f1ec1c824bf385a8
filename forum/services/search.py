"""Search as users see it: index hits loaded back as rows, in rank order, visibility re-checked."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Question
from ..search_sync import get_index

SORTS = ("relevance", "newest", "votes")
PER_PAGE = 20
SIMILAR_LIMIT = 5
TITLE_MIN_WORDS = 2


@dataclass
class Result:
    question: Question
    title_html: str
    snippet_html: str


@dataclass
class SearchPage:
    query: str
    results: list[Result]
    total: int
    page: int
    pages: int
    sort: str
    tag_counts: list[tuple[str, int]] = field(default_factory=list)
    suggestion: str | None = None
    tags: tuple[str, ...] = ()
    solved: bool | None = None

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _load_visible(keys: list[tuple[str, int]], viewer: Any) -> dict[int, Question]:
    ids = [i for kind, i in keys if kind == "question"]
    if not ids:
        return {}
    rows = db.session.scalars(select(Question).where(Question.id.in_(ids)).options(selectinload(Question.tags)))
    return {q.id: q for q in rows if q.is_visible}


def search_posts(viewer: Any, query: str, *, sort: str = "relevance", page: int = 1,
                 tags: tuple[str, ...] = (), solved: bool | None = None) -> SearchPage:
    """One page of search results the viewer may see. Never raises for a malformed query."""
    sort = sort if sort in SORTS else "relevance"
    res = get_index().search(query, sort=sort, page=page, per_page=PER_PAGE, tags=tags, solved=solved)
    rows = _load_visible([(h.kind, h.id) for h in res.hits], viewer)
    results = [Result(rows[h.id], h.title_html, h.snippet_html) for h in res.hits if h.id in rows]
    return SearchPage(query=query, results=results, total=res.total, page=res.page, pages=res.pages, sort=sort,
                      tag_counts=list(res.tag_counts)[:20], suggestion=res.suggestion, tags=tags, solved=solved)


def similar_questions(viewer: Any, title: str, *, body: str = "", exclude: Question | None = None,
                      limit: int = SIMILAR_LIMIT) -> list[Question]:
    """Questions like ``title`` (and ``body``), never ``exclude`` itself or hidden ones."""
    if len(title.split()) < TITLE_MIN_WORDS and not body:
        return []
    skip = [f"question:{exclude.id}"] if exclude is not None else []
    # Ask for extra hits: some may be hidden from this viewer.
    hits = get_index().similar(title[:300], body=body[:2000], limit=limit * 2, exclude=skip)
    rows = _load_visible([(h.kind, h.id) for h in hits], viewer)
    return [rows[h.id] for h in hits if h.id in rows][:limit]
