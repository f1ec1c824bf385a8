"""Exceptions raised by the search package.

Callers catch `SearchError` to treat every search failure alike (e.g. show "search is
unavailable"), or `IndexBusy` specifically to queue a write for a later retry.
"""

from __future__ import annotations

__all__ = ["SearchError", "IndexBusy"]


class SearchError(Exception):
    """Base class of every error this package raises on purpose."""


class IndexBusy(SearchError):
    """Another writer held the index lock for longer than the write timeout.

    Raised by `SearchIndex.upsert`, `delete` and `rebuild` only after waiting (with
    back-off) for the full timeout, so the caller can queue the write and retry later;
    the index itself is unchanged.
    """
