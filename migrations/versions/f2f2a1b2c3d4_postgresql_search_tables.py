"""PostgreSQL search backend tables: search_documents (weighted tsvector, GIN, pg_trgm) and search_words

PostgreSQL only: on SQLite the Whoosh index on disk is the only backend, and this revision
changes nothing. The tables are not ORM models (search/postgres.py owns them), so
migrations/env.py keeps autogenerate from proposing to drop them.

Revision ID: f2f2a1b2c3d4
Revises: f5f5a1b2c3d4
Create Date: 2026-12-05 07:50:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f2f2a1b2c3d4'
down_revision = 'f5f5a1b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("""
        CREATE TABLE search_documents (
            key TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            excerpt TEXT NOT NULL,
            tags TEXT[] NOT NULL,
            author TEXT NOT NULL,
            status TEXT NOT NULL,
            solved BOOLEAN NOT NULL,
            score BIGINT NOT NULL,
            answer_count INTEGER NOT NULL,
            created TIMESTAMP WITH TIME ZONE NOT NULL,
            fp TEXT NOT NULL,
            tsv TSVECTOR NOT NULL,
            title_words TSVECTOR NOT NULL
        )""")
    op.execute("CREATE TABLE search_words (word TEXT PRIMARY KEY)")
    op.execute("CREATE INDEX search_documents_tsv ON search_documents USING gin (tsv)")
    op.execute("CREATE INDEX search_documents_title_words ON search_documents USING gin (title_words)")
    op.execute("CREATE INDEX search_documents_title_trgm ON search_documents USING gin (title gin_trgm_ops)")
    op.execute("CREATE INDEX search_documents_tags ON search_documents USING gin (tags)")
    op.execute("CREATE INDEX search_words_trgm ON search_words USING gin (word gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TABLE IF EXISTS search_words")
    op.execute("DROP TABLE IF EXISTS search_documents")
