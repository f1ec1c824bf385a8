"""What one SQL statement costs the writer's CPU, layer by layer, beside what a post must do anyway.

    python -m tools.bench.statements --database postgresql://postgres@127.0.0.1:5432/writes_bench

The write benchmark (tools/bench/writes.py) spends most of an answer's client CPU in the 14-16
statements it runs, and this says why: it runs one of them, the first-response UPDATE of the
write path (`support._FIRST_RESPONSE`, built once, pinned to one row that it leaves alone), many
times in one transaction (rolled back) through each layer in turn:

- ``session``: ``db.session.execute``, as the services run it (the ORM's execute path, the
  page cache's ``do_orm_execute`` hook, the stage counters);
- ``connection``: SQLAlchemy Core on the session's connection (no ORM, no hook);
- ``driver``: psycopg's cursor alone, the same SQL text and parameters.

It also times what no statement removes: rendering the benchmark's answer text (Markdown, the
sanitiser, links) and the writer's share of the index row (the tokenised document of a
question with that many answers). Together with the database server's CPU per post from the
write benchmark, this is the floor the 300 posts/s target (6.7 ms of CPU a post on two cores)
is measured against (docs/performance.md).
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Result", "run", "main"]

ANSWER = ("Hold the reset button for ten seconds until the light blinks amber, then open the app and "
          "choose **Add device**. If the hub still shows offline:\n\n1. Unplug it for a minute.\n"
          "2. Check that the router gives it a 2.4 GHz network.\n3. Pair the sensor again.\n\n"
          "See https://example.com/help/hub-offline for the long version.")


@dataclass
class Result:
    """CPU in µs: per statement through each layer, and per call of the non-SQL work."""
    session_us: float
    connection_us: float
    driver_us: float
    render_us: float
    document_us: float
    calls: int

    def table(self) -> str:
        rows = [("one statement through the session (ORM, page-cache hook)", self.session_us),
                ("one statement through a Core connection", self.connection_us),
                ("one statement through the driver alone (psycopg)", self.driver_us),
                ("rendering an answer (Markdown, sanitiser, links)", self.render_us),
                ("tokenising a question's index row (title, body, 8 answers)", self.document_us)]
        lines = [f"{self.calls:,} calls each, CPU per call", "", "| what | µs of CPU |", "|---|---:|"]
        lines += [f"| {name} | {us:,.0f} |" for name, us in rows]
        return "\n".join(lines)


def _per_call(calls: int, fn: Callable[[], Any]) -> float:
    fn()  # warm: compiled caches, prepared statements
    start = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - start) * 1e6 / calls


def run(database_url: str, *, calls: int = 2_000, redis_url: str | None = None, workdir: str = "/tmp") -> Result:
    """Time each layer ``calls`` times inside one transaction, which is rolled back; the app is
    configured as the write benchmark's writers are (PostgreSQL search on PostgreSQL).

    Raises the driver's error when the database cannot be reached or has no forum tables.
    """
    from forum import create_app
    from forum.extensions import db
    from forum.models.base import utcnow
    from forum.services.links import render_body
    from forum.services.support import _FIRST_RESPONSE
    from search.document import Document
    from search.postgres import _row
    from tools.bench.writes import _app_config

    backend = "postgres" if database_url.startswith("postgresql") else "whoosh"
    app = create_app("production", _app_config(database_url, f"{workdir}/index", redis_url, 50, backend))
    params = {"question_id": -1, "responder_id": -1, "when": utcnow()}
    with app.app_context():
        try:
            session_us = _per_call(calls, lambda: db.session.execute(_FIRST_RESPONSE, params))
            conn = db.session.connection()
            connection_us = _per_call(calls, lambda: conn.execute(_FIRST_RESPONSE, params))
            compiled = _FIRST_RESPONSE.compile(dialect=conn.dialect)
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            sql, positional = str(compiled), compiled.construct_params(params)
            values: Any = positional if conn.dialect.paramstyle in ("pyformat", "named") else \
                tuple(positional[k] for k in compiled.positiontup or ())
            driver_us = _per_call(calls, lambda: cursor.execute(sql, values))
            render_us = _per_call(max(1, calls // 10), lambda: render_body(ANSWER))
        finally:
            db.session.rollback()
            db.session.remove()
        doc = Document(kind="question", id=1, title="Hub offline after the firmware update",
                       body=ANSWER, answers="\n".join([ANSWER] * 8), accepted="", tags=("hub", "wifi"),
                       author="maria_k", status="open", solved=False, score=3, answer_count=8, created=utcnow())
        document_us = _per_call(max(1, calls // 10), lambda: _row(doc))
        db.engine.dispose()
    return Result(session_us, connection_us, driver_us, render_us, document_us, calls)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.statements", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="a forum's database URL (nothing is changed: rolled back)")
    parser.add_argument("--calls", type=int, default=2_000, help="statements per layer (default 2,000)")
    parser.add_argument("--redis-url", help="as the write benchmark's --redis-url (page-cache generations in Redis)")
    args = parser.parse_args(argv)
    print(run(args.database, calls=args.calls, redis_url=args.redis_url).table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
