"""drafts: what members typed in a composer and have not posted yet

Revision ID: e2e2a1b2c3d4
Revises: e1e1a1b2c3d4
Create Date: 2026-12-06 01:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2e2a1b2c3d4'
down_revision = 'e1e1a1b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'drafts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('tags', sa.String(length=300), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_drafts_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_drafts')),
        sa.UniqueConstraint('user_id', 'key', name='uq_drafts_user_key'),
    )
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.create_index('ix_drafts_updated_at', ['updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.drop_index('ix_drafts_updated_at')
    op.drop_table('drafts')
