"""tag_top_helpers: a tag's top helpers of the last 90 days, precomputed

Revision ID: f6f6a1b2c3d4
Revises: e9e9a1b2c3d4
Create Date: 2026-12-07 06:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f6f6a1b2c3d4'
down_revision = 'e9e9a1b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'tag_top_helpers',
        sa.Column('tag_id', sa.Integer(), nullable=False),
        sa.Column('rank', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('accepted', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tag_id'], ['tags.id'],
                                name=op.f('fk_tag_top_helpers_tag_id_tags'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_tag_top_helpers_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tag_id', 'rank', name=op.f('pk_tag_top_helpers')),
    )
    with op.batch_alter_table('tag_top_helpers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tag_top_helpers_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('tag_top_helpers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tag_top_helpers_user_id'))
    op.drop_table('tag_top_helpers')
