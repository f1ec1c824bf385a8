"""images in posts: uploads (bytes when the database is the store) and upload_refs

Revision ID: e1e1a1b2c3d4
Revises: a9a9a1b2c3d4
Create Date: 2026-12-06 01:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e1e1a1b2c3d4'
down_revision = 'a9a9a1b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('uploads',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('ext', sa.String(length=4), nullable=False),
    sa.Column('content_type', sa.String(length=20), nullable=False),
    sa.Column('uploader_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("ext IN ('png', 'jpg', 'gif', 'webp')", name=op.f('ck_uploads_ext')),
    sa.ForeignKeyConstraint(['uploader_id'], ['users.id'], name=op.f('fk_uploads_uploader_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uploads'))
    )
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.create_index('ix_uploads_created_at', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_uploads_uploader_id'), ['uploader_id'], unique=False)

    op.create_table('upload_refs',
    sa.Column('upload_id', sa.String(length=32), nullable=False),
    sa.Column('source_type', sa.String(length=10), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("source_type IN ('question', 'answer', 'comment', 'article', 'case_event')",
                       name=op.f('ck_upload_refs_source_type')),
    sa.ForeignKeyConstraint(['upload_id'], ['uploads.id'], name=op.f('fk_upload_refs_upload_id_uploads'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('upload_id', 'source_type', 'source_id', name=op.f('pk_upload_refs'))
    )
    with op.batch_alter_table('upload_refs', schema=None) as batch_op:
        batch_op.create_index('ix_upload_refs_source', ['source_type', 'source_id'], unique=False)


def downgrade():
    with op.batch_alter_table('upload_refs', schema=None) as batch_op:
        batch_op.drop_index('ix_upload_refs_source')
    op.drop_table('upload_refs')
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_uploads_uploader_id'))
        batch_op.drop_index('ix_uploads_created_at')
    op.drop_table('uploads')
