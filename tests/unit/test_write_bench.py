"""The write benchmark (tools/bench/writes.py) run tiny on SQLite: it posts through the service
layer from several processes, reports posts/s and CPU by stage, and leaves the index exact."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from tools.bench.generate import generate
from tools.bench.writes import run


def test_the_write_bench_posts_reports_stages_and_leaves_the_index_exact(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'forum.db'}"
    manifest = generate(200, url, tmp_path / "index", log=lambda line: None)
    result = run(manifest.database_url, manifest.index_dir, processes=2, seconds=1.5, write_delay_ms=30)
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = conn.scalar(select(func.count()).select_from(text("answers"))) - manifest.answers
    engine.dispose()
    assert result.posts > 0 and result.errors == 0
    assert stored == result.posts  # every answer it counted is in the database
    assert result.posts_per_second > 0
    # Every stage of a post was seen, and they account for the writers' CPU.
    for name in ("load", "rules", "render", "sql", "subscribers", "notify", "mail", "index"):
        assert result.cpu_ms_per_post[name] > 0, name
    assert sum(result.cpu_ms_per_post.values()) <= result.client_cpu_ms_per_post * 1.01
    assert 5 < result.statements_per_post < 60
    # Each answer tells its asker (they mention nobody); e-mail goes once per unread line, so
    # at most one per post.
    assert 0 < result.mails_per_post <= 1
    assert "e-mails composed per post" in result.table()
    assert result.check == {"missing": 0, "stale": 0, "extra": 0}
    assert result.queued_after == 0
    assert "posts/s" in result.table()


def test_copy_of_starts_each_run_from_the_same_forum() -> None:
    """``--copy-of``: the database the run writes into is replaced by a copy of the template,
    whatever an earlier run added to it."""
    import uuid

    from sqlalchemy.engine import make_url

    from tests.support import pg_url_or_skip
    from tools.bench.writes import copy_database

    server = make_url(pg_url_or_skip())
    suffix = uuid.uuid4().hex[:8]
    template, target = f"bench_tpl_{suffix}", f"bench_run_{suffix}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {template}"))
        forum = create_engine(server.set(database=template))
        with forum.begin() as conn:
            conn.execute(text("CREATE TABLE answers (id int)"))
            conn.execute(text("INSERT INTO answers VALUES (1), (2)"))
        forum.dispose()
        for added in (5, 7):  # two runs, each adding answers to its copy
            copy_database(server.set(database=target).render_as_string(hide_password=False), template)
            run_db = create_engine(server.set(database=target))
            with run_db.begin() as conn:
                assert conn.scalar(text("SELECT count(*) FROM answers")) == 2  # as generated, both times
                conn.execute(text("INSERT INTO answers SELECT generate_series(1, :n)"), {"n": added})
            run_db.dispose()
    finally:
        with admin.connect() as conn:
            for name in (target, template):
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
