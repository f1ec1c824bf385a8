"""related_questions: the question page's "Related questions", precomputed

Revision ID: f4f4a1b2c3d4
Revises: d1d1e2f3a4b5
Create Date: 2026-12-05 07:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f4f4a1b2c3d4'
down_revision = 'd1d1e2f3a4b5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'related_questions',
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('rank', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('related_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['question_id'], ['questions.id'],
                                name=op.f('fk_related_questions_question_id_questions'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['related_id'], ['questions.id'],
                                name=op.f('fk_related_questions_related_id_questions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('question_id', 'rank', name=op.f('pk_related_questions')),
    )
    with op.batch_alter_table('related_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_related_questions_related_id'), ['related_id'], unique=False)


def downgrade():
    with op.batch_alter_table('related_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_related_questions_related_id'))
    op.drop_table('related_questions')
