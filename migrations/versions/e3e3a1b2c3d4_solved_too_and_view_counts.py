"""'This solved my problem too' marks and counts, helped counts, view counts

Revision ID: e3e3a1b2c3d4
Revises: e2e2a1b2c3d4
Create Date: 2026-12-06 01:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3e3a1b2c3d4'
down_revision = 'e2e2a1b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('solved_too',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_solved_too_question_id_questions'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_solved_too_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_solved_too')),
    sa.UniqueConstraint('user_id', 'question_id', name='uq_solved_too_user_question')
    )
    with op.batch_alter_table('solved_too', schema=None) as batch_op:
        batch_op.create_index('ix_solved_too_user_created', ['user_id', 'created_at'], unique=False)
        batch_op.create_index('ix_solved_too_question', ['question_id'], unique=False)

    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('solved_too_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('view_count', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('view_count', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('helped_count', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('helped_count')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('view_count')
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_column('view_count')
        batch_op.drop_column('solved_too_count')
    with op.batch_alter_table('solved_too', schema=None) as batch_op:
        batch_op.drop_index('ix_solved_too_question')
        batch_op.drop_index('ix_solved_too_user_created')
    op.drop_table('solved_too')
