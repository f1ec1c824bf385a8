"""A forum of N posts written straight into the database with bulk inserts, then indexed.

    python -m tools.bench.generate --posts 10000 --database sqlite:////tmp/bench.db --index-dir /tmp/bench-index

"Posts" are questions plus answers (the issue's "2,000 questions x 10 posts" is 20,000 posts):
one question in ``--thread`` posts (default 10) opens a thread, the rest are its answers (the
count per thread varies around that mean; about 8% of questions stay unanswered). Comments,
votes, tags and members come on top. Rows are consistent with what the services would have
written: bodies rendered by the real Markdown pipeline (``body_html``, ``render_version``,
``answers.body_text``), ``#123`` links recorded in ``post_links``, revision 1 of every post,
answer counts, scores from the votes, tag counts, accepted answers, ``first_response_at``,
``last_activity_at``, and a reputation ledger whose sums are the members' reputation. Not
written: notifications, follows, badges, cases (no page of the benchmark reads them in bulk).

The schema comes from the migrations (``flask db upgrade``), the index from
``forum.search_sync.rebuild``, as in production. Text is seeded (``tools.search.synthetic``), so
two runs with the same arguments build the same forum.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, select, text, update
from sqlalchemy.engine import make_url

from tools.search.synthetic import SyntheticForum

__all__ = ["Manifest", "generate", "forum_in", "main", "BENCH_PASSWORD", "RARE_WORD", "FREQUENT_WORD"]

BENCH_PASSWORD = "bench-password-1234"
RELATED_ALL_MAX = 20_000  # questions: above, related lists are stored only for the loaded threads
MEMBER = "bench_member"  # signs in for the signed-in question page
POSTER = "bench_poster"  # posts the answers (an agent: staff are never rate limited)
# A word put into a handful of question bodies (rare), and the head of the noun vocabulary (frequent).
RARE_WORD = "quasarwidget"
RARE_POSTS = 5
FREQUENT_WORD = "login"
CHUNK = 5_000
RESOLVER_HOSTS = frozenset({"127.0.0.1:5000"})


@dataclass
class Manifest:
    """What the benchmark needs to know about a generated forum (written next to it as JSON)."""

    database_url: str
    index_dir: str
    posts: int
    questions: int
    answers: int
    comments: int
    votes: int
    users: int
    question_id: int  # a typical thread: the median answer count, with comments and votes
    question_path: str
    answer_targets: list[int] = field(default_factory=list)  # open questions the POST benchmark answers
    tag: str = ""
    rare_word: str = RARE_WORD
    frequent_word: str = FREQUENT_WORD
    similar_title: str = ""
    member: str = MEMBER
    search_backend: str = "whoosh"  # SEARCH_BACKEND the forum was indexed with (and is served with)
    poster: str = POSTER
    password: str = BENCH_PASSWORD
    seconds: dict[str, float] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> Manifest:
        return cls(**json.loads(path.read_text()))


class _KnownIds:
    """A LinkResolver for the generator: questions up to ``max_question`` exist, nothing else."""

    hosts = RESOLVER_HOSTS
    mentions_max = 10  # no user is ever resolved here; Config.MENTIONS_MAX

    def __init__(self) -> None:
        self.max_question = 0

    def resolve(self, questions: set[int], articles: set[int], usernames: set[str]) -> Any:
        from forum.markup import Resolved

        return Resolved(frozenset(q for q in questions if 0 < q <= self.max_question), frozenset(), {})


def _chunks(rows: list[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


class _Writer:
    """Buffers rows per table and inserts them with executemany, in dependency order."""

    def __init__(self, conn: Connection, tables: dict[str, Table]) -> None:
        self.conn, self.tables = conn, tables
        self.buffers: dict[str, list[dict[str, Any]]] = {}
        self.counts: dict[str, int] = {}

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.buffers.setdefault(table, []).append(row)

    def flush(self, order: Sequence[str]) -> None:
        for name in order:
            rows = self.buffers.pop(name, [])
            for chunk in _chunks(rows):
                self.conn.execute(self.tables[name].insert(), chunk)
            self.counts[name] = self.counts.get(name, 0) + len(rows)


ORDER = ("questions", "question_tags", "answers", "comments", "revisions", "votes", "reputation_events",
         "post_links")


def _prepare_database(url: str, replace: bool) -> None:
    """An empty database at ``url`` with the current schema from the migrations."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not parsed.database or parsed.database == ":memory:":
            raise SystemExit("the generator needs a SQLite file, not an in-memory database")
        if path.exists():
            if not replace:
                raise SystemExit(f"{path} exists; pass --replace to overwrite it")
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        from sqlalchemy import create_engine

        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1)
                               if url.startswith("postgresql://") else url)
        with engine.begin() as conn:
            tables = conn.scalar(text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"))
            if tables and not replace:
                raise SystemExit("the database has tables; pass --replace to drop everything in it")
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()


@contextmanager
def forum_in(workdir: Path | None, *, reuse: bool, posts: int, database: str | None, search_backend: str = "whoosh",
             seed: int = 1, prefix: str = "forum-bench-", upgrade_reused: bool = False) -> Iterator[tuple[Manifest, Path]]:
    """The benchmarks' forum: the one generated before in ``workdir`` (``reuse``; brought up to
    this checkout by ``upgrade`` with ``upgrade_reused``), or ``posts``
    posts generated now into ``database`` (SQLite in the work directory by default; emptied
    first). Without ``workdir`` a temporary directory is used and removed afterwards. Yields the
    manifest and the work directory."""
    temporary = None if workdir else tempfile.mkdtemp(prefix=prefix)
    where: Path = workdir or Path(str(temporary))
    where.mkdir(parents=True, exist_ok=True)
    try:
        manifest_path = where / "manifest.json"
        if reuse:
            manifest = Manifest.load(manifest_path)
            if upgrade_reused:
                upgrade(manifest)
        else:
            url = database or f"sqlite:///{where / 'forum.db'}"
            print(f"generating {posts:,} posts into {url} ...")
            manifest = generate(posts, url, where / "index", seed=seed, replace=True, search_backend=search_backend)
            manifest.save(manifest_path)
        yield manifest, where
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)


def generate(posts: int, database_url: str, index_dir: Path, *, thread: int = 10, seed: int = 1,
             replace: bool = False, search_backend: str = "whoosh", log: Callable[[str], None] = print) -> Manifest:
    """Build a forum of about ``posts`` questions and answers; see the module docstring."""
    import flask_migrate

    from forum import create_app, search_sync
    from forum.extensions import db
    from forum.markup import RENDER_VERSION, render_post, to_plain_text
    from forum.services.accounts import hash_password

    if posts < 20:
        raise ValueError("at least 20 posts")
    _prepare_database(database_url, replace)
    app = create_app("production", {
        "SECRET_KEY": "generator", "SQLALCHEMY_DATABASE_URI": database_url, "SEARCH_INDEX_DIR": str(index_dir),
        "SEARCH_BACKEND": search_backend,
    })
    seconds: dict[str, float] = {}
    with app.app_context():
        started = time.perf_counter()
        flask_migrate.upgrade()
        seconds["schema"] = time.perf_counter() - started
        tables = {t.name: t for t in db.metadata.sorted_tables}
        rng = random.Random(seed)
        forum = SyntheticForum(seed)
        resolver = _KnownIds()
        # Threads needed for ``posts`` (about 8% get no answer); the loop below stops at ``posts``.
        questions_n = max(2, round(posts / (1 + 0.92 * (thread - 1.5))))
        users_n = max(20, posts // 20)
        now = datetime.now(timezone.utc).replace(microsecond=0)
        start = now - timedelta(days=730)
        span = (now - start).total_seconds()
        password_hash = hash_password(BENCH_PASSWORD)

        def later(when: datetime, days: float) -> datetime:
            return min(now, when + timedelta(seconds=rng.uniform(60, days * 86400)))

        def render(src: str, inline: bool = False) -> tuple[str, tuple[tuple[str, int], ...]]:
            rendered = render_post(src, resolver, inline=inline)
            return rendered.html, rendered.links

        t0 = time.perf_counter()
        conn = db.session.connection()
        writer = _Writer(conn, tables)
        # Members: ids 1..users_n; the last two are the benchmark's accounts.
        users: list[dict[str, Any]] = []
        for uid in range(1, users_n + 1):
            name = {users_n - 1: MEMBER, users_n: POSTER}.get(uid, f"member{uid}")
            users.append({"id": uid, "username": name, "username_key": name, "email": f"{name}@bench.example",
                          "password_hash": password_hash, "display_name": "", "bio": "", "bio_html": "",
                          "render_version": RENDER_VERSION, "role": "agent" if name == POSTER else "member",
                          "reputation": 1, "created_at": start - timedelta(days=rng.uniform(1, 365)),
                          "email_verified_at": start})  # bench members receive mail like any member
        for chunk in _chunks(users):
            conn.execute(tables["users"].insert(), chunk)
        reputation = [1] * (users_n + 1)
        authors = list(range(1, users_n - 1))  # the benchmark's accounts write nothing beforehand
        # Zipf-ish activity: a few members write much of the forum.
        author_weights = [1.0 / (rank + 10) for rank in range(len(authors))]
        cum_authors = list(_accumulate(author_weights))

        def author() -> int:
            return rng.choices(authors, cum_weights=cum_authors)[0]

        tag_ids: dict[str, int] = {}
        tag_counts: dict[int, int] = {}
        early = range(1, max(2, questions_n * 9 // 10))  # ids that surely exist
        rare_left = set(rng.sample(early, min(RARE_POSTS, len(early))))
        pinned = set(rng.sample(early, min(3, len(early))))
        ids = {"answer": 0, "comment": 0, "revision": 0, "vote": 0, "ledger": 0, "link": 0}
        answer_counts: list[int] = []
        accept_updates: list[dict[str, Any]] = []
        answers_per_thread = thread - 1

        def vote_on(post_type: str, post_id: int, post_author: int, created: datetime) -> int:
            ups = min(users_n // 2, max(0, int(rng.paretovariate(1.3)) - 1 + (rng.random() < 0.3)))
            downs = 1 if rng.random() < 0.05 else 0
            voters = rng.sample(authors, min(len(authors), ups + downs + 1))
            voters = [v for v in voters if v != post_author][: ups + downs]
            score = 0
            for i, voter in enumerate(voters):
                value = 1 if i < ups else -1
                score += value
                when = later(created, 60)
                ids["vote"] += 1
                writer.add("votes", {"id": ids["vote"], "user_id": voter, "post_type": post_type, "post_id": post_id,
                                     "value": value, "created_at": when, "updated_at": when})
                entries = [(post_author, 10 if post_type == "answer" else 5, "upvote")] if value > 0 else [
                    (post_author, -2, "downvote")] + ([(voter, -1, "downvote_cast")] if post_type == "answer" else [])
                for user_id, amount, reason in entries:
                    ids["ledger"] += 1
                    reputation[user_id] += amount
                    writer.add("reputation_events", {
                        "id": ids["ledger"], "user_id": user_id, "amount": amount, "reason": reason,
                        "post_type": post_type, "post_id": post_id, "actor_id": voter, "created_at": when})
            return score

        def comments_on(question_id: int, answer_id: int | None, created: datetime) -> list[tuple[int, datetime]]:
            made = []
            for _ in range(rng.choice((0, 0, 0, 0, 1, 1, 2, 3))):
                who, when = author(), later(created, 20)
                body = forum.answer()[:590]
                html, links = render(body, inline=True)
                ids["comment"] += 1
                writer.add("comments", {"id": ids["comment"], "question_id": question_id, "answer_id": answer_id,
                                        "author_id": who, "body": body, "body_html": html,
                                        "render_version": RENDER_VERSION, "created_at": when})
                record_links("comment", ids["comment"], question_id, links)
                made.append((who, when))
            return made

        def record_links(source_type: str, source_id: int, thread_id: int,
                         links: tuple[tuple[str, int], ...]) -> None:
            for position, (kind, target) in enumerate(dict.fromkeys(links)):
                if kind == "question" and target == thread_id:
                    continue
                ids["link"] += 1
                writer.add("post_links", {"id": ids["link"], "source_type": source_type, "source_id": source_id,
                                          "thread_id": thread_id, "target_type": kind, "target_id": target,
                                          "position": position})

        written = 0
        qid = 0
        while written < posts:
            qid += 1
            asker = author()
            # Spread over two years up to now, in id order (the estimate may be passed by a few threads).
            created = min(now, start + timedelta(seconds=span * (qid - 0.5) / questions_n))
            title = forum.title()[:150]
            body = forum.body()
            if qid in rare_left:
                body += f" The {RARE_WORD} module logs a warning too."
            if qid > 10 and rng.random() < 0.05:
                body += f" Maybe related to #{rng.randint(1, qid - 1)}."
            html, links = render(body)
            names = list(dict.fromkeys(forum.tag_names(rng.randint(1, 4))))[:5]
            for name in names:
                if name not in tag_ids:
                    tag_ids[name] = len(tag_ids) + 1
                    conn.execute(tables["tags"].insert(), [{"id": tag_ids[name], "name": name, "description": "",
                                                            "question_count": 0, "created_at": created}])
                tag_counts[tag_ids[name]] = tag_counts.get(tag_ids[name], 0) + 1
                writer.add("question_tags", {"question_id": qid, "tag_id": tag_ids[name], "created_at": created})
            q_score = vote_on("question", qid, asker, created)
            n_answers = 0 if rng.random() < 0.08 else max(1, int(rng.triangular(1, 2 * answers_per_thread - 1,
                                                                                 answers_per_thread)))
            responses: list[tuple[int, datetime]] = list(comments_on(qid, None, created))
            best: tuple[int, int, int, datetime] | None = None  # score, answer id, author, created
            answer_times = []
            for _ in range(n_answers):
                who, when = author(), later(created, 30)
                answer_body = forum.answer()
                if rng.random() < 0.04:
                    answer_body += f" See also #{rng.randint(1, qid)}."
                answer_html, answer_links = render(answer_body)
                ids["answer"] += 1
                aid = ids["answer"]
                a_score = vote_on("answer", aid, who, when)
                writer.add("answers", {"id": aid, "question_id": qid, "author_id": who, "body": answer_body,
                                       "body_html": answer_html, "body_text": to_plain_text(answer_html),
                                       "render_version": RENDER_VERSION, "score": a_score, "created_at": when})
                ids["revision"] += 1
                writer.add("revisions", {"id": ids["revision"], "question_id": None, "answer_id": aid,
                                         "article_id": None, "number": 1, "author_id": who, "title": "",
                                         "body": answer_body, "tags": "", "summary": "", "created_at": when})
                record_links("answer", aid, qid, answer_links)
                responses.append((who, when))
                responses.extend(comments_on(qid, aid, when))
                answer_times.append(when)
                if best is None or a_score > best[0]:
                    best = (a_score, aid, who, when)
            answer_counts.append(n_answers)
            written += 1 + n_answers
            first_response = min((when for who, when in responses if who != asker), default=None)
            last_activity = max([created, *answer_times])
            closed = rng.random() < 0.02
            row: dict[str, Any] = {
                "id": qid, "author_id": asker, "title": title, "body": body, "body_html": html,
                "render_version": RENDER_VERSION, "score": q_score, "answer_count": n_answers, "created_at": created,
                "last_activity_at": last_activity, "first_response_at": first_response,
                "closed_at": later(created, 10) if closed else None, "closed_by_id": users_n if closed else None,
                "close_reason": "duplicate" if closed and qid > 1 else ("off_topic" if closed else None),
                "duplicate_of_id": rng.randint(1, qid - 1) if closed and qid > 1 else None,
                "pinned_at": now - timedelta(hours=qid % 24) if qid in pinned else None,
            }
            writer.add("questions", row)
            ids["revision"] += 1
            writer.add("revisions", {"id": ids["revision"], "question_id": qid, "answer_id": None, "article_id": None,
                                     "number": 1, "author_id": asker, "title": title, "body": body,
                                     "tags": " ".join(names), "summary": "", "created_at": created})
            record_links("question", qid, qid, links)
            if best is not None and best[0] >= 0 and rng.random() < 0.45:
                accepted_at = later(best[3], 10)
                accept_updates.append({"qid": qid, "aid": best[1], "by": asker, "at": accepted_at})
                for user_id, amount, reason, actor in ((best[2], 15, "accepted", asker), (asker, 2, "accept", asker)):
                    if best[2] == asker:
                        break
                    ids["ledger"] += 1
                    reputation[user_id] += amount
                    writer.add("reputation_events", {
                        "id": ids["ledger"], "user_id": user_id, "amount": amount, "reason": reason,
                        "post_type": "answer", "post_id": best[1], "actor_id": actor, "created_at": accepted_at})
            resolver.max_question = qid
            if qid % 2_000 == 0:
                writer.flush(ORDER)
                log(f"  {written:,} / {posts:,} posts ({time.perf_counter() - t0:.0f} s)")
        writer.flush(ORDER)
        user_table = tables["users"]
        for chunk in _chunks([{"uid": uid, "rep": rep} for uid, rep in enumerate(reputation) if uid and rep != 1]):
            conn.execute(update(user_table).where(user_table.c.id == bindparam("uid"))
                         .values(reputation=bindparam("rep")), chunk)
        question_table = tables["questions"]

        for chunk in _chunks(accept_updates):
            conn.execute(update(question_table).where(question_table.c.id == bindparam("qid"))
                         .values(accepted_answer_id=bindparam("aid"), accepted_by_id=bindparam("by"),
                                 accepted_at=bindparam("at")), chunk)
        tag_table = tables["tags"]
        for chunk in _chunks([{"tid": k, "n": v} for k, v in tag_counts.items()]):
            conn.execute(update(tag_table).where(tag_table.c.id == bindparam("tid"))
                         .values(question_count=bindparam("n")), chunk)
        if conn.dialect.name == "postgresql":
            for name in ("users", "tags", "questions", "answers", "comments", "revisions", "votes",
                         "reputation_events", "post_links"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                  f"(SELECT coalesce(max(id), 1) FROM {name}))"))
        db.session.commit()
        seconds["rows"] = time.perf_counter() - t0
        if conn.dialect.name == "postgresql":
            with db.engine.connect() as raw:
                raw.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        else:
            with db.engine.begin() as raw:
                raw.execute(text("ANALYZE"))
        seconds["analyze"] = time.perf_counter() - t0 - seconds["rows"]
        log(f"rows: {sum(writer.counts.values()) + len(users):,} in {seconds['rows']:.1f} s "
            + ", ".join(f"{n:,} {k}" for k, n in writer.counts.items()))

        t1 = time.perf_counter()
        documents = search_sync.rebuild()
        seconds["index"] = time.perf_counter() - t1
        log(f"index: {documents:,} documents in {seconds['index']:.1f} s")

        # A typical thread to load: open, answered with the median count, not pinned.
        median = sorted(answer_counts)[len(answer_counts) // 2]
        from forum.services.questions import slugify

        q = tables["questions"]
        typical = db.session.execute(
            select(q.c.id, q.c.title).where(q.c.answer_count == median, q.c.closed_at.is_(None),
                                            q.c.pinned_at.is_(None)).order_by(q.c.id.desc()).limit(1)).one()
        targets = list(db.session.scalars(
            select(q.c.id).where(q.c.closed_at.is_(None), q.c.id != typical.id).order_by(q.c.id).limit(50)))
        # "Related questions" are stored when a question is written (forum/services/related.py);
        # bulk rows skip the services, so store them here as `flask forum related` would. One
        # similarity search per question (about 25 ms at 100k posts, more as the index grows):
        # every question up to RELATED_ALL_MAX questions, beyond that only the loaded threads
        # (the others fall back to a live search, which the benchmark never loads).
        from forum.services import related

        t2 = time.perf_counter()
        stored = related.refresh_all(None if qid <= RELATED_ALL_MAX else [typical.id, *targets])
        seconds["related"] = time.perf_counter() - t2
        log(f"related questions: {stored:,} lists in {seconds['related']:.1f} s")
        # Each tag's top helpers are stored when an acceptance changes (forum/services/reach.py)
        # and nightly by `flask insights top-helpers`; bulk rows skip both.
        from forum.services import reach

        t3 = time.perf_counter()
        ranked = reach.refresh_top_helpers()
        seconds["top_helpers"] = time.perf_counter() - t3
        log(f"top helpers: {ranked:,} tags in {seconds['top_helpers']:.1f} s")
        t = tables["tags"]
        tag = db.session.scalar(select(t.c.name).order_by(t.c.question_count.desc(), t.c.name).offset(5).limit(1))
        total_answers = db.session.scalar(select(func.count()).select_from(tables["answers"])) or 0
        title_source = SyntheticForum(seed + 7)
        manifest = Manifest(
            database_url=database_url, index_dir=str(index_dir), posts=qid + total_answers,
            questions=qid, answers=total_answers, comments=writer.counts.get("comments", 0),
            votes=writer.counts.get("votes", 0), users=users_n, question_id=typical.id,
            question_path=f"/questions/{typical.id}/{slugify(typical.title)}", answer_targets=targets,
            tag=tag or "", similar_title=title_source.title(), seconds=seconds, search_backend=search_backend,
        )
        db.session.remove()
        db.engine.dispose()
    return manifest


def upgrade(manifest: Manifest, log: Callable[[str], None] = print) -> None:
    """Bring a forum generated by an older checkout up to this one (for ``run --reuse``): apply
    new migrations, and store the related questions of the loaded threads if they have none and
    the tags' top helpers if none are stored."""
    import flask_migrate

    from forum import create_app
    from forum.extensions import db
    from forum.models import TagTopHelper
    from forum.services import reach, related

    app = create_app("production", {"SECRET_KEY": "generator", "SQLALCHEMY_DATABASE_URI": manifest.database_url,
                                    "SEARCH_INDEX_DIR": manifest.index_dir})
    with app.app_context():
        flask_migrate.upgrade()
        wanted = {manifest.question_id, *manifest.answer_targets}
        missing = [qid for qid in related.missing_ids() if qid in wanted]
        if missing:
            log(f"related questions: storing {related.refresh_all(missing):,} lists")
        if db.session.scalar(select(TagTopHelper.tag_id).limit(1)) is None:
            log(f"top helpers: storing the rankings of {reach.refresh_top_helpers():,} tags")
        db.session.remove()
        db.engine.dispose()


def _accumulate(values: Sequence[float]) -> Iterator[float]:
    total = 0.0
    for v in values:
        total += v
        yield total


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10_000, help="questions + answers (default 10,000)")
    parser.add_argument("--thread", type=int, default=10, help="mean posts per thread (default 10)")
    parser.add_argument("--database", required=True, help="sqlite:////path/file.db or postgresql://...")
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--manifest", type=Path, help="where to write the manifest (JSON)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--replace", action="store_true", help="overwrite an existing database")
    parser.add_argument("--search-backend", choices=("whoosh", "postgres"), default="whoosh",
                        help="index into Whoosh files (default) or the PostgreSQL search tables")
    args = parser.parse_args(argv)
    manifest = generate(args.posts, args.database, args.index_dir, thread=args.thread, seed=args.seed,
                        replace=args.replace, search_backend=args.search_backend)
    if args.manifest:
        manifest.save(args.manifest)
    print(json.dumps(asdict(manifest), indent=2))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
