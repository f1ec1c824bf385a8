"""Decoded posting lists: the cache and the readers of Whoosh's W3 block format.

`Engine` keeps, per segment and term, the posting list as two arrays (document
numbers and BM25F-weighted frequencies), the BM25 scores derived from them, and a
few other per-segment tables, all in one `PostingCache` bounded by size.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable
from itertools import accumulate, repeat
from typing import Any

from whoosh.scoring import bm25
from whoosh.util.numeric import byte_to_length

from search.plan import TermRef
from search.schema import BM25_B, BM25_K1

__all__ = ["PostingCache", "DEFAULT_BUDGET", "decode_postings", "decode_positions", "BM25Table"]

# 32 MiB: every gunicorn worker holds its own cache, and the memory target is 150 MiB per
# worker (docs/performance.md, "Memory").  The decoded data of the benchmark's pages at
# 200,000 posts took 17 MiB; a query whose lists were evicted decodes them again from the
# page cache (milliseconds).
DEFAULT_BUDGET = 32 * 1024 * 1024
# Evicted lists leave free memory inside the process's heap that the C allocator keeps (and the
# worker's resident size with it): each write opens a new generation, its lists are decoded
# again, and a worker grew with the writes it saw (171 MiB after 73 answers at 200,000 posts,
# 150 with an 8 MiB budget). After this many bytes evicted, free heap pages go back to the OS.
TRIM_AFTER = 4 * 1024 * 1024


def _heap_trimmer() -> Any:
    """glibc's ``malloc_trim`` (returns free heap pages to the OS), or None elsewhere."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


_malloc_trim = _heap_trimmer()

_LENGTHS = [byte_to_length(b) for b in range(256)]


class PostingCache:
    """Thread-safe LRU bounded by an approximate size in bytes (default 32 MiB).

    Sizes are the callers' estimates of what each value holds (e.g. 8 bytes a posting
    for two arrays); `tests/search/test_memory.py` checks them against tracemalloc.
    """

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self.budget = budget
        self._items: OrderedDict[tuple[Any, ...], tuple[Any, int]] = OrderedDict()
        self._size = 0
        self._evicted = 0  # bytes evicted since the heap was last trimmed
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: tuple[Any, ...], value: Any, size: int) -> Any:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= old[1]
            self._items[key] = (value, size)
            self._size += size
            freed = 0
            while self._size > self.budget and len(self._items) > 1:
                _, (_, dropped) = self._items.popitem(last=False)
                self._size -= dropped
                freed += dropped
            trim = self._freed(freed)
        if trim and _malloc_trim is not None:
            _malloc_trim(0)
        return value

    def retain(self, keep: Callable[[tuple[Any, ...]], bool]) -> int:
        """Drop every entry whose key ``keep`` refuses; returns the bytes freed. (A reopened
        searcher drops the data of segments a merge removed: nothing can ask for them again,
        and until the budget pushed them out they held a worker's memory.)"""
        with self._lock:
            freed = sum(self._items.pop(key)[1] for key in [key for key in self._items if not keep(key)])
            self._size -= freed
            trim = self._freed(freed)
        if trim and _malloc_trim is not None:
            _malloc_trim(0)
        return freed

    def _freed(self, size: int) -> bool:
        """Count ``size`` bytes dropped (under the lock); True when the heap is due a trim."""
        self._evicted += size
        if self._evicted < TRIM_AFTER:
            return False
        self._evicted = 0
        return True

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0


def decode_postings(reader: Any, ref: TermRef) -> tuple[array[int], array[float]]:
    """Decode one posting list of one segment (ids, weights), ignoring deletions.

    Reads Whoosh's W3 posting blocks directly (ids are delta-coded tuples, weights a
    tuple, None or one float per block) -- the same steps as W3LeafMatcher._read_ids
    and _read_weights, minus a Python call per posting.  Any other matcher falls back
    to the public, slower iteration.
    """
    ids, weights = array("i"), array("f")
    if (ref.field, ref.text) not in reader:
        return ids, weights
    m = reader._terms.matcher(ref.field, ref.text, reader.schema[ref.field].format)
    if all(hasattr(m, a) for a in ("_read_data", "_next_block", "_byteids", "_blocklength")):
        while m.is_active():
            if m._data is None:
                m._read_data()
            raw_ids, raw_weights = m._data[0], m._data[1]
            ids.extend(raw_ids if m._byteids else accumulate(raw_ids))
            if raw_weights is None:
                weights.extend(repeat(1.0, m._blocklength))
            elif isinstance(raw_weights, float):
                weights.extend(repeat(raw_weights, m._blocklength))
            else:
                weights.extend(raw_weights)
            m._next_block()
    else:  # pragma: no cover - not produced by the W3 codec
        while m.is_active():
            ids.append(m.id())
            weights.append(m.weight())
            m.next()
    return ids, weights


class BM25Table(dict):  # type: ignore[type-arg]
    """(weight, length byte) -> BM25 score of one term, computed on first use.

    `map(table.__getitem__, ...)` then runs in C except for the few distinct pairs.
    """

    def __init__(self, idf: float, avgfl: float, boost: float) -> None:
        super().__init__()
        self.idf, self.avgfl, self.boost = idf, avgfl, boost

    def __missing__(self, key: tuple[float, int]) -> float:
        # Exactly BM25FScorer._score, then the query boost as Whoosh's WrappingMatcher.
        value: float = bm25(self.idf, key[0], _LENGTHS[key[1]], self.avgfl, BM25_B, BM25_K1) * self.boost
        self[key] = value
        return value


def decode_positions(reader: Any, field: str, text: bytes) -> tuple[bytes, ...]:
    """The encoded position lists of one posting list, in the order of its ids.

    Decode one with ``reader.schema[field].format.decode_positions(value)``.
    """
    if (field, text) not in reader:
        return ()
    m = reader._terms.matcher(field, text, reader.schema[field].format)
    values: list[bytes] = []
    while m.is_active():
        if m._data is None:
            m._read_data()
        values.extend(m._data[2])
        m._next_block()
    return tuple(values)
