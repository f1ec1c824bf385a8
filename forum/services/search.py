"""Search as users see it: index hits loaded back as rows, in rank order, visibility re-checked.

Hits are questions or official articles (kind "article", published only); a Result carries
one of the two.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from search import semantic
from search.encoding_service import EncoderUnavailable
from search.errors import SearchError
from search.results import Hit, SearchResults
from search.vectors import rerank

from ..extensions import db
from ..models import Article, Question
from ..search_index import meaning, reading
from ..search_index import query_vector as remembered_vector

SORTS = ("relevance", "newest", "votes")
KINDS = ("question", "article")
PER_PAGE = 20
log = logging.getLogger(__name__)

SIMILAR_LIMIT = 5
#: BM25F candidates that meaning re-ranks (docs/search.md, "Meaning").
FUSION_CANDIDATES = 20
TITLE_MIN_WORDS = 2


@dataclass
class Result:
    question: Question | None
    title_html: str
    snippet_html: str
    article: Article | None = None

    @property
    def kind(self) -> str:
        return "article" if self.article is not None else "question"


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
    kind: str | None = None
    #: The query as typed, when it found nothing and these are the results of ``suggestion``'s
    #: correction instead (``query`` is then the corrected one).
    corrected_from: str | None = None

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def tag_filters(raw: Sequence[str]) -> tuple[str, ...]:
    """The tag filters as asked (``?tag=``): trimmed, lowercased, once each, at most five."""
    return tuple(dict.fromkeys(t.strip().lower() for t in raw if t.strip()))[:5]


def asks_anything(query: str, tags: tuple[str, ...], solved: bool | None, kind: str | None) -> bool:
    """Whether a search names anything to look for; without, the search page shows its empty
    form and the API an empty result, and the index is not asked."""
    return bool(query.strip() or tags or solved is not None or kind is not None)


def _load_visible(keys: list[tuple[str, int]], viewer: Any) -> dict[tuple[str, int], Question | Article]:
    """Rows for index keys that anyone may see: visible questions, published articles (one query per kind)."""
    rows: dict[tuple[str, int], Question | Article] = {}
    question_ids = [i for kind, i in keys if kind == "question"]
    if question_ids:
        for q in db.session.scalars(select(Question).where(Question.id.in_(question_ids), Question.is_visible)
                                    .options(selectinload(Question.tags))):
            rows[("question", q.id)] = q
    article_ids = [i for kind, i in keys if kind == "article"]
    if article_ids:
        for a in db.session.scalars(select(Article).where(Article.id.in_(article_ids), Article.state == "published")
                                    .options(selectinload(Article.tags))):
            rows[("article", a.id)] = a
    return rows


def _result(row: Question | Article, title_html: str, snippet_html: str) -> Result:
    if isinstance(row, Article):
        return Result(None, title_html, snippet_html, article=row)
    return Result(row, title_html, snippet_html)


def _by_meaning(res: SearchResults) -> list[Hit]:
    """The first page of a relevance search in fused order when meaning is on and the query
    reads as a sentence (``semantic.reads_as_sentence``): the page's BM25F hits (PER_PAGE, as
    many as FUSION_CANDIDATES) re-ranked by their stored vectors' cosines to the query, encoded
    once. Later pages keep BM25F's order, so paging neither repeats nor skips a hit."""
    found = meaning()
    if found is None or len(res.hits) < 2 or not semantic.reads_as_sentence(res.parsed):
        return res.hits
    encoder, vectors = found
    try:
        vector = remembered_vector(encoder, semantic.query_text(" ".join(res.parsed.words())[:300]))
        return rerank(res.hits, vector, vectors, semantic.TITLE_WEIGHTS)
    except EncoderUnavailable:  # the client logged the outage once; every query meanwhile goes without meaning
        return res.hits
    except SearchError:
        log.warning("vectors unreadable: BM25F order kept", exc_info=True)
        return res.hits


def search_posts(viewer: Any, query: str, *, sort: str = "relevance", page: int = 1,
                 tags: tuple[str, ...] = (), solved: bool | None = None, kind: str | None = None,
                 correct: bool = True, use_meaning: bool = True) -> SearchPage:
    """One page of search results the viewer may see. Never raises for a malformed query.

    ``kind`` ("question" or "article") narrows the results like ``is:<kind>`` in the query.
    When the query finds nothing and the index suggests a spelling that finds something, the
    page holds the corrected query's results (``corrected_from`` is the query as typed), as
    search engines do; ``correct=False`` searches exactly what was typed. A sentence-like
    query's first page is re-ranked by meaning when it is on (``_by_meaning``; not with
    ``use_meaning=False``).
    """
    sort = sort if sort in SORTS else "relevance"
    kind = kind if kind in KINDS else None

    def run(q: str) -> SearchPage:
        with reading() as index:
            res = index.search(q, sort=sort, page=page, per_page=PER_PAGE, tags=tags, solved=solved,
                               kinds=(kind,) if kind else None)
        hits = _by_meaning(res) if use_meaning and sort == "relevance" and res.page == 1 else res.hits
        rows = _load_visible([(h.kind, h.id) for h in hits], viewer)
        results = [_result(rows[(h.kind, h.id)], h.title_html, h.snippet_html)
                   for h in hits if (h.kind, h.id) in rows]
        return SearchPage(query=q, results=results, total=res.total, page=res.page, pages=res.pages, sort=sort,
                          tag_counts=list(res.tag_counts)[:20], suggestion=res.suggestion, tags=tags,
                          solved=solved, kind=kind)

    found = run(query)
    if correct and found.total == 0 and found.suggestion and found.suggestion != query:
        fixed = run(found.suggestion)
        if fixed.total:
            fixed.corrected_from, fixed.suggestion = query, None
            return fixed
    return found


def similar_questions(viewer: Any, title: str, *, body: str = "", exclude: Question | None = None,
                      limit: int = SIMILAR_LIMIT, with_articles: bool = False, use_meaning: bool = True,
                      query_vector: Sequence[float] | None = None) -> list[Question | Article]:
    """Questions like ``title`` (and ``body``), never ``exclude`` itself or hidden ones.

    With ``with_articles`` the list also holds published articles (``row.kind == "article"``),
    which callers label "Official"; without it, only questions (callers that link every row
    as a question).

    When meaning is on (`search_index.meaning`) and ``use_meaning``, BM25F's best
    ``FUSION_CANDIDATES`` are re-ranked with their stored vectors' cosines to ``query_vector``
    (encoded from the title and body when not given: one encode, for similar-as-you-type).
    Writers in a transaction pass ``use_meaning=False``: they never encode.
    """
    if len(title.split()) < TITLE_MIN_WORDS and not body:
        return []
    skip = [f"question:{exclude.id}"] if exclude is not None else []
    found = meaning() if use_meaning else None
    # Ask for extra hits: some may be hidden from this viewer.
    with reading() as index:
        hits = index.similar(title[:300], body=body[:2000], limit=max(limit * 2, FUSION_CANDIDATES if found else 0),
                             exclude=skip)
    if found is not None and len(hits) > 1:
        encoder, vectors = found
        try:
            if query_vector is None:
                query_vector = remembered_vector(encoder, semantic.query_text(title[:300], body[:2000]))
            hits = rerank(hits, query_vector, vectors, semantic.FULL_WEIGHTS if body else semantic.TITLE_WEIGHTS)
        except EncoderUnavailable:  # the client logged the outage once; BM25F's order meanwhile
            pass
        except SearchError:
            log.warning("vectors unreadable: BM25F order kept", exc_info=True)
    if not with_articles:
        hits = [h for h in hits if h.kind == "question"]
    rows = _load_visible([(h.kind, h.id) for h in hits], viewer)
    return [rows[(h.kind, h.id)] for h in hits if (h.kind, h.id) in rows][:limit]
