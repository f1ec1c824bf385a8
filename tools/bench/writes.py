"""Write benchmark: answers posted through the service layer by several processes at once.

    python -m tools.bench.writes --database postgresql://... --redis-url redis://... --posts 5000 --seconds 20
    python -m tools.bench.writes --database postgresql://.../B --workdir DIR --reuse --copy-of B_TEMPLATE  # compare

Builds a forum of ``--posts`` posts with ``tools.bench.generate`` (the database is emptied
first), then starts ``--processes`` processes that each post answers for ``--seconds``
through ``forum.services.answers.post_answer`` and one commit per answer, as the answer form
does, with every rule, the Markdown render, the subscribers (links, mentions, first response,
following, notifications with e-mail to the asker, badges), the search index write and the
mail hand-over (RQ with ``--redis-url``) on. No HTTP: this measures the write path, not
gunicorn. Answers go to random open questions, written by ``bench_poster`` (an agent: staff
are never rate limited, so the run is not stopped by the per-member limit after 20 posts).

It reports posts/s (wall clock, all processes), the client CPU per post by stage
(``forum/stages.py``: load, rules, render, sql, subscribers, notify, mail, commit, index,
other), statements per post, the database server's CPU per post (PostgreSQL backends' CPU
from /proc), and then checks that the index is exact (``search_sync.check`` clean) and how
many keys were still queued when the writers stopped.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Result", "run", "main"]

STAGE_ORDER = ("load", "rules", "render", "sql", "subscribers", "notify", "mail", "commit", "index", "other")


@dataclass
class WorkerResult:
    posts: int = 0
    errors: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # client CPU by stage (main thread)
    statements: int = 0
    process_cpu: float = 0.0  # the whole process, background threads included
    server_cpu: float = 0.0  # CPU of this process's PostgreSQL backends (0 elsewhere)
    wall: float = 0.0


@dataclass
class Result:
    processes: int
    seconds: float
    posts: int
    errors: int
    posts_per_second: float
    cpu_ms_per_post: dict[str, float]
    statements_per_post: float
    client_cpu_ms_per_post: float
    server_cpu_ms_per_post: float
    queued_after: int
    check: dict[str, int]
    database: str
    write_delay_ms: int
    search_backend: str = "whoosh"
    #: Outbox rows (notification e-mails) the run added, per post: one per unread line, so
    #: it falls as the run goes on (the benchmark's askers never read their bell).
    mails_per_post: float = 0.0

    def table(self) -> str:
        lines = [f"{self.posts:,} answers in {self.seconds:.1f} s by {self.processes} processes: "
                 f"{self.posts_per_second:,.1f} posts/s ({self.errors} errors; {self.database}; "
                 f"search {self.search_backend}, SEARCH_WRITE_DELAY {self.write_delay_ms} ms)",
                 f"statements per post: {self.statements_per_post:.1f}; e-mails composed per post: "
                 f"{self.mails_per_post:.2f}",
                 f"CPU per post: client {self.client_cpu_ms_per_post:.2f} ms, database server "
                 f"{self.server_cpu_ms_per_post:.2f} ms", "", "| stage | CPU ms/post |", "|---|---:|"]
        for name, ms in self.cpu_ms_per_post.items():
            lines.append(f"| {name} | {ms:.2f} |")
        lines.append(f"\nqueued search keys when the writers stopped: {self.queued_after}; index check after: "
                     + ", ".join(f"{k} {v}" for k, v in self.check.items()))
        return "\n".join(lines)


def _server_cpu(pids: set[int]) -> float:
    """CPU seconds (user + system) used so far by these local processes (PostgreSQL backends)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _app_config(database_url: str, index_dir: str, redis_url: str | None, delay_ms: int,
                search_backend: str = "whoosh") -> dict[str, Any]:
    # Without Redis mail is "sent" inline: as .eml files (no SMTP_HOST) beside the index, not in instance/.
    config: dict[str, Any] = {"SECRET_KEY": "bench-writes", "SQLALCHEMY_DATABASE_URI": database_url,
                              "SEARCH_INDEX_DIR": index_dir, "SEARCH_WRITE_DELAY": delay_ms / 1000.0,
                              "MAIL_DIR": str(Path(index_dir).parent / "mail"), "SEARCH_BACKEND": search_backend}
    if redis_url:
        config["REDIS_URL"] = redis_url
    return config


def _worker(number: int, config: dict[str, Any], ready: Any, seconds: float, out: Any) -> None:
    """One writer process: once every writer is ready, post answers for ``seconds``; send a WorkerResult."""
    from sqlalchemy import event, select, text

    from forum import create_app, search_sync, stages
    from forum.extensions import db
    from forum.models import Question, User
    from forum.services.answers import post_answer
    from tools.search.synthetic import SyntheticForum

    app = create_app("production", config)
    result = WorkerResult()
    with app.app_context():
        engine = db.engine
        backends: set[int] = set()
        if engine.dialect.name == "postgresql":
            @event.listens_for(engine, "connect")
            def _pid(dbapi_connection: Any, record: Any) -> None:
                with dbapi_connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    backends.add(int(cursor.fetchone()[0]))
        stages.watch_sql(engine)
        poster_id = db.session.scalar(select(User.id).where(User.username == "bench_poster"))
        targets = list(db.session.scalars(select(Question.id).where(Question.closed_at.is_(None),
                                                                    Question.deleted_at.is_(None))))
        if engine.dialect.name == "postgresql":
            db.session.execute(text("SELECT 1"))
        db.session.remove()
        rng = random.Random(number)
        texts = SyntheticForum(100 + number)
        bodies = [texts.answer() + f"\n\nSee also #{rng.choice(targets)}." if i % 4 == 0 else texts.answer()
                  for i in range(200)]
        ready.wait()  # every process imported, connected and loaded: all start together
        stop_at = time.time() + seconds
        server_before = _server_cpu(backends)
        cpu_before = time.process_time()
        t0 = time.perf_counter()
        with stages.recording() as totals:
            while time.time() < stop_at:
                try:
                    with stages.stage("load"):
                        user = db.session.get(User, poster_id)
                        question = db.session.get(Question, rng.choice(targets))
                    assert user is not None and question is not None
                    post_answer(user, question, rng.choice(bodies))
                    with stages.stage("commit"):
                        db.session.commit()
                    result.posts += 1
                except Exception:
                    db.session.rollback()
                    result.errors += 1
                    if result.errors > 50:
                        raise
                finally:
                    db.session.remove()
            # Writes still waiting for SEARCH_WRITE_DELAY are part of the run.
            with stages.stage("index"):
                flush = getattr(search_sync, "flush_delayed", None)  # absent before the delayed writer
                if flush is not None:
                    flush()
        result.wall = time.perf_counter() - t0
        result.process_cpu = time.process_time() - cpu_before
        result.server_cpu = _server_cpu(backends) - server_before
        result.seconds = dict(totals.seconds)
        result.statements = totals.statements
        db.session.remove()
        engine.dispose()
    out.put(asdict(result))


def run(database_url: str, index_dir: str, *, processes: int, seconds: float, redis_url: str | None = None,
        write_delay_ms: int = 0, search_backend: str = "whoosh") -> Result:
    """Post answers from ``processes`` processes for ``seconds``; check the index after."""
    from sqlalchemy import func, select

    from forum import create_app, search_sync
    from forum.extensions import db
    from forum.models import SearchPending

    config = _app_config(database_url, index_dir, redis_url, write_delay_ms, search_backend)
    app = create_app("production", config)
    with app.app_context():
        mails_before = _mails()
        db.session.remove()
        db.engine.dispose()
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    ready = ctx.Barrier(processes)
    procs = [ctx.Process(target=_worker, args=(n, config, ready, seconds, out)) for n in range(processes)]
    for proc in procs:
        proc.start()
    results = [WorkerResult(**out.get(timeout=seconds + 600)) for _ in procs]
    for proc in procs:
        proc.join()
    wall = max(r.wall for r in results)
    posts = sum(r.posts for r in results)
    totals: dict[str, float] = {}
    for r in results:
        for name, value in r.seconds.items():
            totals[name] = totals.get(name, 0.0) + value
    # CPU of other threads of the writers (a SEARCH_WRITE_DELAY background writer): index work.
    background = sum(r.process_cpu for r in results) - sum(totals.values())
    if background > 0:
        totals["index"] = totals.get("index", 0.0) + background
    per = max(posts, 1)
    ms = {name: totals.get(name, 0.0) * 1000 / per for name in STAGE_ORDER if name in totals}
    with app.app_context():
        queued = db.session.scalar(select(func.count()).select_from(SearchPending)) or 0
        mails = _mails() - mails_before
        db.session.remove()
        found = search_sync.check()
        db.engine.dispose()
    check = {k: len(v) for k, v in found.items()}
    return Result(processes=processes, seconds=wall, posts=posts, errors=sum(r.errors for r in results),
                  posts_per_second=posts / wall if wall else 0.0, cpu_ms_per_post=ms,
                  statements_per_post=sum(r.statements for r in results) / per,
                  client_cpu_ms_per_post=sum(r.process_cpu for r in results) * 1000 / per,
                  server_cpu_ms_per_post=sum(r.server_cpu for r in results) * 1000 / per,
                  queued_after=queued, check=check, database=database_url.split(":", 1)[0],
                  write_delay_ms=write_delay_ms, search_backend=search_backend, mails_per_post=mails / per)


def _mails() -> int:
    """Rows in the mail outbox (in an app context)."""
    from sqlalchemy import func, select

    from forum.extensions import db
    from forum.models import OutboxMail

    return db.session.scalar(select(func.count()).select_from(OutboxMail)) or 0


def copy_database(database_url: str, template: str) -> None:
    """Make ``database_url`` (PostgreSQL) a fresh copy of database ``template``: every run of a
    comparison starts from the same forum (a run grows the threads that the next one posts to).

    Raises ValueError for a URL that is not PostgreSQL, and the driver's error when the copy fails.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if not url.drivername.startswith("postgresql") or not url.database:
        raise ValueError("--copy-of needs --database postgresql://.../NAME")
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    quoted = engine.dialect.identifier_preparer.quote
    with engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname IN (:a, :b) AND pid <> pg_backend_pid()"), {"a": url.database, "b": template})
        admin.execute(text(f"DROP DATABASE IF EXISTS {quoted(url.database)}"))
        admin.execute(text(f"CREATE DATABASE {quoted(url.database)} TEMPLATE {quoted(template)}"))
    engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.writes", description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=5_000, help="size of the generated forum (default 5,000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the writers post (default 10)")
    parser.add_argument("--processes", type=int, default=4, help="writer processes (default 4)")
    parser.add_argument("--database", help="database URL (emptied first!); default SQLite in the work directory")
    parser.add_argument("--redis-url", help="hand mail over to RQ on this Redis (default: inline)")
    parser.add_argument("--write-delay", type=int, default=50,
                        help="SEARCH_WRITE_DELAY in ms: coalesce index writes for up to this long (default 50; 0: "
                             "one index write per commit)")
    parser.add_argument("--search-backend", choices=("whoosh", "postgres"), default="whoosh",
                        help="search index: Whoosh files (default) or PostgreSQL tables written in each post's "
                             "transaction (needs --database postgresql://...)")
    parser.add_argument("--workdir", type=Path, help="keep the forum here (default: a temporary directory)")
    parser.add_argument("--reuse", action="store_true", help="post into the forum generated before in --workdir")
    parser.add_argument("--copy-of", metavar="TEMPLATE",
                        help="with --reuse on PostgreSQL: first make --database a fresh copy of database TEMPLATE "
                             "(made once with createdb -T after generating), so runs compared start alike")
    parser.add_argument("--json", type=Path, help="also write the result here as JSON")
    args = parser.parse_args(argv)
    if args.copy_of and not (args.reuse and (args.database or "").startswith("postgres")):
        parser.error("--copy-of needs --reuse and --database postgresql://...")
    if args.copy_of:
        copy_database(args.database, args.copy_of)
    if args.search_backend == "postgres" and not (args.database or "").startswith("postgres"):
        parser.error("--search-backend postgres needs --database postgresql://...")
    from tools.bench.generate import forum_in

    with forum_in(args.workdir, reuse=args.reuse, posts=args.posts, database=args.database,
                  search_backend=args.search_backend, prefix="forum-bench-writes-") as (manifest, _):
        result = run(manifest.database_url, manifest.index_dir, processes=args.processes, seconds=args.seconds,
                     redis_url=args.redis_url, write_delay_ms=args.write_delay,
                     search_backend=manifest.search_backend)
    print(f"\nforum of {manifest.posts:,} posts; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(result.table())
    if args.json:
        args.json.write_text(json.dumps(asdict(result), indent=2))
    return 0 if result.errors == 0 and not any(result.check.values()) else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
