"""partial indexes for duplicates backlinks, pinned and unanswered questions

Revision ID: d1d1e2f3a4b5
Revises: c8a8b9c0d1e2
Create Date: 2026-12-04 18:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd1d1e2f3a4b5'
down_revision = 'c8a8b9c0d1e2'
branch_labels = None
depends_on = None

UNANSWERED_VISIBLE = "answer_count = 0 AND deleted_at IS NULL AND hidden_at IS NULL"


def _where(clause):
    return {"postgresql_where": sa.text(clause), "sqlite_where": sa.text(clause)}


def upgrade():
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.create_index('ix_questions_duplicate_of', ['duplicate_of_id'], unique=False,
                              **_where("duplicate_of_id IS NOT NULL"))
        batch_op.create_index('ix_questions_pinned', ['pinned_at'], unique=False,
                              **_where("pinned_at IS NOT NULL"))
        batch_op.create_index('ix_questions_unanswered', ['created_at', 'id'], unique=False,
                              **_where(UNANSWERED_VISIBLE))


def downgrade():
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_index('ix_questions_unanswered')
        batch_op.drop_index('ix_questions_pinned')
        batch_op.drop_index('ix_questions_duplicate_of')
