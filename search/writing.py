"""Writing to a Whoosh index: the lock with back-off, bulk rebuilds, the merge policy.

Whoosh allows one writer per index at a time, guarded by a ``WRITELOCK`` file lock
(`fcntl.flock` on POSIX, so a crashed process never leaves it held).  Gunicorn runs
several workers, so writes here *wait* for the lock with exponential back-off and
jitter, and raise `IndexBusy` only after a deadline.

Bulk rebuilds avoid Whoosh's default writer path, which does not scale: past its
memory limit the posting pool spills sorted runs to disk and merges them back one
posting at a time in Python (commit took 80 s of a 157 s, 100,000-post build).  Here
the documents are written as several segments of `CHUNK_DOCS` each, every one sorted
in memory, and the table of contents switching to them is written once at the end, so
readers see either the old index or the complete new one.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from whoosh.index import Index
from whoosh.reading import SegmentReader
from whoosh.writing import PostingPool, SegmentWriter

from search.codec import ForumCodec
from search.document import Document
from search.errors import IndexBusy
from search.schema import document_fields

__all__ = ["CHUNK_DOCS", "write_lock", "open_writer", "bulk_write", "merge_small_segments", "merge_tiers", "tier"]

# Documents per segment in a rebuild: ~80 postings per post, so ~1 M posting tuples
# (~200 MB) are held and sorted in memory per chunk.  Fewer, larger segments make
# searches cheaper (each costs per-segment lookups); 100,000 posts give 8 segments.
CHUNK_DOCS = 12_500
# Segments below this size are merged together at upsert commits; larger ones (rebuild
# chunks) are left alone, so a one-document upsert never rewrites the whole index.
SMALL_SEGMENT_DOCS = 2_000
_MAX_SMALL_SEGMENTS = 3
# Tiered merging (`merge_tiers`): a tier holds segments of TIER_FACTOR**n to TIER_FACTOR**(n+1)
# documents; TIER_FACTOR segments in one tier are merged into one of the next tier.
TIER_FACTOR = 6
_FIRST_DELAY = 0.005
_MAX_DELAY = 0.25


class _LeanPool(PostingPool):  # type: ignore[misc]  # whoosh ships no types
    """A posting pool that only appends and sorts in memory.

    Whoosh's PostingPool estimates the size of each posting and checks a set per add;
    bulk_write bounds the documents per segment instead, so `add` can be the bare
    `list.append` (the writer looks it up once per document).
    """

    def __init__(self, tempstore: Any, segment: Any) -> None:
        super().__init__(tempstore, segment)
        self.add = self.current.append

    def items(self, maxfiles: int = 128) -> Any:
        self.current.sort()
        return iter(self.current)


@contextmanager
def write_lock(ix: Index, timeout: float) -> Iterator[Any]:
    """Hold the index's WRITELOCK for the duration of the block.

    Retries with exponential back-off (5 ms doubling to 250 ms, with jitter so that
    waiting workers do not retry in lock-step) until `timeout` seconds have passed.

    Raises:
        IndexBusy: the lock was still held by another writer at the deadline.
    """
    lock = ix.lock("WRITELOCK")
    deadline = time.monotonic() + max(0.0, timeout)
    delay = _FIRST_DELAY
    while not lock.acquire(False):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise IndexBusy(f"search index is locked by another writer (waited {timeout:g}s)")
        time.sleep(min(remaining, delay * random.uniform(0.5, 1.5)))
        delay = min(delay * 2, _MAX_DELAY)
    try:
        yield lock
    finally:
        lock.release()


def open_writer(ix: Index, **kwargs: Any) -> SegmentWriter:
    """Return a writer for an index whose WRITELOCK the caller already holds."""
    return SegmentWriter(ix, _lk=False, codec=ForumCodec(), **kwargs)


def merge_small_segments(writer: SegmentWriter, segments: list[Any]) -> list[Any]:
    """Merge policy for incremental commits: fold small segments together.

    Every upsert commit adds a segment; without merging, searches would slow down as
    they accumulate.  Only segments under `SMALL_SEGMENT_DOCS` are merged (cheap), and
    only once there are more than a few of them.
    """
    small = [s for s in segments if s.doc_count_all() < SMALL_SEGMENT_DOCS]
    if len(small) <= _MAX_SMALL_SEGMENTS:
        return segments
    keep = [s for s in segments if s.doc_count_all() >= SMALL_SEGMENT_DOCS]
    for seg in small:
        reader = SegmentReader(writer.storage, writer.schema, seg, generation=writer.generation)
        writer.add_reader(reader)
        reader.close()
    return keep


def tier(doc_count: int) -> int:
    """The size tier of a segment of ``doc_count`` documents (0 for under TIER_FACTOR)."""
    n, size = 0, TIER_FACTOR
    while doc_count >= size:
        n, size = n + 1, size * TIER_FACTOR
    return n


def merge_tiers(writer: SegmentWriter, segments: list[Any]) -> list[Any]:
    """Merge policy for incremental commits: merge segments of a similar size, never small into big.

    `merge_small_segments` folded every small segment together once there were four, so as
    the merged segment grew towards SMALL_SEGMENT_DOCS, every fourth one-document commit
    rewrote up to 2,000 documents (42% of a post's CPU in the issue's profile). Here a merge
    only happens when TIER_FACTOR segments share a size tier, and only those are rewritten:
    each document is rewritten about once per tier (log base TIER_FACTOR of the segment
    size), and the number of small segments stays below TIER_FACTOR per tier. Segments of
    SMALL_SEGMENT_DOCS or more (rebuild chunks) are never merged here.
    """
    tiers: dict[int, list[Any]] = {}
    for seg in segments:
        if seg.doc_count_all() < SMALL_SEGMENT_DOCS:
            tiers.setdefault(tier(seg.doc_count()), []).append(seg)
    merge = next((group for _, group in sorted(tiers.items()) if len(group) >= TIER_FACTOR), None)
    if merge is None:
        return segments
    for seg in merge:
        reader = SegmentReader(writer.storage, writer.schema, seg, generation=writer.generation)
        writer.add_reader(reader)
        reader.close()
    ids = {id(seg) for seg in merge}
    return [seg for seg in segments if id(seg) not in ids]


def _write_chunk(ix: Index, docs: list[Document]) -> Any:
    writer = open_writer(ix)
    writer.pool = _LeanPool(writer._tempstorage, writer.newsegment)
    add = writer.add_document
    for doc in docs:
        add(**document_fields(doc))
    segment = writer._finalize_segment()
    writer._tempstorage.destroy()
    writer.is_closed = True
    return segment


def bulk_write(
    ix: Index,
    docs: Iterable[Document],
    progress: Callable[[int], None] | None = None,
    chunk: int = CHUNK_DOCS,
) -> int:
    """Replace every document of `ix` with `docs`; the caller holds the WRITELOCK.

    Each chunk becomes one segment (see the module docstring); `progress` is called
    with the running count after each chunk.  Mirrors what Whoosh's own MpWriter does
    with sub-writers, minus the processes.  Returns the number of documents written.

    Raises:
        Exception: whatever iterating `docs` raises; the index is then left unchanged
            (the new segments are not referenced by any table of contents and are
            deleted by the next commit's clean-up).
    """
    segments: list[Any] = []
    count = 0
    batch: list[Document] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) >= chunk:
            segments.append(_write_chunk(ix, batch))
            count += len(batch)
            batch = []
            if progress is not None:
                progress(count)
    if batch:
        segments.append(_write_chunk(ix, batch))
        count += len(batch)
        if progress is not None:
            progress(count)
    # A writer with no documents of its own, used only to publish the new segment list
    # (dropping all old segments) and to clean up the files they no longer reference.
    publisher = open_writer(ix)
    publisher._close_segment()
    publisher._commit_toc(segments)
    publisher._finish()
    return count
