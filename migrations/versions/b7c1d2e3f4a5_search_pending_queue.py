"""search_pending: posts whose index write is waiting for a retry

Revision ID: b7c1d2e3f4a5
Revises: 3ea27b4fb976
Create Date: 2026-11-23 05:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7c1d2e3f4a5'
down_revision = '3ea27b4fb976'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('search_pending',
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('queued_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'id', name=op.f('pk_search_pending'))
    )


def downgrade():
    op.drop_table('search_pending')
