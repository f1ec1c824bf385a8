"""user badges

Revision ID: c2b2c3d4e5f6
Revises: c3c3d4e5f6a7
Create Date: 2026-11-30 15:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2b2c3d4e5f6'
down_revision = 'c3c3d4e5f6a7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_badges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('badge', sa.String(length=40), nullable=False),
    sa.Column('tag', sa.String(length=35), nullable=False),
    sa.Column('awarded_at', sa.DateTime(), nullable=False),
    sa.Column('post_type', sa.String(length=20), nullable=True),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_badges_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_badges')),
    sa.UniqueConstraint('user_id', 'badge', 'tag', name='uq_user_badges_user_badge_tag')
    )
    with op.batch_alter_table('user_badges', schema=None) as batch_op:
        batch_op.create_index('ix_user_badges_badge_awarded', ['badge', 'awarded_at'], unique=False)


def downgrade():
    with op.batch_alter_table('user_badges', schema=None) as batch_op:
        batch_op.drop_index('ix_user_badges_badge_awarded')

    op.drop_table('user_badges')
