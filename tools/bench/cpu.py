"""CPU per page in the process, for forums of different sizes (issue 11, "flat as the forum grows").

wrk through gunicorn measures wall-clock throughput, which on a shared two-core machine moves by
a third between two runs of the same code, and at 1M posts also measures the disk (the SQLite
file outgrows the OS page cache). This measures what the forum's own work costs: the CPU time
of each request through Flask's test client, page cache off, best of a few rounds, SQLite's work
included (it runs in the process; PostgreSQL's does not). The question page is the mean of the
newest threads of one shape (``--shape``: answers and comments), so a bigger forum is compared
with the same kind of page, not with a longer thread.

    python -m tools.bench.cpu --workdir /tmp/final-10k --workdir /var/tmp/bench-1m

Each forum (made by tools.bench.generate or tools.bench.run --workdir) is measured in a process
of its own; the table gives each page's cost and the last forum's cost over the first's.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tools.bench.generate import Manifest
from tools.bench.run import forum_env

REPO = Path(__file__).resolve().parents[2]
THREADS = 5  # question pages measured per forum
PAGES = ("question page", "home", "list (active)", "tag page", "search, rare word", "search, frequent word")


def measure(workdir: Path, requests: int, rounds: int,
            shape: tuple[int, int] | None) -> tuple[tuple[int, int], dict[str, float]]:
    """The question page's shape and the milliseconds of CPU per request for each page of PAGES
    (this process's app; call once). ``shape`` None: that of the manifest's benchmark thread.

    Raises RuntimeError when the forum has no visible thread of `shape` or a page does not answer 200.
    """
    manifest = Manifest.load(workdir / "manifest.json")
    os.environ.update(forum_env(manifest, workdir, page_cache=False))
    from sqlalchemy import select, text  # after the environment: the app reads it when created

    from forum import create_app
    from forum.extensions import db
    from forum.models import RelatedQuestion
    from forum.services import related
    from forum.services.questions import slugify

    app = create_app()
    with app.app_context():
        if shape is None:  # the shape of the benchmark's own thread
            counts = db.session.execute(text(
                "SELECT (SELECT count(*) FROM answers WHERE question_id = :q),"
                " (SELECT count(*) FROM comments WHERE question_id = :q)"), {"q": manifest.question_id}).one()
            shape = (int(counts[0]), int(counts[1]))
        rows = db.session.execute(text(
            "SELECT q.id, q.title FROM questions q WHERE q.deleted_at IS NULL AND q.hidden_at IS NULL"
            " AND (SELECT count(*) FROM answers a WHERE a.question_id = q.id) = :answers"
            " AND (SELECT count(*) FROM comments c WHERE c.question_id = q.id) = :comments"
            " ORDER BY q.id DESC LIMIT :threads"),
            {"answers": shape[0], "comments": shape[1], "threads": THREADS}).all()
        if not rows:
            raise RuntimeError(f"no visible thread with {shape[0]} answers and {shape[1]} comments in {workdir}")
        # A real forum stores each question's "Related questions" when it is written; the
        # generator stores them only for the benchmark's threads above 20,000 questions, and a
        # thread without them searches on every view. Store them, as `flask forum related` would.
        ids = [qid for qid, _ in rows]
        stored = set(db.session.scalars(select(RelatedQuestion.question_id).where(RelatedQuestion.question_id.in_(ids))))
        if set(ids) - stored:
            related.refresh_all(sorted(set(ids) - stored))
    # Threads of one shape still differ in their text, links and tags: the question page's cost
    # is the mean over the newest few of that shape.
    pages: dict[str, list[str]] = {
        "question page": [f"/questions/{qid}/{slugify(title)}" for qid, title in rows],
        "home": ["/"], "list (active)": ["/questions?tab=active"], "tag page": [f"/tags/{manifest.tag}"],
        "search, rare word": [f"/search?q={manifest.rare_word}"],
        "search, frequent word": [f"/search?q={manifest.frequent_word}"],
    }
    client = app.test_client()
    costs: dict[str, float] = {}
    for name, paths in pages.items():
        each = []
        for path in paths:
            for _ in range(5):  # warm: templates compiled, posting lists decoded, rows in SQLite's cache
                status = client.get(path, base_url="http://127.0.0.1:5000").status_code
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}")
            best = float("inf")
            for _ in range(rounds):
                started = time.process_time()
                for _ in range(requests):
                    client.get(path, base_url="http://127.0.0.1:5000")
                best = min(best, (time.process_time() - started) / requests * 1000)
            each.append(best)
        costs[name] = sum(each) / len(each)
    return shape, costs


def table(results: Sequence[tuple[Path, int, dict[str, float]]]) -> str:
    """A Markdown table: one column per forum, then the last forum's cost over the first's."""
    head = "| page | " + " | ".join(f"{posts:,} posts, ms CPU" for _, posts, _ in results)
    lines = [head + (" | last / first |" if len(results) > 1 else " |"),
             "|---|" + "---:|" * (len(results) + (len(results) > 1))]
    for page in PAGES:
        cells = [f"{costs[page]:.2f}" for _, _, costs in results]
        if len(results) > 1:
            cells.append(f"{results[-1][2][page] / results[0][2][page]:.2f}x")
        lines.append(f"| {page} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _shape(text: str) -> tuple[int, int] | None:
    """``"answers,comments"`` as a pair; None for an empty text (the benchmark thread's shape)."""
    if not text:
        return None
    answers, comments = (int(n) for n in text.split(","))
    return answers, comments


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, action="append", required=True,
                        help="a generated forum (repeat: smallest first)")
    parser.add_argument("--requests", type=int, default=60, help="requests per round (default 60)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per page; the best counts (default 3)")
    parser.add_argument("--shape", default="",
                        help="the question page's answers,comments (default: the first forum's benchmark thread)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child: one forum, JSON out
    args = parser.parse_args(argv)
    shape = _shape(args.shape)
    if args.one:
        found, costs = measure(args.workdir[0], args.requests, args.rounds, shape)
        print(json.dumps({"shape": found, "costs": costs}))
        return 0
    results = []
    for workdir in args.workdir:
        command = [sys.executable, "-m", "tools.bench.cpu", "--one", "--workdir", str(workdir),
                   "--requests", str(args.requests), "--rounds", str(args.rounds)]
        if shape is not None:
            command += ["--shape", ",".join(map(str, shape))]
        child = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
        if child.returncode != 0:
            print(child.stderr[-3000:], file=sys.stderr)
            return child.returncode
        answer = json.loads(child.stdout.strip().splitlines()[-1])
        shape = (int(answer["shape"][0]), int(answer["shape"][1]))  # every forum: the first one's shape
        posts = Manifest.load(workdir / "manifest.json").posts
        results.append((workdir, posts, answer["costs"]))
        print(f"{workdir}: measured", file=sys.stderr)
    assert shape is not None
    print(f"question page: the mean of up to {THREADS} threads of {shape[0]} answers and {shape[1]} comments")
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
