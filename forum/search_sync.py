"""Keeps the search index in step with the database.

With ``search_index.py`` (the index handle), the only module that imports both ``forum`` and
``search``. Two sources say which documents a
transaction changed: the domain events (every event with a ``question_id`` re-indexes that
question, `ArticleChanged` that article; this is how atomic SQL UPDATEs such as vote scores
reach the index) and, as a safety net for changes no event announces, the Question, Answer
and Article rows the session flushed. Before the outermost commit the keys are queued in
``search_pending`` inside the writer's own transaction; after the commit their documents are
written from a fresh session and the queue rows deleted. A rollback forgets them. An index
write holds Whoosh's lock from reading the queue to deleting its rows (`sync`), and with
``SEARCH_WRITE_DELAY`` a background thread per process writes the keys of many commits in one
index commit (`DelayedWriter`).

If the index cannot be written (another process holds the Whoosh lock past its timeout, the
disk is full) or the process dies between commit and index write, the post still stands and
its keys stay queued: the next write in any process, the job worker's periodic tick
(`drain`) or ``flask search check`` writes them. Published articles are documents of kind
"article"; drafts and archived ones are removed from the index.

With the PostgreSQL backend (``SEARCH_BACKEND = "postgres"``) the index is tables of the same
database, so none of that is needed: `write_in_transaction` writes the documents inside the
writer's own transaction, just before it commits; they commit or roll back with the write,
and nothing is queued or written after the commit.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from itertools import chain
from typing import Any, cast

from flask import Flask, current_app, has_app_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import (
    Connection,
    Integer,
    Select,
    String,
    bindparam,
    case,
    delete,
    event,
    func,
    inspect,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import InstrumentedAttribute, Session, SessionTransaction, selectinload
from sqlalchemy.sql.elements import BindParameter

from search.document import Document
from search.errors import IndexBusy
from search.index import SearchIndex
from search.postgres import PgSearchIndex

from . import search_index
from .database import after_real_commit
from .events import ArticleChanged, Event
from .extensions import db
from .markup import to_plain_text
from .models import Answer, Article, Question, SearchPending, Tag, User, question_tags
from .models.base import utcnow
from .search_index import get_index
from .stages import stage

log = logging.getLogger(__name__)
#: Keys ``(kind, id)`` the current transaction changed.
TOUCHED = "forum.search.touched"
#: Keys of a transaction that committed, written once its connection is back in the pool.
COMMITTED = "forum.search.committed"
QUESTION = "question"
ARTICLE = "article"
#: Queued keys one sync takes on besides its own.
QUEUE_BATCH = 200
#: Keys per statement (SQLite allows 32,766 bound parameters, PostgreSQL 65,535).
CHUNK = 500
#: A question's document indexes its accepted answer and its best-scored answers, up to this
#: many and this many characters of their text. Every answer rebuilds its thread's document, so
#: without a bound each answer on an incident thread re-read and re-tokenised all the others
#: (the thousandth answer cost 10 ms more CPU than the hundredth). Lucene bounded fields the
#: same way for years (MaxFieldLength, 10,000 terms by default); the count stays exact.
ANSWERS_PER_DOCUMENT = 100
ANSWER_TEXT_BUDGET = 64_000

Key = tuple[str, int]


def needs_rebuild() -> bool:
    """True when the index was built by an older schema or is empty while the database is not."""
    index = get_index()
    if not index.schema_is_current:
        return True
    with Session(db.engine) as session:
        return len(index) == 0 and count_documents(session) > 0


# ---------------------------------------------------------------- documents from rows


@lru_cache(maxsize=1)
def _question_document_queries() -> tuple[Select[*tuple[Any, ...]], Select[*tuple[Any, ...]]]:
    """The two statements of ``_question_documents`` (parameters ``ids``; ``per_document`` and
    ``accepted`` for the second), built once: building
    them costs more CPU than running them, and they run after every post."""
    ids: BindParameter[list[int]] = bindparam("ids", expanding=True)
    questions = (select(Question.id, Question.title, Question.body_html, Question.score, Question.created_at,
                        Question.accepted_answer_id, Question.closed_at, Question.is_visible.label("visible"),
                        User.username)
                 .join(User, User.id == Question.author_id)
                 .where(Question.id.in_(ids)))
    # The stored plain text; the HTML only for rows from before that column (NULL text). Each
    # answer's rank in its thread (best first) and the thread's number of visible answers come
    # from window functions, so only the ANSWERS_PER_DOCUMENT best (and the accepted one) are sent.
    by_thread = Answer.question_id
    answer_rows = (select(literal(0).label("kind"), by_thread.label("qid"), Answer.id.label("rid"),
                          Answer.score.label("score"), literal("").label("name"),
                          Answer.body_text.label("text"), case((Answer.body_text.is_(None), Answer.body_html)).label("html"),
                          func.row_number().over(partition_by=by_thread, order_by=(Answer.score.desc(), Answer.id))
                          .label("rank"),
                          func.count().over(partition_by=by_thread).label("total"))
                   .where(Answer.question_id.in_(ids), Answer.is_visible))
    tag_rows = (select(literal(1), question_tags.c.question_id, Tag.id, literal(0), Tag.name,
                       literal(None, String), literal(None, String), literal(0), literal(0))
                .join(Tag, Tag.id == question_tags.c.tag_id)
                .where(question_tags.c.question_id.in_(ids)))
    both = union_all(answer_rows, tag_rows).subquery()
    # The accepted answers are known from the first statement (parameter ``accepted``).
    kept = or_(both.c.kind == 1, both.c.rank <= bindparam("per_document", type_=Integer),
               both.c.rid.in_(bindparam("accepted", expanding=True)))
    return questions, (select(both).where(kept)
                       .order_by(both.c.kind, both.c.score.desc(), both.c.name, both.c.rid))


def _question_documents(session: Session, ids: Iterable[int]) -> tuple[list[Document], list[str]]:
    """Documents for the visible questions among ``ids`` and keys of those to drop.

    Two statements, of plain columns (no ORM rows: building a document after every post is
    on the write path): the questions with their authors' names, then their visible answers
    and their tags in one UNION ALL (kind 0 an answer, best first; kind 1 a tag, by name).
    The answers field holds the ANSWERS_PER_DOCUMENT best answers, up to ANSWER_TEXT_BUDGET
    characters; ``answer_count`` counts every visible answer.
    """
    ids = sorted(set(ids))
    if not ids:
        return [], []
    question_rows, answer_and_tag_rows = _question_document_queries()
    rows = session.execute(question_rows, {"ids": ids}).all()
    answers: dict[int, list[str]] = {}
    budget: dict[int, int] = {}
    counts: dict[int, int] = {}
    accepted: dict[int, str] = {}
    tags: dict[int, list[str]] = {}
    accepted_ids = {q.accepted_answer_id for q in rows if q.accepted_answer_id}
    for kind, question_id, row_id, _score, name, body_text, body_html, _rank, total in session.execute(
            answer_and_tag_rows, {"ids": ids, "per_document": ANSWERS_PER_DOCUMENT, "accepted": sorted(accepted_ids)}):
        if kind == 1:
            tags.setdefault(question_id, []).append(name)
            continue
        counts[question_id] = total
        if row_id not in accepted_ids and budget.get(question_id, 0) >= ANSWER_TEXT_BUDGET:
            continue  # past the budget: not read, not tokenised
        text = body_text if body_text is not None else to_plain_text(body_html)
        if row_id in accepted_ids:
            # The accepted answer gets its own, higher-weighted field instead.
            accepted[question_id] = text
        else:
            answers.setdefault(question_id, []).append(text[:ANSWER_TEXT_BUDGET - budget.get(question_id, 0)])
            budget[question_id] = budget.get(question_id, 0) + len(text)
    docs, gone = [], []
    found = set()
    for q in sorted(rows, key=lambda r: r.id):
        found.add(q.id)
        if not q.visible:
            gone.append(f"{QUESTION}:{q.id}")
            continue
        texts = answers.get(q.id, [])
        solution = accepted.get(q.id, "")
        docs.append(Document(
            kind=QUESTION, id=q.id, title=q.title, body=to_plain_text(q.body_html),
            answers="\n".join(texts), accepted=solution, tags=tuple(tags.get(q.id, ())),
            author=q.username, status="closed" if q.closed_at is not None else "open", solved=bool(solution),
            score=q.score, answer_count=counts.get(q.id, 0), created=q.created_at,
        ))
    gone.extend(f"{QUESTION}:{i}" for i in ids if i not in found)
    return docs, gone


def _article_documents(session: Session, ids: Iterable[int]) -> tuple[list[Document], list[str]]:
    """Documents for the published articles among ``ids`` and keys of the others to drop."""
    ids = sorted(set(ids))
    if not ids:
        return [], []
    rows = list(session.scalars(select(Article).where(Article.id.in_(ids))
                                .options(selectinload(Article.tags), selectinload(Article.author))))
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


def _live_ids(kind: str) -> tuple[Select[int], InstrumentedAttribute[int]]:
    """A select of the ids that belong in the index for ``kind``, and its id column."""
    if kind == ARTICLE:
        return select(Article.id).where(Article.state == "published"), Article.id
    return select(Question.id).where(Question.is_visible), Question.id


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


def sync(questions: Iterable[int] = (), articles: Iterable[int] = (), *, wait: bool = True) -> int:
    """Write the queued keys among these questions and articles, and up to QUEUE_BATCH other
    queued keys, to the index in one commit; returns how many queue rows that settled (deleted).

    Every key a transaction changed was queued in ``search_pending`` before it committed
    (``_before_commit``), so a key named here that is no longer queued was already written by
    another process, from a read made after this transaction committed: it is skipped.

    The index's write lock is held from the queue read to the settling commit: the documents
    are built from what the database holds once the previous writer finished, so an older
    version of a document never overwrites a newer one (two processes building documents
    before waiting for the lock could otherwise commit them in the wrong order).

    Never raises for an index or database failure: the keys stay queued for the next write,
    the job worker's tick (`drain`) or ``flask search check``. With ``wait=False`` it does not
    wait for another process's index write, and raises IndexBusy instead (the delayed writer
    tries again later: the writer holding the lock is likely to write these keys meanwhile).
    """
    wanted: set[Key] = {(QUESTION, i) for i in questions} | {(ARTICLE, i) for i in articles}
    with stage("index"):
        try:
            return _write_queued(wanted, None if wait else 0.0)
        except IndexBusy:
            if not wait:
                raise
            log.warning("search index busy; %s left queued for retry", sorted(wanted))
            return 0
        except Exception:
            log.warning("search index write failed for %s; left queued for retry", sorted(wanted), exc_info=True)
            return 0


def _write_queued(wanted: set[Key], timeout: float | None) -> int:
    index = get_index()
    if not isinstance(index, SearchIndex):
        # The PostgreSQL backend writes documents in the writer's own transaction
        # (`write_in_transaction`): nothing is queued for it.
        return 0
    with index.batch(timeout) as batch, Session(db.engine) as session:
        queued = _read_queue(session, wanted)
        if not queued:
            return 0
        for kind, build in BUILDERS.items():
            docs, gone = build(session, [i for k, i in queued if k == kind])
            batch.upsert(docs)
            batch.delete(gone)
        batch.commit()
        done = _settle(session, queued)
        session.commit()
        return done


def _settle(session: Session, queued: dict[Key, int]) -> int:
    """Delete the queue rows that no write has queued again since they were read; returns how many.

    On PostgreSQL the rows are first locked in key order (``SELECT ... ORDER BY ... FOR UPDATE``):
    writers queue (and so lock) keys in that order too, so this delete and a concurrent
    writer's queue statement cannot deadlock. Two statements per CHUNK keys, not one per key.
    SQLite has one writer at a time: no row locks to order.
    """
    done = 0
    postgres = session.get_bind().dialect.name == "postgresql"
    for chunk in _chunks(sorted(queued.items())):
        if postgres:
            session.execute(select(SearchPending.kind).where(
                tuple_(SearchPending.kind, SearchPending.id).in_([key for key, _ in chunk]))
                .order_by(SearchPending.kind, SearchPending.id).with_for_update())
        result = cast(CursorResult[Any], session.execute(delete(SearchPending).where(
            tuple_(SearchPending.kind, SearchPending.id, SearchPending.attempts).in_(
                [(kind, row_id, attempts) for (kind, row_id), attempts in chunk]))))
        done += result.rowcount
    return done


def _chunks(items: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    batch = list(items)
    for start in range(0, len(batch), size):
        yield batch[start:start + size]


def _read_queue(session: Session, wanted: set[Key]) -> dict[Key, int]:
    """The queue rows to settle now, with the ``attempts`` each had when read.

    Read before the rows the documents are built from: a write committing after this read
    has bumped its row's ``attempts``, so the delete after the index write leaves that row
    for the next sync. Normally one query (the oldest QUEUE_BATCH rows, this write's own among
    them); behind a longer backlog this write's own rows are read as well, so a big write (a
    bulk import) does not leave its rows to be indexed a second time later.
    """
    columns = select(SearchPending.kind, SearchPending.id, SearchPending.attempts)
    queued: dict[Key, int] = {
        (kind, row_id): attempts for kind, row_id, attempts in session.execute(
            columns.where(SearchPending.kind.in_(list(BUILDERS))).order_by(SearchPending.queued_at).limit(QUEUE_BATCH))}
    if len(queued) == QUEUE_BATCH:
        for kind in BUILDERS:
            for chunk in _chunks(i for k, i in wanted - set(queued) if k == kind):
                queued.update(((k, i), attempts) for k, i, attempts in session.execute(
                    columns.where(SearchPending.kind == kind, SearchPending.id.in_(chunk))))
    return queued


def drain() -> int:
    """Write every queued key (QUEUE_BATCH at a time) to the index; returns how many.

    The job worker's periodic tick calls it, so keys left by a failed index write or a
    process killed between commit and index write are written without waiting for the next
    post. Stops early when the index cannot be written (the keys stay queued).
    """
    total = 0
    while True:
        written = sync()
        total += written
        if written < QUEUE_BATCH:
            return total


def enqueue(connection: Connection, keys: Iterable[Key]) -> None:
    """Queue ``keys`` in ``search_pending`` on ``connection`` (one statement per CHUNK keys).

    A key already queued has its ``attempts`` bumped instead, so two writers queuing the same
    key both succeed (``ON CONFLICT``, SQLite and PostgreSQL alike) and a sync that read the
    older row does not delete the newer one. Keys are sorted so concurrent writers take the
    rows' locks in the same order.
    """
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    for chunk in _chunks(sorted(set(keys))):
        stmt = insert(SearchPending).values([{"kind": kind, "id": row_id, "queued_at": now, "attempts": 1}
                                             for kind, row_id in chunk])
        connection.execute(stmt.on_conflict_do_update(
            index_elements=[SearchPending.kind, SearchPending.id], set_={"attempts": SearchPending.attempts + 1}))


def rebuild(progress: Callable[[int], None] | None = None) -> int:
    """Replace the whole index with documents built from the database."""
    with Session(db.engine) as session:
        queued = _all_queued(session)
        n = get_index().rebuild(all_documents(session), progress=progress)
        _settle(session, queued)
        session.commit()
    return n


def _all_queued(session: Session) -> dict[Key, int]:
    # Read before the documents, like `_read_queue`: keys a write queues meanwhile stay queued.
    return {(kind, row_id): attempts for kind, row_id, attempts in
            session.execute(select(SearchPending.kind, SearchPending.id, SearchPending.attempts))}


def check(repair: bool = False) -> dict[str, list[str]]:
    """Compare the index with the database: missing, stale and extra keys (and fix them)."""
    index = get_index()
    missing, stale = [], []
    with Session(db.engine) as session:
        queued = _all_queued(session)
        stored = index.fingerprints()
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
            _settle(session, queued)
            session.commit()
    return {"missing": missing, "stale": stale, "extra": extra}


# ---------------------------------------------------------------- session hooks and events


def _touched(session: Session) -> set[Key]:
    keys: set[Key] = session.info.setdefault(TOUCHED, set())
    return keys


def note(event: Event) -> None:
    """In-transaction subscriber to every domain event: its question (or article) is re-indexed
    after the commit. Events are what carry changes made by SQL UPDATEs (vote scores, counters)
    that the session's flush never sees."""
    touched = _touched(db.session())
    if event.question_id is not None:
        touched.add((QUESTION, event.question_id))
    if isinstance(event, ArticleChanged):
        touched.add((ARTICLE, event.article_id))


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    # Answers' plain text is extracted once, when their HTML is written (see Answer.body_text).
    for obj in chain(session.new, session.dirty):
        if isinstance(obj, Answer) and (obj in session.new or inspect(obj).attrs.body_html.history.has_changes()):
            obj.body_text = to_plain_text(obj.body_html)


def _after_flush(session: Session, flush_context: Any) -> None:
    # The safety net: rows changed through the ORM, whether or not an event announced them.
    touched = _touched(session)
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Question):
            touched.add((QUESTION, obj.id))
        elif isinstance(obj, Answer):
            touched.add((QUESTION, obj.question_id))
        elif isinstance(obj, Article):
            touched.add((ARTICLE, obj.id))


def _before_commit(session: Session) -> None:
    # Queue the keys inside the writer's transaction (one statement), so they commit with the
    # write: a process that dies before the index write leaves them for someone to repair.
    if session.in_nested_transaction():
        return
    session.flush()
    keys = session.info.get(TOUCHED)
    if keys:
        if _index_in_database():
            write_in_transaction(session, keys)
            session.info.pop(TOUCHED, None)
        else:
            enqueue(session.connection(), keys)


def _index_in_database() -> bool:
    return has_app_context() and "search" in current_app.extensions and search_index.get_handle().in_database


def write_in_transaction(session: Session, keys: Iterable[Key]) -> None:
    """PostgreSQL backend: write the documents of ``keys`` in ``session``'s transaction.

    The documents' advisory locks are taken first, so a concurrent writer of the same question
    waits here until this one commits and then builds its documents from rows that include
    this one's (READ COMMITTED reads what committed before each statement): the last commit
    writes the complete document. They are built by a second, read-only session on the same
    connection, whose fresh identity map reads the rows as the transaction holds them,
    counters moved by SQL UPDATEs included.

    Raises:
        SearchError: the search tables are missing or the write failed; the commit fails with
            it, so the write and its index entry stand or fall together.
    """
    index = cast(PgSearchIndex, get_index())
    connection = session.connection()
    wanted = sorted(set(keys))
    index.lock(connection, [f"{kind}:{row_id}" for kind, row_id in wanted])
    docs: list[Document] = []
    gone: list[str] = []
    with Session(bind=connection) as reader:
        for kind, build in BUILDERS.items():
            kind_docs, kind_gone = build(reader, [i for k, i in wanted if k == kind])
            docs.extend(kind_docs)
            gone.extend(kind_gone)
    index.upsert(docs, connection=connection)
    index.delete(gone, connection=connection)


def _after_commit(session: Session) -> None:
    # The transaction's connection is still checked out here: the index write waits for
    # after_transaction_end, once it is back in the pool, so a request never holds two
    # connections (thirty threads voting at once would otherwise exhaust the pool).
    keys: set[Key] | None = session.info.pop(TOUCHED, None)
    if keys:
        session.info.setdefault(COMMITTED, set()).update(keys)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    keys: set[Key] | None = session.info.pop(COMMITTED, None)
    if keys and has_app_context() and "search" in current_app.extensions:
        delay = float(current_app.config.get("SEARCH_WRITE_DELAY") or 0)
        if delay > 0:
            _delayed_writer(current_app._get_current_object(), delay).add(keys)  # type: ignore[attr-defined]
            return
        try:
            sync([i for k, i in keys if k == QUESTION], [i for k, i in keys if k == ARTICLE])
        except Exception:
            log.exception("search sync failed after commit for %s", sorted(keys))


# ---------------------------------------------------------------- coalesced writes (SEARCH_WRITE_DELAY)


class DelayedWriter:
    """A background thread that writes the keys of many commits in one index commit.

    With ``SEARCH_WRITE_DELAY`` > 0 a commit hands its keys here instead of writing the index
    itself: the thread waits until the first waiting key is ``delay`` seconds old, then writes
    every key gathered meanwhile (and up to QUEUE_BATCH other queued ones) with one `sync`.
    A Whoosh commit costs about the same for one document as for fifty, so under load this
    turns one commit per post into one per batch; a request no longer waits for the index
    lock either. The price: a post shows up in search up to ``delay`` (plus one write) later.

    Nothing is lost if the process dies meanwhile: the keys were queued in ``search_pending``
    with the post's own commit, and the next write in any process, the job worker's tick or
    ``flask search check`` writes them. One writer per process (started after a fork, lazily).
    """

    def __init__(self, app: Flask, delay: float) -> None:
        self.app, self.delay = app, delay
        self._keys: set[Key] = set()
        self._since = 0.0
        self._busy = False
        self._cond = threading.Condition()
        self._pid = 0

    def add(self, keys: Iterable[Key]) -> None:
        with self._cond:
            if self._pid != os.getpid():  # first use in this process (or a forked copy)
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="search-writer", daemon=True).start()
            if not self._keys:
                self._since = time.monotonic()
            self._keys.update(keys)
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._keys:
                    self._cond.wait()
                wait = self._since + self.delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)  # let more commits join this write
            with self._cond:
                keys, self._keys, self._busy = self._keys, set(), True
            try:
                with self.app.app_context():
                    sync([i for k, i in keys if k == QUESTION], [i for k, i in keys if k == ARTICLE], wait=False)
            except IndexBusy:
                # Another process is writing, probably these keys too (they are queued): try
                # again after the delay rather than queue up on the lock behind every writer.
                with self._cond:
                    if not self._keys:
                        self._since = time.monotonic()
                    self._keys.update(keys)
            except Exception:  # sync itself never raises otherwise; this is the app context failing
                log.exception("delayed search write failed for %s", sorted(keys))
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every key handed over so far is written; False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._keys or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True


_writers_lock = threading.Lock()


def _delayed_writer(app: Flask, delay: float) -> DelayedWriter:
    with _writers_lock:
        writer = app.extensions.get("search_writer")
        if writer is None:
            writer = app.extensions["search_writer"] = DelayedWriter(app, delay)
            atexit.register(writer.flush, 5.0)  # a worker stopping gracefully writes what it holds
        return cast(DelayedWriter, writer)


def flush_delayed(timeout: float = 30.0) -> bool:
    """Wait until this app's delayed writer (if any) has written every key handed to it."""
    writer = current_app.extensions.get("search_writer")
    return True if writer is None else cast(DelayedWriter, writer).flush(timeout)


def init_app(app: Flask) -> None:
    """Open the index lazily for ``app`` and hook the session (once per process).

    The event subscriber (`note`) is wired in ``forum/subscribers.py``.
    """
    search_index.init_app(app)
    after_real_commit("search", _after_flush, _after_commit, (TOUCHED,))
    if not event.contains(FlaskSession, "before_commit", _before_commit):
        event.listen(FlaskSession, "before_flush", _before_flush)
        event.listen(FlaskSession, "before_commit", _before_commit)
        event.listen(FlaskSession, "after_transaction_end", _after_transaction_end)
