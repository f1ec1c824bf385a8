"""tag wikis (Markdown, HTML, edit time) and a prefix index on tags.name for the suggestions

Revision ID: e5e5a1b2c3d4
Revises: e3e3a1b2c3d4
Create Date: 2026-12-06 01:30:00.000000

"""
import html

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5e5a1b2c3d4'
down_revision = 'e3e3a1b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tags', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wiki', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('wiki_html', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('wiki_edited_at', sa.DateTime(), nullable=True))
        # text_pattern_ops on PostgreSQL (LIKE 'prefix%' can use it whatever the collation);
        # a plain index elsewhere.
        batch_op.create_index('ix_tags_name_prefix', ['name'], unique=False,
                              postgresql_ops={'name': 'text_pattern_ops'})

    # Data: a tag's existing one-line description becomes its wiki, a paragraph of plain text.
    conn = op.get_bind()
    tags = sa.table('tags', sa.column('id', sa.Integer), sa.column('description', sa.Text),
                    sa.column('wiki', sa.Text), sa.column('wiki_html', sa.Text))
    for ident, description in conn.execute(sa.select(tags.c.id, tags.c.description)
                                           .where(tags.c.description != '')).all():
        conn.execute(tags.update().where(tags.c.id == ident).values(
            wiki=description, wiki_html=f"<p>{html.escape(description, quote=False)}</p>"))


def downgrade():
    with op.batch_alter_table('tags', schema=None) as batch_op:
        batch_op.drop_index('ix_tags_name_prefix', postgresql_ops={'name': 'text_pattern_ops'})
        batch_op.drop_column('wiki_edited_at')
        batch_op.drop_column('wiki_html')
        batch_op.drop_column('wiki')
