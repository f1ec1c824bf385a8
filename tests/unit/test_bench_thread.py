"""The incident-thread benchmark (tools/bench/thread.py) run tiny on SQLite: it grows one
thread to each size through the service layer, with its followers, and reports the CPU per
answer at each size."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from tools.bench.generate import generate
from tools.bench.thread import run, table


def test_the_thread_bench_grows_one_thread_to_each_size_and_reports_its_cost(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'forum.db'}"
    manifest = generate(200, url, tmp_path / "index", log=lambda line: None)
    rows = run(manifest.database_url, manifest.index_dir, sizes=[12, 4], followers=3, warmup=1, measure=2)
    engine = create_engine(url)
    with engine.connect() as conn:
        per_question = conn.execute(text("SELECT question_id, count(*) FROM answers GROUP BY question_id "
                                         "ORDER BY count(*) DESC LIMIT 1")).one()
        followers = conn.scalar(select(func.count()).select_from(text("question_follows"))
                                .where(text("question_id = :q")), {"q": per_question[0]})
    engine.dispose()
    # Sizes in ascending order; each measured after the thread reached it (plus the warm-up).
    assert [r.answers >= size for r, size in zip(rows, [4, 12], strict=True)] == [True, True]
    assert rows[0].answers < rows[1].answers
    assert per_question[1] == rows[1].answers + 2  # the last measurement's answers are stored too
    assert rows[-1].followers == followers >= 3 + 1  # the poster follows what they answer
    assert all(r.cpu_ms_per_answer > 0 for r in rows)
    assert "writer CPU ms per answer" in table(rows)
