"""notifications.mailed_count: one e-mail per unread line, sent when the line could first be mailed

Revision ID: f9f9a1b2c3d4
Revises: f8f8a1b2c3d4
Create Date: 2026-12-07 22:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f9f9a1b2c3d4'
down_revision = 'f8f8a1b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    # Lines stored before have no record of their e-mail: the next event on an unread one mails
    # once (at most one e-mail more per line), then the line is counted up silently.
    with op.batch_alter_table('notifications') as batch:
        batch.add_column(sa.Column('mailed_count', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('notifications') as batch:
        batch.drop_column('mailed_count')
