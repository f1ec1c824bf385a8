"""Latency of both search backends over the same generated forum, in one process.

    python -m tools.search.compare MANIFEST.json WHOOSH_DIR [--rounds 30]

MANIFEST is what ``python -m tools.bench.generate --search-backend postgres --manifest ...``
wrote for a PostgreSQL forum (its ``search_documents`` filled). WHOOSH_DIR receives a Whoosh
index of the very same documents (built from the database on first use, kept for the next
run). Each call is timed after one warm-up call: search for the frequent and the rare word
of the generated forum, two-word searches, "related questions" (a title and the first 400
characters of a body) and as-you-type (a title alone), the titles drawn from the forum.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from search.index import SearchIndex
from search.postgres import PgSearchIndex
from search.protocol import SearchBackend


def _timed(index: SearchBackend, call: Callable[[SearchBackend, Any], object], inputs: Sequence[Any]) -> list[float]:
    call(index, inputs[0])  # warm-up: connections, caches
    out = []
    for item in inputs:
        started = time.perf_counter()
        call(index, item)
        out.append((time.perf_counter() - started) * 1000)
    return sorted(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m tools.search.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("whoosh_dir", type=Path)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    manifest = json.loads(args.manifest.read_text())
    url = manifest["database_url"]
    postgres = PgSearchIndex.open(url)
    whoosh = SearchIndex.open(args.whoosh_dir)
    if len(whoosh) == 0:
        from forum import create_app, search_sync

        app = create_app("production", {"SECRET_KEY": "compare", "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context(), Session(postgres._engine) as session:
            started = time.perf_counter()
            count = whoosh.rebuild(search_sync.all_documents(session))
            print(f"whoosh index: {count:,} documents in {time.perf_counter() - started:.1f} s")
    with postgres._engine.connect() as conn:
        sample = conn.execute(text("SELECT title, excerpt FROM search_documents ORDER BY md5(key) LIMIT :n"),
                              {"n": args.rounds}).all()
    titles = [row.title for row in sample]
    cases: list[tuple[str, Callable[[SearchBackend, Any], object], Sequence[Any]]] = [
        (f"search, frequent word ({manifest['frequent_word']})", lambda ix, q: ix.search(q),
         [manifest["frequent_word"]] * 10),
        (f"search, rare word ({manifest['rare_word']})", lambda ix, q: ix.search(q), [manifest["rare_word"]] * 10),
        ("search, two title words", lambda ix, q: ix.search(q), [" ".join(t.split()[:2]) for t in titles]),
        ("related questions (title + body)", lambda ix, r: ix.similar(r.title, body=r.excerpt[:400], limit=10),
         sample),
        ("similar as you type (title)", lambda ix, t: ix.similar(t, limit=5), titles),
    ]
    print(f"{len(postgres):,} documents; medians and p90 in ms\n")
    print("| call | PostgreSQL median | p90 | Whoosh median | p90 |")
    print("|---|---:|---:|---:|---:|")
    for label, call, inputs in cases:
        pg, wh = _timed(postgres, call, inputs), _timed(whoosh, call, inputs)
        p90 = int(len(pg) * 0.9) - 1
        print(f"| {label} | {statistics.median(pg):.1f} | {pg[p90]:.1f} | {statistics.median(wh):.1f} | {wh[p90]:.1f} |")
    postgres.close()
    whoosh.close()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
