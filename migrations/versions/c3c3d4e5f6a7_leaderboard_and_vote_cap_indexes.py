"""leaderboard, vote cap and serial-voting indexes

Revision ID: c3c3d4e5f6a7
Revises: c4d4e5f6a7b8
Create Date: 2026-11-30 16:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c3c3d4e5f6a7'
down_revision = 'c4d4e5f6a7b8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reputation_events', schema=None) as batch_op:
        batch_op.create_index('ix_reputation_events_created_user', ['created_at', 'user_id', 'amount'], unique=False)
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.create_index('ix_votes_user_created', ['user_id', 'created_at'], unique=False)
        batch_op.create_index('ix_votes_updated', ['updated_at'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_reputation', ['reputation', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_reputation')
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_index('ix_votes_updated')
        batch_op.drop_index('ix_votes_user_created')
    with op.batch_alter_table('reputation_events', schema=None) as batch_op:
        batch_op.drop_index('ix_reputation_events_created_user')
