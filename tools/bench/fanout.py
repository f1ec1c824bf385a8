"""Fan-out benchmark: the job that tells a large thread's followers of a new answer.

    python -m tools.bench.fanout --database postgresql://.../writes_bench --copy-of wb_template \\
        --members 5000 --rounds 3 --redis-url redis://127.0.0.1:6379/6

On a forum made by ``tools.bench.writes`` (it needs ``bench_poster`` and its questions), copied
first from ``--copy-of`` so every run starts alike: adds ``--members`` members in SQL (copies of
``bench_poster`` as plain members with confirmed addresses; one in ``--email-every`` asks for
e-mail about followed questions), makes them all follow one question, then ``--rounds`` times
records a ``notification_fanouts`` row, as an answer on that thread leaves for its job, and runs
``notifications.fan_out`` on it, timing the job's CPU (``time.process_time``; the database
server's CPU is reported beside it, from /proc). Reports microseconds of job CPU per member told, and the bell rows
after each round: one unread line per member and thread, counting the answers
(docs/notifications.md). E-mail goes once per unread line: the first round mails the members
who asked for it, and the later rounds count their lines up and mail nobody.

PostgreSQL only: the members are made with ``INSERT ... SELECT generate_series``.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Round", "run", "main"]


@dataclass
class Round:
    told: int
    cpu_seconds: float
    server_seconds: float  # the PostgreSQL backends' CPU during the job
    lines: int  # unread bell rows about the thread
    counted: int  # the answers those rows count
    mails: int  # e-mails composed into the outbox

    @property
    def us_per_member(self) -> float:
        return self.cpu_seconds * 1e6 / self.told if self.told else 0.0


@dataclass
class Result:
    members: int
    rounds: list[Round] = field(default_factory=list)

    def table(self) -> str:
        lines = [f"{self.members:,} followers of one question; the fan-out job per answer:", "",
                 "| answer | members told | job CPU | µs per member | database CPU | unread lines | counting | e-mails |",
                 "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for n, r in enumerate(self.rounds, 1):
            lines.append(f"| {n} | {r.told:,} | {r.cpu_seconds * 1000:.0f} ms | {r.us_per_member:.0f} "
                         f"| {r.server_seconds * 1000:.0f} ms | {r.lines:,} | {r.counted:,} | {r.mails:,} |")
        return "\n".join(lines)


def run(database_url: str, *, members: int, rounds: int, email_every: int = 10,
        redis_url: str | None = None) -> Result:
    """Add the followers, then time ``rounds`` fan-out jobs; see the module docstring.

    Raises LookupError when the forum has no ``bench_poster`` or no open question.
    """
    from sqlalchemy import event, func, select, text

    from forum import create_app
    from forum.extensions import db
    from forum.models import Notification, NotificationFanout, OutboxMail, Question, User
    from forum.services import notifications
    from tools.bench.writes import _server_cpu

    config = {"SECRET_KEY": "bench-fanout", "SQLALCHEMY_DATABASE_URI": database_url, "SEARCH_BACKEND": "postgres"}
    if redis_url:
        config["REDIS_URL"] = redis_url
    app = create_app("production", config)
    result = Result(members=members)
    with app.app_context():
        backends: set[int] = set()

        @event.listens_for(db.engine, "connect")
        def _pid(dbapi_connection: Any, record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backends.add(int(cursor.fetchone()[0]))

        db.engine.dispose()  # every connection from here on is seen
        poster = db.session.scalar(select(User).where(User.username == "bench_poster"))
        question = db.session.scalar(select(Question).where(Question.closed_at.is_(None),
                                                            Question.deleted_at.is_(None)).order_by(Question.id))
        if poster is None or question is None:
            raise LookupError("no bench_poster or no open question: make the forum with tools.bench.writes first")
        poster_id, question_id = poster.id, question.id
        columns = [c.name for c in User.__table__.columns if c.name != "id"]
        made = {"username": "'fan' || g", "username_key": "'fan' || g", "username_skeleton": "'fan' || g",
                "display_name_skeleton": "''", "display_name": "''", "email": "'fan' || g || '@example.com'",
                "role": "'member'", "session_token": "md5(g::text || random()::text)", "email_verified_at": "now()"}
        db.session.execute(text(
            f"INSERT INTO users ({', '.join(columns)}) "
            f"SELECT {', '.join(made.get(c, c) for c in columns)} "
            "FROM users, generate_series(1, :n) AS g WHERE users.id = :poster"), {"n": members, "poster": poster_id})
        db.session.execute(text(
            "INSERT INTO question_follows (user_id, question_id, created_at) "
            "SELECT id, :q, now() FROM users WHERE username LIKE 'fan%' AND email LIKE '%@example.com'"),
            {"q": question_id})
        db.session.execute(text(
            "INSERT INTO notification_preferences (user_id, event, in_app, email) "
            "SELECT id, 'follow', true, true FROM users WHERE username LIKE 'fan%' AND id % :every = 0 "
            "ON CONFLICT DO NOTHING"), {"every": email_every})
        db.session.commit()
        url = f"/questions/{question_id}"
        for n in range(rounds):
            row = NotificationFanout(question_id=question_id, event="follow", actor_id=poster_id,
                                     subject=f"New answer {n + 1} on a question you follow", url=url,
                                     text="Unplug the hub for ten seconds, then hold the button.",
                                     target=f"question:{question_id}", exclude="", after_user_id=0)
            db.session.add(row)
            db.session.commit()
            fanout_id = row.id
            mails_before = db.session.scalar(select(func.count()).select_from(OutboxMail)) or 0
            db.session.remove()
            server_before, before = _server_cpu(backends), time.process_time()
            told = notifications.fan_out(fanout_id)
            cpu = time.process_time() - before
            server = _server_cpu(backends) - server_before
            db.session.remove()
            unread = select(func.count(), func.coalesce(func.sum(Notification.count), 0)).where(
                Notification.target == f"question:{question_id}", Notification.read_at.is_(None))
            lines, counted = db.session.execute(unread).one()
            mails = (db.session.scalar(select(func.count()).select_from(OutboxMail)) or 0) - mails_before
            result.rounds.append(Round(told=told, cpu_seconds=cpu, server_seconds=server, lines=int(lines), counted=int(counted),
                                       mails=int(mails)))
        db.session.remove()
        db.engine.dispose()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.fanout", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="PostgreSQL URL of a forum made by tools.bench.writes "
                                                          "(changed: use --copy-of)")
    parser.add_argument("--copy-of", metavar="TEMPLATE", help="first make --database a fresh copy of TEMPLATE")
    parser.add_argument("--members", type=int, default=5_000, help="followers to add (default 5,000)")
    parser.add_argument("--rounds", type=int, default=3, help="answers, each one fan-out job (default 3)")
    parser.add_argument("--email-every", type=int, default=10, help="one member in N asks for e-mail (default 10)")
    parser.add_argument("--redis-url", help="hand the e-mails over to RQ on this Redis (default: none)")
    args = parser.parse_args(argv)
    if not args.database.startswith("postgres"):
        parser.error("--database must be postgresql://...")
    if args.copy_of:
        from tools.bench.writes import copy_database

        copy_database(args.database, args.copy_of)
    result = run(args.database, members=args.members, rounds=args.rounds, email_every=args.email_every,
                 redis_url=args.redis_url)
    print(result.table())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
