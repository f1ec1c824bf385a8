"""notification_fanouts: the followers of a large thread still to tell, told by a job

Revision ID: f7f7a1b2c3d4
Revises: f6f6a1b2c3d4
Create Date: 2026-12-07 12:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f7f7a1b2c3d4'
down_revision = 'f6f6a1b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'notification_fanouts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(length=20), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('text', sa.String(length=500), nullable=False),
        sa.Column('target', sa.String(length=40), nullable=True),
        sa.Column('exclude', sa.Text(), nullable=False),
        sa.Column('after_user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('done_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'],
                                name=op.f('fk_notification_fanouts_actor_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['question_id'], ['questions.id'],
                                name=op.f('fk_notification_fanouts_question_id_questions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_fanouts')),
    )
    with op.batch_alter_table('notification_fanouts', schema=None) as batch_op:
        batch_op.create_index('ix_notification_fanouts_done_created', ['done_at', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('notification_fanouts', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_fanouts_done_created')
    op.drop_table('notification_fanouts')
