"""question_tags.created_at and ix_question_tags_tag_created: tag pages in date order from one index

Revision ID: f5f5a1b2c3d4
Revises: f4f4a1b2c3d4
Create Date: 2026-12-05 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f5f5a1b2c3d4'
down_revision = 'f4f4a1b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('question_tags', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_at', sa.DateTime(), nullable=True))
    # Every existing row takes its question's date, then the column is required.
    op.execute("UPDATE question_tags SET created_at = "
               "(SELECT questions.created_at FROM questions WHERE questions.id = question_tags.question_id)")
    with op.batch_alter_table('question_tags', schema=None) as batch_op:
        batch_op.alter_column('created_at', existing_type=sa.DateTime(), nullable=False)
        batch_op.create_index('ix_question_tags_tag_created', ['tag_id', 'created_at', 'question_id'], unique=False)


def downgrade():
    with op.batch_alter_table('question_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_question_tags_tag_created')
        batch_op.drop_column('created_at')
