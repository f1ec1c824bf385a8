"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from forum import create_app
from forum.extensions import db
from forum.search_index import include_object
from tests.support import pg_url_or_skip


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    base = make_url(pg_url_or_skip())
    name = f"{base.database}_migrations"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrading_an_empty_database_matches_the_models(empty_database: str) -> None:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            # The search backend's tables are not models (search/postgres.py owns them).
            context = MigrationContext.configure(conn, opts={"include_object": include_object})
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert diff == []


def test_every_migration_downgrades_and_upgrades_again(empty_database: str) -> None:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert {"users", "questions", "answers", "comments", "tags", "revisions"} <= set(inspect(db.engine).get_table_names())
        db.engine.dispose()


def test_the_search_tables_are_migrated_on_postgresql_only_and_match_the_backend(empty_database: str) -> None:
    """Migration f2f2a1b2c3d4 creates what search/postgres.py reads and writes (PostgreSQL only)."""
    from search.postgres import SEARCH_TABLES, PgSearchIndex, documents, words

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade()
        inspector = inspect(db.engine)
        present = SEARCH_TABLES & set(inspector.get_table_names())
        if db.engine.dialect.name != "postgresql":
            assert present == set()
        else:
            assert present == SEARCH_TABLES
            for table in (documents, words):
                assert [c["name"] for c in inspector.get_columns(table.name)] == [c.name for c in table.columns]
            assert {i["name"] for i in inspector.get_indexes("search_documents")} >= {
                "search_documents_tsv", "search_documents_title_words", "search_documents_title_trgm",
                "search_documents_tags"}
            assert PgSearchIndex(db.engine).schema_is_current
        db.engine.dispose()


def test_names_migration_backfills_the_skeletons_of_existing_members(empty_database: str) -> None:
    from forum.services.names import skeleton

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade(revision="f3f3a1b2c3d4")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO users (username, username_key, email, password_hash, display_name, bio, bio_html, "
                "render_version, role, session_token, reputation, created_at, suspension_reason, silence_reason) "
                "VALUES ('adm1n_chris', 'adm1n_chris', 'c@example.com', 'x', 'Сhris Hale', '', '', 0, 'member', "
                "'t', 1, CURRENT_TIMESTAMP, '', '')"))
        upgrade(revision="a9a9a1b2c3d4")
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT username_skeleton, display_name_skeleton FROM users")).one()
        db.engine.dispose()
    assert tuple(row) == (skeleton("admin_chris"), skeleton("Chris Hale"))


def test_notification_counts_migration_merges_the_unread_lines_of_a_thread(empty_database: str) -> None:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade(revision="f7f7a1b2c3d4")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO users (username, username_key, username_skeleton, display_name_skeleton, email, "
                "password_hash, display_name, bio, bio_html, render_version, role, session_token, reputation, "
                "created_at, suspension_reason, silence_reason) VALUES ('ann', 'ann', 'ann', 'ann', 'a@example.com', "
                "'x', '', '', '', 0, 'member', 't', 1, CURRENT_TIMESTAMP, '', '')"))
            user_id = conn.execute(text("SELECT id FROM users")).scalar_one()
            rows = [  # event, target, day of December, read
                ("follow", "question:1", 1, False), ("follow", "question:1", 3, False),
                ("follow", "question:1", 2, False), ("follow", "question:1", 4, True),
                ("follow", "question:2", 5, False), ("mention", "question:1", 6, False),
                ("mention", "question:1", 7, False), ("answer", None, 8, False), ("answer", None, 9, False),
            ]
            for event, target, day, read in rows:
                at = f"2026-12-0{day} 10:00:00"
                conn.execute(text(
                    "INSERT INTO notifications (user_id, event, subject, url, text, created_at, read_at, target) "
                    "VALUES (:u, :e, :s, :url, '', :at, :read, :t)"),
                    {"u": user_id, "e": event, "s": f"{event} {day}", "url": f"/x#{day}", "at": at,
                     "read": at if read else None, "t": target})
        upgrade()
        with db.engine.connect() as conn:
            found = conn.execute(text("SELECT subject, count, created_at, read_at IS NULL FROM notifications "
                                      "ORDER BY id")).all()
        db.engine.dispose()
    kept = [(subject, count, str(created)[:10], unread) for subject, count, created, unread in found]
    assert kept == [
        ("follow 1", 3, "2026-12-03", True),  # the first unread line of the thread, counting three
        ("follow 4", 1, "2026-12-04", False),  # read: untouched
        ("follow 5", 1, "2026-12-05", True),  # another thread
        ("mention 6", 1, "2026-12-06", True), ("mention 7", 1, "2026-12-07", True),  # mentions never collapse
        ("answer 8", 1, "2026-12-08", True), ("answer 9", 1, "2026-12-09", True),  # no thread to collapse into
    ]
