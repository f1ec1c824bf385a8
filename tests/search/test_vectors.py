"""Vector stores beside the search index (SQLite side store, PostgreSQL table) and re-ranking.

The store contract runs on both; the re-ranking test needs the packaged model (see
test_semantic.py: skipped without it, a failure under CI=true).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from search import semantic
from search.document import Document
from search.index import SearchIndex
from search.results import Hit
from search.vectors import PgVectorStore, SqliteVectorStore, VectorRow, VectorStore, rerank, stale, vectors_for
from tests.search.test_semantic import encoder  # noqa: F401 - the module-scoped fixture
from tests.support import pg_url_or_skip

WHEN = datetime(2024, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    opened: VectorStore
    if request.param == "sqlite":
        opened = SqliteVectorStore.beside(tmp_path)
    else:
        opened = PgVectorStore.open(pg_url_or_skip())
    opened.clear()
    yield opened
    opened.clear()
    opened.close()


def _row(key: str, fp: str, value: float, answers: bool = True) -> VectorRow:
    return VectorRow(key, fp, semantic.pack([value, 0.0]), semantic.pack([value, 1.0]),
                     semantic.pack([1.0, value]) if answers else None)


def test_a_store_keeps_rows_by_key(store: VectorStore) -> None:
    store.put([_row("question:1", "a", 1.0), _row("question:2", "b", 0.5, answers=False)])
    store.put([_row("question:1", "c", 0.25)])  # replaced
    got = store.get(["question:1", "question:2", "question:3"])
    assert set(got) == {"question:1", "question:2"}
    assert got["question:1"].fingerprint == "c" and list(semantic.unpack(got["question:1"].title)) == [0.25, 0.0]
    assert got["question:2"].answers is None
    assert store.fingerprints() == {"question:1": "c", "question:2": "b"}
    store.delete(["question:2", "question:9"])
    assert store.fingerprints() == {"question:1": "c"}


def test_stale_lists_missing_old_and_orphaned_vectors() -> None:
    index = {"question:1": "a", "question:2": "b", "question:3": "c"}
    vectors = {"question:1": "a", "question:2": "old", "article:7": "x"}
    assert stale(index, vectors) == (["question:2", "question:3"], ["article:7"])


def test_rerank_falls_back_to_bm25_order_without_vectors(store: VectorStore) -> None:
    hits = [Hit("question", 1, 3.0, "", ""), Hit("question", 2, 1.0, "", "")]
    assert rerank(hits, [1.0, 0.0], store, semantic.TITLE_WEIGHTS) == hits


def test_vectors_written_then_a_paraphrase_is_lifted_on_both_stores(store: VectorStore, encoder: Any) -> None:  # noqa: F811
    docs = [
        Document(kind="question", id=1, title="Laptop does not turn on", body="Black screen when I press power.",
                 created=WHEN),
        Document(kind="question", id=2, title="How to turn on dark mode on my laptop", body="Settings menu?",
                 created=WHEN),
        Document(kind="question", id=3, title="Notebook won't power up after update", body="No lights, no fan.",
                 accepted="Hold the power button for 30 seconds.", created=WHEN),
    ]
    rows = vectors_for(docs, encoder)
    assert [r.answers is not None for r in rows] == [False, False, True]
    assert all(len(r.full) == 384 * 4 for r in rows)
    store.put(rows)
    assert stale({d.key: semantic.vector_fingerprint(d, encoder.manifest.name) for d in docs},
                 store.fingerprints()) == ([], [])

    index = SearchIndex.open(None)
    index.upsert(docs)
    typed = "my laptop will not turn on"
    hits = index.similar(typed, limit=10)
    assert hits[0].key in ("question:1", "question:2")
    fused = rerank(hits, encoder.encode([typed])[0].tolist(), store, semantic.TITLE_WEIGHTS)
    assert fused[0].key == "question:1"
    order = [h.key for h in fused]
    assert order.index("question:2") == len(order) - 1  # words alike, meaning not
    index.close()


def test_cosines_of_packed_vectors_match_the_plain_python_ones() -> None:
    pytest.importorskip("numpy")
    from search.vectors import _cosines

    blobs = {"a": semantic.pack([1.0, 0.0, 2.0]), "b": semantic.pack([0.0, 0.0, 0.0]), "c": semantic.pack([-1.0, 3.0, 0.5])}
    query = [0.5, 1.0, -1.0]
    got = _cosines(query, blobs)
    assert got == pytest.approx({k: semantic.cosine(query, semantic.unpack(b)) for k, b in blobs.items()}, abs=1e-6)
    assert _cosines(query, {}) == {}
