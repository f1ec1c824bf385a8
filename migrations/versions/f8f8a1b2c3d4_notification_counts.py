"""notifications.count: one unread line per member, event and thread for answers, comments and follows

Revision ID: f8f8a1b2c3d4
Revises: f7f7a1b2c3d4
Create Date: 2026-12-07 16:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f8f8a1b2c3d4'
down_revision = 'f7f7a1b2c3d4'
branch_labels = None
depends_on = None

COLLAPSING_WHERE = "read_at IS NULL AND target IS NOT NULL AND event IN ('answer', 'comment', 'follow')"


def upgrade():
    with op.batch_alter_table('notifications') as batch:
        batch.add_column(sa.Column('count', sa.Integer(), server_default='1', nullable=False))
    # The unread lines that will collapse: the oldest of each member, event and thread stays
    # (its link is the first post they have not seen), counting the others and taking the
    # newest time; then the others go, so the unique index can be built.
    op.execute(f"""
        UPDATE notifications SET
            count = (SELECT count(*) FROM notifications d WHERE d.user_id = notifications.user_id
                     AND d.event = notifications.event AND d.target = notifications.target AND d.read_at IS NULL),
            created_at = (SELECT max(d.created_at) FROM notifications d WHERE d.user_id = notifications.user_id
                          AND d.event = notifications.event AND d.target = notifications.target AND d.read_at IS NULL)
        WHERE id IN (SELECT min(id) FROM notifications WHERE {COLLAPSING_WHERE}
                     GROUP BY user_id, event, target HAVING count(*) > 1)
    """)
    op.execute(f"""
        DELETE FROM notifications WHERE {COLLAPSING_WHERE}
        AND id NOT IN (SELECT min(id) FROM notifications WHERE {COLLAPSING_WHERE} GROUP BY user_id, event, target)
    """)
    op.create_index('uq_notifications_unread_thread', 'notifications', ['user_id', 'event', 'target'], unique=True,
                    postgresql_where=sa.text(COLLAPSING_WHERE), sqlite_where=sa.text(COLLAPSING_WHERE))


def downgrade():
    op.drop_index('uq_notifications_unread_thread', table_name='notifications')
    with op.batch_alter_table('notifications') as batch:
        batch.drop_column('count')
