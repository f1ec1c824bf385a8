"""Keeps the search index in step with the database.

The only module that imports both ``forum`` and ``search``. Session hooks collect the
questions and articles a transaction touched (at flush), write their documents after commit,
and forget them on rollback. Published articles are documents of kind "article"; drafts and
archived ones are removed from the index. If the index cannot be written (another process holds the Whoosh lock
past its timeout, the disk is full), the post still succeeds: the keys go to the
``search_pending`` table and are retried on the next write by any process, or by
``flask search check``.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import chain
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session, selectinload

from search.document import Document
from search.errors import SearchError
from search.index import SearchIndex

from .database import after_real_commit
from .extensions import db
from .markup import to_plain_text
from .models import Answer, Article, Question, SearchPending
from .models.base import utcnow
from .services.errors import ServiceError

log = logging.getLogger(__name__)
TOUCHED = "forum.search.touched"
TOUCHED_ARTICLES = "forum.search.touched_articles"
QUESTION = "question"
ARTICLE = "article"


class SearchSync:
    """The index of one app, opened lazily (one per process)."""

    def __init__(self, app: Flask) -> None:
        self.path: str | None = app.config["SEARCH_INDEX_DIR"] or None
        if self.path == ":memory:":
            self.path = None
        self._index: SearchIndex | None = None
        self._lock = threading.Lock()

    @property
    def index(self) -> SearchIndex:
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index = SearchIndex.open(self.path)
        return self._index

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None


def get_sync(app: Flask | None = None) -> SearchSync:
    return (app or current_app).extensions["search"]


class SearchUnavailable(ServiceError):
    """The index cannot be read (outdated schema, unreadable files): 503 until rebuilt."""

    status = 503


def get_index() -> SearchIndex:
    return get_sync().index


@contextmanager
def reading() -> Iterator[SearchIndex]:
    """The index for a read; a SearchError becomes SearchUnavailable (a friendly 503)."""
    try:
        yield get_index()
    except SearchError as exc:
        log.error("search unavailable: %s", exc)
        raise SearchUnavailable("Search is temporarily unavailable. Browse by tag meanwhile; "
                                "the team has been told.") from exc


def needs_rebuild() -> bool:
    """True when the index was built by an older schema or is empty while the database is not."""
    index = get_index()
    if not index.schema_is_current:
        return True
    with Session(db.engine) as session:
        return len(index) == 0 and count_documents(session) > 0


# ---------------------------------------------------------------- documents from rows


def _question_documents(session: Session, ids: Iterable[int]) -> tuple[list[Document], list[str]]:
    """Documents for the visible questions among ``ids`` and keys of those to drop."""
    ids = sorted(set(ids))
    if not ids:
        return [], []
    rows = list(session.scalars(select(Question).where(Question.id.in_(ids)).options(selectinload(Question.tags))))
    answers: dict[int, list[str]] = {}
    accepted: dict[int, str] = {}
    accepted_ids = {q.accepted_answer_id for q in rows if q.accepted_answer_id}
    stmt = (select(Answer.id, Answer.question_id, Answer.body_html)
            .where(Answer.question_id.in_(ids), Answer.deleted_at.is_(None), Answer.hidden_at.is_(None))
            .order_by(Answer.score.desc(), Answer.id))
    for answer_id, question_id, body_html in session.execute(stmt):
        text = to_plain_text(body_html)
        if answer_id in accepted_ids:
            # The accepted answer gets its own, higher-weighted field instead.
            accepted[question_id] = text
        else:
            answers.setdefault(question_id, []).append(text)
    docs, gone = [], []
    found = set()
    for q in rows:
        found.add(q.id)
        if not q.is_visible:
            gone.append(f"{QUESTION}:{q.id}")
            continue
        texts = answers.get(q.id, [])
        solution = accepted.get(q.id, "")
        docs.append(Document(
            kind=QUESTION, id=q.id, title=q.title, body=to_plain_text(q.body_html),
            answers="\n".join(texts), accepted=solution, tags=tuple(t.name for t in q.tags),
            author=q.author.username, status="closed" if q.is_closed else "open", solved=bool(solution),
            score=q.score, answer_count=len(texts) + (1 if solution else 0), created=q.created_at,
        ))
    gone.extend(f"{QUESTION}:{i}" for i in ids if i not in found)
    return docs, gone


def _article_documents(session: Session, ids: Iterable[int]) -> tuple[list[Document], list[str]]:
    """Documents for the published articles among ``ids`` and keys of the others to drop."""
    ids = sorted(set(ids))
    if not ids:
        return [], []
    rows = list(session.scalars(select(Article).where(Article.id.in_(ids)).options(selectinload(Article.tags))))
    docs, gone = [], []
    found = set()
    for a in rows:
        found.add(a.id)
        if not a.is_published:
            gone.append(f"{ARTICLE}:{a.id}")
            continue
        docs.append(Document(
            kind=ARTICLE, id=a.id, title=a.title, body=to_plain_text(a.body_html),
            tags=tuple(t.name for t in a.tags), author=a.author.username, status="published", solved=False,
            created=a.published_at or a.created_at,
        ))
    gone.extend(f"{ARTICLE}:{i}" for i in ids if i not in found)
    return docs, gone


BUILDERS: dict[str, Callable[[Session, Iterable[int]], tuple[list[Document], list[str]]]] = {
    QUESTION: _question_documents,
    ARTICLE: _article_documents,
}


def _live_ids(kind: str) -> tuple[Select[tuple[int]], Any]:
    """A select of the ids that belong in the index for ``kind``, and its id column."""
    if kind == ARTICLE:
        return select(Article.id).where(Article.state == "published"), Article.id
    return select(Question.id).where(Question.deleted_at.is_(None), Question.hidden_at.is_(None)), Question.id


def all_documents(session: Session, batch: int = 500) -> Iterator[Document]:
    """Every visible question, then every published article, in id order, ``batch`` rows at a time."""
    for kind, build in BUILDERS.items():
        stmt, column = _live_ids(kind)
        last = 0
        while True:
            ids = list(session.scalars(stmt.where(column > last).order_by(column).limit(batch)))
            if not ids:
                break
            docs, _ = build(session, ids)
            yield from docs
            last = ids[-1]
            session.expunge_all()


def count_documents(session: Session) -> int:
    total = 0
    for kind in BUILDERS:
        stmt, column = _live_ids(kind)
        total += session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return total


# ---------------------------------------------------------------- writing


def sync(questions: Iterable[int] = (), articles: Iterable[int] = ()) -> None:
    """Write the current state of these questions and articles (and any pending ones) to the index.

    Never raises for an index failure: the keys are queued in ``search_pending`` instead.
    """
    wanted = {QUESTION: set(questions), ARTICLE: set(articles)}
    with Session(db.engine) as session:
        pending: dict[str, set[int]] = {kind: set() for kind in BUILDERS}
        for kind, row_id in session.execute(select(SearchPending.kind, SearchPending.id)
                                            .where(SearchPending.kind.in_(list(BUILDERS))).limit(200)):
            pending[kind].add(row_id)
        docs: list[Document] = []
        gone: list[str] = []
        for kind, build in BUILDERS.items():
            kind_docs, kind_gone = build(session, wanted[kind] | pending[kind])
            docs.extend(kind_docs)
            gone.extend(kind_gone)
        try:
            index = get_index()
            if docs:
                index.upsert(docs)
            if gone:
                index.delete(gone)
        except Exception:  # noqa: BLE001 - any index failure must not fail the post
            log.warning("search index write failed for %s; queued for retry",
                        {k: sorted(v) for k, v in wanted.items() if v}, exc_info=True)
            _queue(session, [(kind, i) for kind, ids in wanted.items() for i in ids - pending[kind]])
            session.commit()
            return
        if any(pending.values()):
            for kind, ids in pending.items():
                if ids:
                    session.execute(delete(SearchPending).where(SearchPending.kind == kind, SearchPending.id.in_(ids)))
            session.commit()


def sync_questions(ids: Iterable[int]) -> None:
    """Write the current state of these questions (see `sync`)."""
    sync(questions=ids)


def _queue(session: Session, keys: Iterable[tuple[str, int]]) -> None:
    for kind, row_id in keys:
        if session.get(SearchPending, (kind, row_id)) is None:
            session.add(SearchPending(kind=kind, id=row_id, queued_at=utcnow(), attempts=1))


def rebuild(progress: Callable[[int], None] | None = None) -> int:
    """Replace the whole index with documents built from the database."""
    with Session(db.engine) as session:
        n = get_index().rebuild(all_documents(session), progress=progress)
        session.execute(delete(SearchPending))
        session.commit()
    return n


def check(repair: bool = False) -> dict[str, list[str]]:
    """Compare the index with the database: missing, stale and extra keys (and fix them)."""
    index = get_index()
    stored = index.fingerprints()
    missing, stale = [], []
    with Session(db.engine) as session:
        for doc in all_documents(session):
            fp = stored.pop(doc.key, None)
            if fp is None:
                missing.append(doc.key)
            elif fp != doc.fingerprint():
                stale.append(doc.key)
        extra = sorted(stored)
        if repair:
            for kind, build in BUILDERS.items():
                fix = [int(k.split(":", 1)[1]) for k in missing + stale if k.split(":", 1)[0] == kind]
                for start in range(0, len(fix), 500):
                    docs, _ = build(session, fix[start:start + 500])
                    index.upsert(docs)
            if extra:
                index.delete(extra)
            session.execute(delete(SearchPending))
            session.commit()
    return {"missing": missing, "stale": stale, "extra": extra}


# ---------------------------------------------------------------- session hooks


def _after_flush(session: Session, flush_context: Any) -> None:
    touched: set[int] = session.info.setdefault(TOUCHED, set())
    touched_articles: set[int] = session.info.setdefault(TOUCHED_ARTICLES, set())
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Question):
            touched.add(obj.id)
        elif isinstance(obj, Answer):
            touched.add(obj.question_id)
        elif isinstance(obj, Article):
            touched_articles.add(obj.id)


def _after_commit(session: Session) -> None:
    ids = session.info.pop(TOUCHED, None)
    article_ids = session.info.pop(TOUCHED_ARTICLES, None)
    if (ids or article_ids) and has_app_context() and "search" in current_app.extensions:
        sync(ids or (), article_ids or ())


def init_app(app: Flask) -> None:
    app.extensions["search"] = SearchSync(app)
    after_real_commit("search", _after_flush, _after_commit, (TOUCHED, TOUCHED_ARTICLES))
