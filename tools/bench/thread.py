"""The incident-thread benchmark: a writer's CPU per answer as one thread grows.

    python -m tools.bench.thread --database postgresql://... --search-backend postgres \
        --redis-url redis://... --sizes 100,1000 --followers 250

On a bad day everyone answers on the same thread, so an answer's cost must not grow with the
thread. Builds a small forum with ``tools.bench.generate`` (the database is emptied first),
picks one open question, and for each size in ``--sizes`` posts answers into it until it has
that many, then measures ``--measure`` more (after ``--warmup``) through
``forum.services.answers.post_answer`` and one commit each, as the answer form does, in this
one process (mail handed to RQ with ``--redis-url``, else sent inline). With ``--followers N``
that many members follow the thread first (they all hear of each answer). Prints the writer's
CPU per answer (``time.process_time``: this process, so the database server's work is not in
it) for each size.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Row", "run", "main"]


@dataclass
class Row:
    answers: int  # visible answers on the thread when the measured posts started
    followers: int  # members following it then (each hears of every answer)
    cpu_ms_per_answer: float


def run(database_url: str, index_dir: str, *, sizes: Sequence[int], followers: int = 0, warmup: int = 5,
        measure: int = 20, search_backend: str = "whoosh", redis_url: str | None = None) -> list[Row]:
    """Measure the CPU per answer at each thread size (ascending); the thread only grows."""
    from sqlalchemy import func, insert, select

    from forum import create_app, search_sync
    from forum.extensions import db
    from forum.models import Answer, Question, QuestionFollow, User
    from forum.models.base import utcnow
    from forum.services.answers import post_answer
    from tools.bench.writes import _app_config
    from tools.search.synthetic import SyntheticForum

    app = create_app("production", _app_config(database_url, index_dir, redis_url, 0, search_backend))
    rows: list[Row] = []
    with app.app_context():
        poster_id = db.session.scalar(select(User.id).where(User.username == "bench_poster"))
        question_id = db.session.scalar(select(Question.id).where(Question.closed_at.is_(None),
                                                                  Question.deleted_at.is_(None))
                                        .order_by(Question.id.desc()).limit(1))
        if poster_id is None or question_id is None:
            raise SystemExit("no bench_poster or no open question: generate the forum first")
        if followers:
            already = select(QuestionFollow.user_id).where(QuestionFollow.question_id == question_id)
            members = list(db.session.scalars(select(User.id).where(User.id != poster_id, User.id.not_in(already))
                                              .order_by(User.id).limit(followers)))
            if members:
                db.session.execute(insert(QuestionFollow), [{"user_id": uid, "question_id": question_id,
                                                             "created_at": utcnow()} for uid in members])
            db.session.commit()
        texts = SyntheticForum(5)
        bodies = [texts.answer() for _ in range(50)]
        db.session.remove()

        def post(n: int) -> float:
            start = time.process_time()
            for i in range(n):
                user = db.session.get(User, poster_id)
                question = db.session.get(Question, question_id)
                assert user is not None and question is not None
                post_answer(user, question, bodies[i % len(bodies)])
                db.session.commit()
                db.session.remove()
            return (time.process_time() - start) * 1000 / max(n, 1)

        def count(model: type[Answer] | type[QuestionFollow]) -> int:
            n = db.session.scalar(select(func.count()).select_from(model).where(model.question_id == question_id))
            db.session.remove()
            return int(n or 0)

        for size in sorted(sizes):
            have = count(Answer)
            if have < size:
                post(size - have)
            post(warmup)
            rows.append(Row(count(Answer), count(QuestionFollow), post(measure)))
        flush = getattr(search_sync, "flush_delayed", None)
        if flush is not None:
            flush()
        db.session.remove()
        db.engine.dispose()
    return rows


def table(rows: Sequence[Row]) -> str:
    lines = ["| answers on the thread | followers | writer CPU ms per answer |", "|---:|---:|---:|"]
    lines += [f"| {r.answers:,} | {r.followers:,} | {r.cpu_ms_per_answer:.1f} |" for r in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.thread", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="database URL (emptied first!); default SQLite in the work directory")
    parser.add_argument("--search-backend", choices=("whoosh", "postgres"), default="whoosh")
    parser.add_argument("--redis-url", help="hand mail over to RQ on this Redis (default: sent inline, in the writer)")
    parser.add_argument("--sizes", default="100,1000", help="thread sizes, comma-separated (default 100,1000)")
    parser.add_argument("--followers", type=int, default=0, help="members following the thread (default 0)")
    parser.add_argument("--warmup", type=int, default=5, help="answers posted before each measurement (default 5)")
    parser.add_argument("--measure", type=int, default=20, help="answers measured at each size (default 20)")
    parser.add_argument("--posts", type=int, default=2_000, help="size of the generated forum (default 2,000)")
    parser.add_argument("--workdir", type=Path, help="keep the forum here (default: a temporary directory)")
    parser.add_argument("--reuse", action="store_true", help="post into the forum generated before in --workdir")
    args = parser.parse_args(argv)
    if not args.reuse and args.search_backend == "postgres" and not (args.database or "").startswith("postgres"):
        parser.error("--search-backend postgres needs --database postgresql://...")
    from tools.bench.generate import forum_in

    with forum_in(args.workdir, reuse=args.reuse, posts=args.posts, database=args.database,
                  search_backend=args.search_backend, prefix="forum-bench-thread-") as (manifest, _):
        rows = run(manifest.database_url, manifest.index_dir, sizes=[int(s) for s in args.sizes.split(",") if s.strip()],
                   followers=args.followers, warmup=args.warmup, measure=args.measure,
                   search_backend=manifest.search_backend, redis_url=args.redis_url)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
