"""notification text in the reader's language: the message and its values beside the Chinese text

Revision ID: 0013_notice_text
Revises: 0012_file_store
Create Date: 2026-12-07 15:00:00

Existing rows keep ``message`` empty and read as their stored Chinese title and body.
"""
from alembic import op
import sqlalchemy as sa

revision = '0013_notice_text'
down_revision = '0012_file_store'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('message')
