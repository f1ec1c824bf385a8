"""Several processes writing one on-disk index at once (gunicorn workers)."""

from __future__ import annotations

import multiprocessing
import threading
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from search.document import Document
from search.index import SearchIndex

WORKERS = 4
DOCS_EACH = 25


def _worker(path: str, worker: int, barrier: Any, errors: Any) -> None:
    """Upsert DOCS_EACH documents in batches of 5, starting together with the others."""
    try:
        index = SearchIndex.open(path, write_timeout=60)
        docs = [
            Document(kind="question", id=worker * 1000 + n, title=f"worker {worker} post {n}",
                     body="written concurrently", created=datetime(2024, 1, 1, tzinfo=timezone.utc))
            for n in range(DOCS_EACH)
        ]
        barrier.wait(timeout=60)
        for start in range(0, DOCS_EACH, 5):
            index.upsert(docs[start:start + 5])
        index.close()
    except BaseException:  # report everything, including IndexBusy, to the parent
        errors.put(f"worker {worker}: {traceback.format_exc()}")
        raise


def test_four_processes_upserting_at_once_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "index")
    SearchIndex.open(path).close()  # create it first, as the app factory would
    ctx = multiprocessing.get_context("spawn")
    barrier, errors = ctx.Barrier(WORKERS), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(path, w, barrier, errors)) for w in range(WORKERS)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    reported = []
    while not errors.empty():
        reported.append(errors.get())
    assert not reported, "\n".join(reported)
    assert [proc.exitcode for proc in procs] == [0] * WORKERS
    index = SearchIndex.open(path)
    assert len(index) == WORKERS * DOCS_EACH
    assert index.search("concurrently", per_page=100).total == WORKERS * DOCS_EACH
    assert len(index.fingerprints()) == WORKERS * DOCS_EACH
    index.close()


def test_processes_creating_a_missing_index_at_once_share_one(tmp_path: Path) -> None:
    path = str(tmp_path / "fresh")  # nobody creates it beforehand this time
    ctx = multiprocessing.get_context("spawn")
    barrier, errors = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(path, w, barrier, errors)) for w in range(2)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert errors.empty() and [p.exitcode for p in procs] == [0, 0]
    index = SearchIndex.open(path)
    assert len(index) == 2 * DOCS_EACH
    index.close()


def test_threads_sharing_one_index_can_search_while_another_writes(tmp_path: Path) -> None:
    index = SearchIndex.open(tmp_path)
    failures: list[BaseException] = []

    def write() -> None:
        try:
            for n in range(20):
                index.upsert([Document(kind="question", id=n, title=f"thread post {n}",
                                       body="x", created=datetime(2024, 1, 1))])
        except BaseException as exc:  # noqa: BLE001  # pragma: no cover - reported below
            failures.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    while writer.is_alive():
        index.search("thread post")
    writer.join()
    assert not failures and index.search("thread").total == 20
    index.close()
