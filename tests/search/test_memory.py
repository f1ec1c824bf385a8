"""What a search process keeps in memory: no copy of the index, caches within their budget.

Each gunicorn worker opens the index itself; anything held per searcher is held per worker,
and again for the new searcher opened after every commit. Allocations are counted with
tracemalloc (Python's own allocator, where Whoosh's per-reader copies of segment files used
to land), so the checks do not depend on what else runs on the machine.
"""

from __future__ import annotations

import gc
import os
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from whoosh.filedb.filestore import FileStorage

import search.index as search_index
from search.files import PreadStorage
from search.index import SearchIndex
from tools.search.synthetic import SyntheticForum

pytestmark = pytest.mark.slow  # an 8 MB on-disk index, searches under tracemalloc: ~20 s

DOCS = 2_000


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An on-disk index of 2,000 synthetic posts (about 8 MB)."""
    path = tmp_path_factory.mktemp("memory-index")
    index = SearchIndex.open(path)
    index.rebuild(SyntheticForum(7).documents(DOCS))
    index.close()
    return path


@pytest.fixture(scope="module")
def queries() -> list[str]:
    return SyntheticForum(8).queries(150)


def _index_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir() if f.is_file())


@pytest.fixture
def traced() -> Iterator[None]:
    gc.collect()
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


def _traced_now() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def test_searchers_read_the_index_without_copying_it(index_dir: Path, queries: list[str], traced: None) -> None:
    # Five processes' worth of searchers, all alive at once (as the old and the new searcher
    # are around a commit): together they may hold a fraction of the index, not copies of it.
    size = _index_bytes(index_dir)
    assert size > 4_000_000  # big enough for a copy to stand out from the readers' own objects
    before = _traced_now()
    tracemalloc.reset_peak()
    # A small posting cache each, so that what is measured is the searchers themselves.
    opened = [SearchIndex.open(index_dir, cache_budget=256 * 1024) for _ in range(5)]
    for index in opened:
        for query in queries[:20]:
            index.search(query)
        assert len(index) == DOCS
    held = _traced_now() - before
    peak = tracemalloc.get_traced_memory()[1] - before
    for index in opened:
        index.close()
    assert held < size / 2, f"5 searchers hold {held:,} bytes of Python memory for a {size:,}-byte index"
    assert peak < size, f"5 searchers peaked at {peak:,} bytes for a {size:,}-byte index"


def test_whoosh_file_storage_would_copy_the_index(index_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                  traced: None) -> None:
    # The check above can fail: with Whoosh's own FileStorage (mmap, then a BytesIO per part)
    # one searcher alone holds about the whole index.
    monkeypatch.setattr(search_index, "PreadStorage", FileStorage)
    before = _traced_now()
    index = SearchIndex.open(index_dir)
    index.search("printer")
    held = _traced_now() - before
    index.close()
    assert held > _index_bytes(index_dir) / 2


def test_refreshed_searchers_release_their_files(index_dir: Path, tmp_path: Path) -> None:
    # Every commit makes the next search open a new searcher; the old one's descriptors must
    # close once it is dropped, or a long-running worker runs out of file descriptors.
    path = tmp_path / "index"
    index = SearchIndex.open(path)
    forum = SyntheticForum(9)
    index.rebuild(forum.documents(200))
    index.search("printer")
    gc.collect()
    open_before = len(os.listdir("/proc/self/fd"))
    for n, doc in enumerate(forum.documents(15, start=1_000)):
        index.upsert([doc])
        assert index.search("printer").total >= 0
        assert len(index) == 201 + n
    gc.collect()
    open_after = len(os.listdir("/proc/self/fd"))
    index.close()
    assert open_after <= open_before + 5, f"{open_after - open_before} more descriptors open after 15 commits"


def test_posting_cache_holds_no_more_than_its_budget(index_dir: Path, queries: list[str], traced: None) -> None:
    # The budget counts estimated sizes; what the process really keeps must stay near it
    # however many different searches run (this caught per-word sets estimated at 4 bytes
    # a document while they cost about 70).
    budget = 1024 * 1024
    index = SearchIndex.open(index_dir, cache_budget=budget)
    index.search(queries[0])  # the searcher and its readers: not the cache
    before = _traced_now()
    for query in queries[:150]:
        index.search(query)
        index.search(query, sort="votes")
    for query in queries[:50]:
        index.similar(query + " stopped working after the update")
    grown = _traced_now() - before
    index.close()
    # Beyond the cache, Whoosh's searcher keeps an idf per term asked (~0.3 MB here).
    assert grown < 1.75 * budget, f"the index kept {grown:,} bytes with a cache budget of {budget:,}"


def test_unbounded_cache_estimates_match_what_is_held(index_dir: Path, queries: list[str], traced: None) -> None:
    # The other direction: without eviction, the cache's own account is within a factor of
    # 1.5 of the memory tracemalloc sees it keep, so a budget in MiB means about that many MiB.
    index = SearchIndex.open(index_dir, cache_budget=1 << 40)
    index.search(queries[0])
    before, counted_before = _traced_now(), index._cache._size
    for query in queries[:150]:
        index.search(query)
    for query in queries[:50]:
        index.similar(query)
    grown, counted = _traced_now() - before, index._cache._size - counted_before
    index.close()
    assert counted > 1_000_000  # enough decoded data to compare
    assert grown < 1.5 * counted, f"held {grown:,} bytes, the cache counted {counted:,}"


def test_positioned_reads_give_whoosh_results_from_many_threads(index_dir: Path, queries: list[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # PreadStorage must read exactly what Whoosh's storage reads, also when threads share
    # one searcher (each read names its offset; no shared file position).
    def results(index: SearchIndex, query: str) -> list[tuple[str, float]]:
        return [(hit.key, round(hit.score, 6)) for hit in index.search(query, per_page=50).hits]

    pread = SearchIndex.open(index_dir)
    assert isinstance(pread._storage, PreadStorage)
    with monkeypatch.context() as patch:
        patch.setattr(search_index, "PreadStorage", FileStorage)
        plain = SearchIndex.open(index_dir)
    expected = {q: results(plain, q) for q in queries[:60]}
    plain.close()
    found: dict[str, list[tuple[str, float]]] = {}
    errors: list[BaseException] = []

    def work(part: list[str]) -> None:
        try:
            for query in part:
                found[query] = results(pread, query)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(list(expected)[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pread.close()
    assert not errors
    assert found == expected
    assert any(expected.values())
