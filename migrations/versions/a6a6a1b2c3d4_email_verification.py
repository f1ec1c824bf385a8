"""e-mail verification: users.email_verified_at and users.pending_email

Existing accounts count as verified (their address has been receiving our mail), so nobody
stops getting notifications at the upgrade.

Revision ID: a6a6a1b2c3d4
Revises: f3f3a1b2c3d4
Create Date: 2026-12-05 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a6a6a1b2c3d4'
down_revision = 'f3f3a1b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('pending_email', sa.String(length=254), nullable=True))
    op.execute("UPDATE users SET email_verified_at = created_at")


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('pending_email')
        batch_op.drop_column('email_verified_at')
