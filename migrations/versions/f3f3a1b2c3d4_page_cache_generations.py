"""page cache generations (anonymous pages from a cache, never stale)

Revision ID: f3f3a1b2c3d4
Revises: f2f2a1b2c3d4
Create Date: 2026-12-05 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3f3a1b2c3d4'
down_revision = 'f2f2a1b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'page_cache_generations',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('generation', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_page_cache_generations')),
    )


def downgrade():
    op.drop_table('page_cache_generations')
