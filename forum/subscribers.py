"""Who reacts to which domain event: the one table of what happens after a write.

``docs/architecture.md`` shows the same table in prose. A new feature that reacts to writes
adds a line here (and a handler in its own module), not a call inside the services that write.
The order of lines for one event is the order the handlers run in.
"""
from __future__ import annotations

from flask import Flask

from . import search_sync
from .events import Event, Phase, subscribe

_wired = False


def init_app(app: Flask) -> None:
    """Subscribe every handler (once per process; the registry is process-wide)."""
    global _wired
    if _wired:
        return
    _wired = True

    # ---- search: every event's question (or article) is re-indexed after the commit. The
    # keys are noted (and queued in search_pending) inside the transaction; the index write
    # itself runs once per commit, after it (search_sync's session hook), however many events.
    subscribe(Event, search_sync.note, Phase.IN_TRANSACTION)
