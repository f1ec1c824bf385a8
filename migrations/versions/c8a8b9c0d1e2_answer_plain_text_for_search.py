"""answers.body_text: each answer's plain text, stored so search indexing never re-parses HTML

Revision ID: c8a8b9c0d1e2
Revises: c2b2c3d4e5f6
Create Date: 2026-12-04 17:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

from forum.markup import to_plain_text


# revision identifiers, used by Alembic.
revision = 'c8a8b9c0d1e2'
down_revision = 'c2b2c3d4e5f6'
branch_labels = None
depends_on = None

BATCH = 500


def upgrade():
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_text', sa.Text(), nullable=True))

    # Backfill with the same extraction the app uses at write time, so `flask search check`
    # finds the documents of existing threads unchanged. A row missed here (NULL) is still
    # indexed correctly: the document builder extracts its HTML on the fly.
    answers = sa.table('answers', sa.column('id', sa.Integer), sa.column('body_html', sa.Text),
                       sa.column('body_text', sa.Text))
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.select(answers.c.id, answers.c.body_html).where(answers.c.id > last)
                            .order_by(answers.c.id).limit(BATCH)).all()
        if not rows:
            break
        for answer_id, body_html in rows:
            bind.execute(answers.update().where(answers.c.id == answer_id)
                         .values(body_text=to_plain_text(body_html or "")))
        last = rows[-1][0]


def downgrade():
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_column('body_text')
