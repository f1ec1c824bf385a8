"""Vectors at write time, off the request, and related questions fused with them.

Every flushed Question or Answer row notes its question, every Article row its article. After the real commit the noted ids
go to the job queue (an RQ job with Redis; without it, a background thread of the process,
`InlineWriter`: the job uses the ORM session, which the committing session's own hook must not
reuse), whose job (`write_vectors`) builds the questions' search documents, encodes those whose texts changed
(`search.semantic.vector_fingerprint`: a vote changes no text and costs no encoding), stores
the vectors beside the index (`search_index.IndexHandle.vectors`), and recomputes each written
question's related list with them (`services.related.refresh_related` with the question's own
stored vector: no encoding of a query; and puts it into its neighbours' lists), so a thread
page reads a fused list and encodes nothing.

`check` and `rebuild` (for `flask search check` / `rebuild`) compare and recompute every vector.
Nothing happens when meaning is off (no extra, no model, `SEMANTIC_SEARCH = False`).

With the encoding service (EMBEDDING_SERVICE) the job encodes through it; when it is down the
job writes nothing and runs again later (`RETRY_DELAYS`: through RQ's scheduler with Redis, a
timer of the background writer without), then leaves the rest to `flask search check`, as for
any other failed job.
"""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable
from datetime import timedelta
from itertools import chain
from typing import Any, cast

from flask import Flask, current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from search import semantic
from search.document import Document
from search.encoding_service import EncoderUnavailable
from search.vectors import VectorStore, stale, vectors_for

from . import jobs, search_index, search_sync
from .database import after_real_commit
from .extensions import db
from .models import Answer, Article, Question
from .services import related

log = logging.getLogger(__name__)

NOTED = "semantic_keys"
JOB = "forum.semantic_sync.write_vectors"
BATCH = 64
#: Seconds before each new try of a write the encoding service was down for (about 38 minutes in
#: all); after the last, `flask search check` computes what is still missing.
RETRY_DELAYS = (30, 60, 120, 300, 600, 1200)


def _on() -> bool:
    return has_app_context() and "search" in current_app.extensions and search_index.get_handle().semantic


def _collect(session: Session, flush_context: Any) -> None:
    if not _on():
        return
    noted: set[str] = session.info.setdefault(NOTED, set())
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Question) and obj.id is not None:
            noted.add(f"{search_sync.QUESTION}:{obj.id}")
        elif isinstance(obj, Answer) and obj.question_id is not None:
            noted.add(f"{search_sync.QUESTION}:{obj.question_id}")
        elif isinstance(obj, Article) and obj.id is not None:
            noted.add(f"{search_sync.ARTICLE}:{obj.id}")


class InlineWriter:
    """Without Redis: one daemon thread per app and process runs `write_vectors` in the app's
    context, in the order the commits handed their ids over."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.queue: queue.Queue[tuple[list[str], int]] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def add(self, keys: list[str], attempt: int = 0) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="forum-vectors", daemon=True)
                self.thread.start()
        self.queue.put((keys, attempt))

    def later(self, keys: list[str], attempt: int, seconds: float) -> None:
        """Hand `keys` over again in `seconds` (a retry; `flush` does not wait for it)."""
        timer = threading.Timer(seconds, self.add, (keys, attempt))
        timer.daemon = True
        timer.start()

    def _run(self) -> None:
        while True:
            keys, attempt = self.queue.get()
            try:
                with self.app.app_context():
                    try:
                        write_vectors(keys, attempt)
                    finally:
                        db.session.remove()
            except Exception:
                log.exception("vectors of %s not written; `flask search check` will compute them", keys)
            finally:
                self.queue.task_done()

    def flush(self) -> None:
        """Wait until every handed-over key is written (tests, shutdown)."""
        self.queue.join()


def _inline_writer(app: Flask) -> InlineWriter:
    writer = app.extensions.get("semantic_writer")
    if writer is None:
        writer = app.extensions.setdefault("semantic_writer", InlineWriter(app))
    return cast(InlineWriter, writer)


def flush() -> None:
    """Wait for this app's background vector writes (no-op with Redis or when none started)."""
    writer = current_app.extensions.get("semantic_writer")
    if writer is not None:
        cast(InlineWriter, writer).flush()


def _after_commit(session: Session) -> None:
    """Without Redis: hand the noted keys to the background writer (with Redis, `_commit_jobs` does)."""
    if _on() and jobs.get_jobs().queue is not None:
        return  # forum.jobs' own after-commit hook queues them with the mail, in one round trip
    keys: set[str] | None = session.info.pop(NOTED, None)
    if keys and _on():
        try:
            _inline_writer(current_app._get_current_object()).add(sorted(keys))  # type: ignore[attr-defined]
        except Exception:
            log.exception("vectors of %s not queued; `flask search check` will compute them", sorted(keys))


def _commit_jobs(session: Session) -> list[jobs.CommitJob]:
    """With Redis, after the real commit: the job of the noted keys (`jobs.add_commit_jobs`)."""
    if not _on():
        return []  # `_after_commit` forgets the keys
    keys: set[str] | None = session.info.pop(NOTED, None)
    if not keys:
        return []
    wanted = sorted(keys)
    return [jobs.CommitJob(JOB, (wanted,), f"vectors of {wanted} not queued; `flask search check` will compute them")]


def _ids(keys: Iterable[str], kind: str) -> list[int]:
    return [int(k.split(":", 1)[1]) for k in keys if k.split(":", 1)[0] == kind]


def write_vectors(keys: list[str], attempt: int = 0) -> int:
    """Job: compute and store the vectors of these documents ("question:12", "article:3") whose
    texts changed, drop those no longer indexed, and refresh the related lists of the written
    questions with them. Returns how many were encoded (0 when meaning is off).

    When the encoding service is down nothing is written and the job is run again later
    (`attempt` counts the tries, `RETRY_DELAYS`).
    """
    found = search_index.meaning(bulk=True)
    if found is None:
        return 0
    try:
        return _write_vectors(keys, *found)
    except EncoderUnavailable as error:
        _retry_later(keys, attempt, error)
        return 0


def _retry_later(keys: list[str], attempt: int, error: EncoderUnavailable) -> None:
    """Run the job for `keys` again after the next of `RETRY_DELAYS`, or give up to `flask search check`."""
    if attempt >= len(RETRY_DELAYS):
        log.warning("vectors of %s not written after %d tries (%s); `flask search check` will compute them",
                    keys, attempt + 1, error)
        return
    delay = RETRY_DELAYS[attempt]
    log.warning("vectors of %s not written (%s); trying again in %d s", keys, error, delay)
    if jobs.get_jobs().queue is None:
        _inline_writer(current_app._get_current_object()).later(keys, attempt + 1, delay)  # type: ignore[attr-defined]
    else:
        jobs.enqueue(JOB, keys, attempt + 1, delay=timedelta(seconds=delay))


def _write_vectors(keys: list[str], encoder: semantic.SentenceEncoder, store: VectorStore) -> int:
    """`write_vectors`' work. Raises EncoderUnavailable (before writing anything) when the service fails."""
    questions, articles = _ids(keys, search_sync.QUESTION), _ids(keys, search_sync.ARTICLE)
    # The index write of the same commit may still be under way in the committing process: do it
    # (or wait for it) first, so the related lists below see these questions' documents.
    search_sync.sync(questions, articles)
    docs: list[Document] = []
    gone: list[str] = []
    with Session(db.engine) as session:
        for kind, ids in ((search_sync.QUESTION, questions), (search_sync.ARTICLE, articles)):
            kind_docs, kind_gone = search_sync.BUILDERS[kind](session, ids)
            docs += kind_docs
            gone += kind_gone
    current = store.get(d.key for d in docs)
    model = encoder.manifest.name
    changed = [d for d in docs if (row := current.get(d.key)) is None
               or row.fingerprint != semantic.vector_fingerprint(d, model)]
    rows = vectors_for(changed, encoder) if changed else []
    store.put(rows)
    store.delete(gone)
    fresh = {r.key: r for r in rows} | {k: r for k, r in current.items() if k not in {r.key for r in rows}}
    for doc in changed:
        if doc.kind == search_sync.QUESTION:
            vector = list(semantic.unpack(fresh[doc.key].full))
            related.refresh_related(doc.id, both_ways=True, query_vector=vector)
    db.session.commit()
    return len(rows)


def check(repair: bool = False, progress: Callable[[int], None] | None = None) -> dict[str, list[str]]:
    """Compare the stored vectors with the documents the database gives: ``{"missing": keys
    without current vectors (none yet, or computed from older texts), "extra": vectors of keys
    no longer indexed}``; with `repair`, compute the missing ones (in batches, calling
    `progress` with the count done) and drop the extra. Empty lists when meaning is off.

    Raises:
        EncoderUnavailable: the encoding service is down (what was repaired before stays stored).
    """
    found = search_index.meaning(bulk=True)
    if found is None:
        return {"missing": [], "extra": []}
    encoder, store = found
    model = encoder.manifest.name
    with Session(db.engine) as session:
        docs = {d.key: d for d in search_sync.all_documents(session)}
    missing, extra = stale({k: semantic.vector_fingerprint(d, model) for k, d in docs.items()}, store.fingerprints())
    if repair:
        for start in range(0, len(missing), BATCH):
            store.put(vectors_for([docs[k] for k in missing[start:start + BATCH]], encoder))
            if progress is not None:
                progress(min(start + BATCH, len(missing)))
        store.delete(extra)
    return {"missing": missing, "extra": extra}


def rebuild(progress: Callable[[int], None] | None = None) -> int:
    """Recompute every question's vectors (after `flask search rebuild`), then every related
    list with them; returns how many questions were encoded.

    Raises:
        EncoderUnavailable: the encoding service is down.
    """
    found = search_index.meaning(bulk=True)
    if found is None:
        return 0
    encoder, store = found
    _ = encoder.manifest.name  # with the encoding service: fail while every vector is still there
    store.clear()
    report = check(repair=True, progress=progress)
    ids = list(db.session.scalars(select(Question.id).where(Question.is_visible).order_by(Question.id)))
    for n, qid in enumerate(ids, 1):
        vector = store.get([f"{search_sync.QUESTION}:{qid}"]).get(f"{search_sync.QUESTION}:{qid}")
        related.refresh_related(qid, query_vector=list(semantic.unpack(vector.full)) if vector else None)
        if n % 500 == 0:
            db.session.commit()
    db.session.commit()
    return len(report["missing"])


def refreshed_ids(question_ids: Iterable[int]) -> list[int]:
    """The ids of `question_ids` whose vectors are stored (tests, tools)."""
    found = search_index.meaning(bulk=True)
    if found is None:
        return []
    keys = {f"{search_sync.QUESTION}:{i}": i for i in question_ids}
    return sorted(keys[k] for k in found[1].get(keys))


def init_app(app: Flask) -> None:
    """Hook the session (once per process); the job runs through `forum.jobs`."""
    after_real_commit("semantic", _collect, _after_commit, (NOTED,))
    jobs.add_commit_jobs(_commit_jobs)
