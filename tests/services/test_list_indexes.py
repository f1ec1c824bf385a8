"""The lists on home, list and tag pages, the pinned list and a thread's duplicates backlinks read a
bounded part of the questions table whatever its size, through indexes EXPLAIN shows (PostgreSQL).

The table gets FORUM_EXPLAIN_ROWS questions (5,000 by default) in one INSERT ... SELECT from
generate_series: 2% unanswered, 1% deleted, a few pinned and a few duplicates, each under one of
20 tags. With FORUM_EXPLAIN_REPORT=1 (and ``-s``) the test also prints each statement's EXPLAIN
ANALYZE time with and without the partial indexes (docs/performance.md, "Database: indexes and
bounded lists").
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text

from forum.extensions import db
from forum.services import curation, links
from forum.services import questions as qsvc

ROWS = int(os.environ.get("FORUM_EXPLAIN_ROWS", "5000"))
REPORT = os.environ.get("FORUM_EXPLAIN_REPORT") == "1"
pytestmark = pytest.mark.postgres  # the [sqlite] copies are deselected (tests/conftest.py)
NEW_INDEXES = ("ix_questions_duplicate_of", "ix_questions_pinned", "ix_questions_unanswered",
               "ix_question_tags_tag_created")


@pytest.fixture
def big_forum(app: Flask, make_user: Any) -> dict[str, Any]:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("EXPLAIN plans are checked on PostgreSQL")
    author = make_user()
    conn = db.session.connection()
    conn.execute(text("INSERT INTO tags (name, description, question_count, created_at) "
                      "SELECT 'tag' || t, '', :n / 20, now() FROM generate_series(1, 20) t"), {"n": ROWS})
    conn.execute(text("""
        INSERT INTO questions (author_id, title, body, body_html, render_version, score, answer_count,
                               created_at, last_activity_at, close_note, hidden_reason, deleted_at)
        SELECT :author, 'Question number ' || g, 'Body ' || g, '<p>Body ' || g || '</p>', 0, g % 7,
               CASE WHEN g % 50 = 0 THEN 0 ELSE 1 + g % 3 END,
               timestamp '2020-01-01' + g * interval '1 minute',
               timestamp '2020-01-01' + g * interval '1 minute' + (g % 13) * interval '1 hour',
               '', '', CASE WHEN g % 100 = 1 THEN timestamp '2026-01-01' END
        FROM generate_series(1, :n) g"""), {"author": author.id, "n": ROWS})
    conn.execute(text("INSERT INTO question_tags (question_id, tag_id, created_at) "
                      "SELECT q.id, t.id, q.created_at FROM questions q JOIN tags t ON t.name = 'tag' || (1 + q.id % 20)"))
    conn.execute(text("UPDATE questions SET pinned_at = created_at WHERE id % (:n / 4) = 7"), {"n": ROWS})
    target = conn.execute(text("SELECT max(id) FROM questions WHERE deleted_at IS NULL")).scalar_one()
    conn.execute(text("UPDATE questions SET duplicate_of_id = :t, closed_at = created_at, close_reason = 'duplicate' "
                      "WHERE id % (:n / 5) = 3 AND id <> :t"), {"t": target, "n": ROWS})
    db.session.commit()
    with db.engine.connect() as c:
        c.execute(text("ANALYZE questions"))
        c.execute(text("ANALYZE question_tags"))
        c.commit()
    return {"target": target}


@contextmanager
def statements() -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH", "(SELECT")):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def counting(seen: list[tuple[str, Any]]) -> tuple[str, Any]:
    return next(s for s in seen if "count(" in s[0].lower())


def explain(statement: str, parameters: Any) -> dict[str, Any]:
    conn = db.session.connection()
    plan: dict[str, Any] = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).scalar_one()[0]
    return plan


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def questions_read(plan: dict[str, Any]) -> int:
    """Rows of ``questions`` the plan touched: returned plus thrown away by a filter, over all loops."""
    return sum((n.get("Actual Rows", 0) + n.get("Rows Removed by Filter", 0) + n.get("Rows Removed by Index Recheck", 0))
               * n.get("Actual Loops", 1)
               for n in nodes(plan["Plan"]) if n.get("Relation Name") == "questions")


def indexes_used(plan: dict[str, Any]) -> set[str]:
    return {n["Index Name"] for n in nodes(plan["Plan"]) if "Index Name" in n}


def seq_scans_questions(plan: dict[str, Any]) -> bool:
    return any(n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "questions" for n in nodes(plan["Plan"]))


def report(label: str, statement: str, parameters: Any) -> None:
    """Print the EXPLAIN ANALYZE time of a statement with the partial indexes and without them."""
    def timed() -> float:
        best = min(explain(statement, parameters)["Execution Time"] for _ in range(3))
        return float(best)

    with_indexes = timed()
    read = questions_read(explain(statement, parameters))
    conn = db.session.connection()
    conn.exec_driver_sql("SAVEPOINT without_indexes")
    for name in NEW_INDEXES:
        conn.exec_driver_sql(f"DROP INDEX {name}")
    without = timed()
    conn.exec_driver_sql("ROLLBACK TO SAVEPOINT without_indexes")
    print(f"\n{ROWS:>8,} questions | {label:<36} | {without:9.2f} ms without | {with_indexes:7.2f} ms with"
          f" | {read:>7,} rows of questions read")


def test_list_queries_read_a_bounded_part_of_the_table(big_forum: dict[str, Any], client: FlaskClient,
                                                      app: Flask) -> None:
    cap, per_page = app.config["LIST_COUNT_CAP"], app.config["PER_PAGE"]
    bound = cap + 2 * per_page + 10  # the capped count, plus a page and the row after it
    assert ROWS > 2 * bound, "too few rows for a full scan to show"
    target = big_forum["target"]
    checked: dict[str, tuple[str, Any]] = {}

    with statements() as seen:
        db.session.expire_all()
        qsvc.list_questions("newest", 1)
    checked["newest list (rows)"] = seen[0]
    checked["newest list (capped count)"] = counting(seen)
    with statements() as seen:
        page = qsvc.list_questions("unanswered", 1)
    assert (page.total, page.exact) == (min(ROWS // 50, cap), ROWS // 50 <= cap)  # 2% are unanswered
    checked["unanswered list (rows)"] = seen[0]
    checked["unanswered list (capped count)"] = counting(seen)
    with statements() as seen:
        assert curation.pinned_questions()
    checked["pinned questions"] = seen[0]
    with statements() as seen:
        question = db.session.get(qsvc.Question, target)
        assert question is not None
        backlinks = links.backlinks_to(question)
    assert backlinks.duplicates
    checked["backlinks (with duplicates)"] = next(s for s in seen if "UNION ALL" in s[0])

    plans = {label: explain(*stmt) for label, stmt in checked.items()}
    for label, plan in plans.items():
        # A capped count may read the first rows of the table in any order (a Seq Scan under
        # its LIMIT); it is bounded like the rest.
        assert "count" in label or not seq_scans_questions(plan), (label, plan)
        assert questions_read(plan) <= bound, (label, questions_read(plan), plan)
    assert "ix_questions_created" in indexes_used(plans["newest list (rows)"])
    assert "ix_questions_unanswered" in indexes_used(plans["unanswered list (rows)"])
    assert "ix_questions_unanswered" in indexes_used(plans["unanswered list (capped count)"])
    assert "ix_questions_pinned" in indexes_used(plans["pinned questions"])
    assert "ix_questions_duplicate_of" in indexes_used(plans["backlinks (with duplicates)"])

    # A tag page walks ix_question_tags_tag_created in date order and runs no count (the total
    # is the tag's question_count), so it reads a page of the tag's questions, not all of them.
    tag = qsvc.get_tag("tag1")
    with statements() as seen:
        tag_page = qsvc.list_questions("newest", 1, tag=tag)
    assert not any("count(" in s[0].lower() for s in seen)
    assert tag_page.total == tag.question_count and tag_page.has_next
    checked["tag page list (rows)"] = seen[0]
    tag_plan = explain(*seen[0])
    assert "ix_question_tags_tag_created" in indexes_used(tag_plan), tag_plan
    assert questions_read(tag_plan) <= 2 * per_page + 10, questions_read(tag_plan)

    # The pages themselves: no statement they run reads more than a bounded part of questions.
    for path in ("/", "/questions", "/questions?tab=unanswered", "/questions?tab=active", f"/questions/{target}",
                 "/tags/tag1"):
        with statements() as seen:
            started = time.perf_counter()
            assert client.get(path, follow_redirects=True).status_code == 200
            elapsed = time.perf_counter() - started
        for statement, parameters in seen:
            plan = explain(statement, parameters)
            assert questions_read(plan) <= bound, (path, statement, questions_read(plan))
        if REPORT:
            print(f"\n{ROWS:>8,} questions | GET {path:<30} | {elapsed * 1000:9.1f} ms (test client)")

    if REPORT:
        for label, stmt in checked.items():
            report(label, *stmt)
        # What every list page ran before the count was capped (home twice).
        report("old full count of visible questions", "SELECT count(*) FROM questions "
               "WHERE deleted_at IS NULL AND hidden_at IS NULL", {})
