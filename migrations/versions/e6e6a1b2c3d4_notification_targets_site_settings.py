"""notifications know their page (marked read when it is viewed); run-time site settings

Revision ID: e6e6a1b2c3d4
Revises: e5e5a1b2c3d4
Create Date: 2026-12-06 01:30:00.000000

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e6e6a1b2c3d4'
down_revision = 'e5e5a1b2c3d4'
branch_labels = None
depends_on = None

BATCH = 1000
# The same rule as services/notifications.target_of (kept here so the migration does not
# change when the application does).
TARGETS = re.compile(r"^/(questions|cases|articles)/(\d+)(?:[/?#]|$)")
KINDS = {"questions": "question", "cases": "case", "articles": "article"}


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target', sa.String(length=40), nullable=True))
        batch_op.create_index('ix_notifications_user_target', ['user_id', 'target'], unique=False)

    # Data: only unread notifications need their page (a read one is never marked again).
    conn = op.get_bind()
    notifications = sa.table('notifications', sa.column('id', sa.Integer), sa.column('url', sa.String),
                             sa.column('read_at', sa.DateTime), sa.column('target', sa.String))
    last = 0
    while True:
        rows = conn.execute(sa.select(notifications.c.id, notifications.c.url)
                            .where(notifications.c.id > last, notifications.c.read_at.is_(None))
                            .order_by(notifications.c.id).limit(BATCH)).all()
        if not rows:
            break
        for ident, url in rows:
            found = TARGETS.match(url or '')
            if found:
                conn.execute(notifications.update().where(notifications.c.id == ident)
                             .values(target=f"{KINDS[found.group(1)]}:{found.group(2)}"))
        last = rows[-1][0]

    op.create_table('site_settings',
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_site_settings_updated_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_site_settings'))
    )


def downgrade():
    op.drop_table('site_settings')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_target')
        batch_op.drop_column('target')
