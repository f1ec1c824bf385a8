"""names that can't impersonate (skeleton columns, backfilled), signed-in devices, deleted accounts

Revision ID: a9a9a1b2c3d4
Revises: b0b0a1b2c3d4
Create Date: 2026-12-05 12:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9a9a1b2c3d4'
down_revision = 'b0b0a1b2c3d4'
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username_skeleton', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('display_name_skeleton', sa.String(length=200), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_username_skeleton'), ['username_skeleton'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_display_name_skeleton'), ['display_name_skeleton'], unique=False)

    # Data: every existing member's names get their skeletons, so new names are checked
    # against them. The function is the application's (the confusables table it reads is a
    # dependency); written in batches by primary key.
    from forum.services.names import skeleton

    conn = op.get_bind()
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('username', sa.String),
                     sa.column('display_name', sa.String), sa.column('username_skeleton', sa.String),
                     sa.column('display_name_skeleton', sa.String))
    last = 0
    while True:
        rows = conn.execute(sa.select(users.c.id, users.c.username, users.c.display_name)
                            .where(users.c.id > last).order_by(users.c.id).limit(BATCH)).all()
        if not rows:
            break
        for ident, username, display_name in rows:
            conn.execute(users.update().where(users.c.id == ident).values(
                username_skeleton=skeleton(username or ''), display_name_skeleton=skeleton(display_name or '')))
        last = rows[-1][0]

    op.create_table('user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('browser', sa.String(length=100), nullable=False),
    sa.Column('os', sa.String(length=100), nullable=False),
    sa.Column('ip_prefix', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_user_sessions_key_hash'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_user_sessions_user_last_seen', ['user_id', 'last_seen_at'], unique=False)


def downgrade():
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_user_sessions_user_last_seen')
    op.drop_table('user_sessions')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_display_name_skeleton'))
        batch_op.drop_index(batch_op.f('ix_users_username_skeleton'))
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('display_name_skeleton')
        batch_op.drop_column('username_skeleton')
