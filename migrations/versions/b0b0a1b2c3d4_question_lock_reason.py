"""questions.lock_reason: what staff say when they lock a thread, shown on it

Revision ID: b0b0a1b2c3d4
Revises: a7a7a1b2c3d4
Create Date: 2026-12-05 12:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b0b0a1b2c3d4'
down_revision = 'a7a7a1b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lock_reason', sa.String(length=300), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_column('lock_reason')
