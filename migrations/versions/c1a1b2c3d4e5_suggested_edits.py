"""suggested edits (privileges)

Revision ID: c1a1b2c3d4e5
Revises: 2172282deb21
Create Date: 2026-11-30 15:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c1a1b2c3d4e5'
down_revision = '2172282deb21'
branch_labels = None
depends_on = None

PENDING_ONLY = sa.text("status = 'pending'")


def upgrade():
    op.create_table('suggested_edits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_type', sa.String(length=20), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('proposer_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=150), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('tags', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.String(length=200), nullable=False),
    sa.Column('base_revision', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('reject_reason', sa.String(length=500), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("post_type IN ('question', 'answer')", name=op.f('ck_suggested_edits_post_type')),
    sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'superseded')", name=op.f('ck_suggested_edits_status')),
    sa.ForeignKeyConstraint(['proposer_id'], ['users.id'], name=op.f('fk_suggested_edits_proposer_id_users')),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_suggested_edits_question_id_questions')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_suggested_edits_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggested_edits'))
    )
    with op.batch_alter_table('suggested_edits', schema=None) as batch_op:
        batch_op.create_index('ix_suggested_edits_proposer_created', ['proposer_id', 'created_at'], unique=False)
        batch_op.create_index('ix_suggested_edits_status_created', ['status', 'created_at'], unique=False)
        # One pending suggestion per post, enforced by the database on both backends.
        batch_op.create_index('uq_suggested_edits_pending_post', ['post_type', 'post_id'], unique=True,
                              sqlite_where=PENDING_ONLY, postgresql_where=PENDING_ONLY)


def downgrade():
    with op.batch_alter_table('suggested_edits', schema=None) as batch_op:
        batch_op.drop_index('uq_suggested_edits_pending_post')
        batch_op.drop_index('ix_suggested_edits_status_created')
        batch_op.drop_index('ix_suggested_edits_proposer_created')

    op.drop_table('suggested_edits')
