"""The fan-out benchmark (tools/bench/fanout.py) run tiny on PostgreSQL: it adds followers to one
question of a generated forum, times the job once per answer, and reports one unread line per
member counting the answers, and one e-mail per line."""
from __future__ import annotations

import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support import pg_url_or_skip
from tools.bench.fanout import run
from tools.bench.generate import generate


def test_the_fan_out_bench_tells_every_follower_once_per_answer_on_one_line(tmp_path) -> None:
    server = make_url(pg_url_or_skip())
    name = f"bench_fanout_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        generate(200, url, tmp_path / "index", log=lambda line: None, search_backend="postgres")
        result = run(url, members=40, rounds=3, email_every=4)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
    told = result.rounds[0].told
    assert told >= 40  # the members added, and whoever followed the question before
    for n, answer in enumerate(result.rounds, 1):
        assert answer.told == told and answer.lines == told  # everyone, once, on one line
        assert answer.counted == told * n  # the line counts the answers
        # One member in four asked for e-mail: mailed when their line begins, not as it counts up.
        assert answer.mails == (10 if n == 1 else 0)
        assert answer.cpu_seconds > 0 and answer.us_per_member > 0
    assert "µs per member" in result.table()
