"""file store and shared rate limits: stored_file (photos every instance sees),
public_complaint_photo.stored_key, and rate_limit_counter (Flask-Limiter's counts in the database)

Revision ID: 0012_file_store
Revises: 0011_outbox
Create Date: 2026-12-07 15:00:00

Report photos uploaded before this revision stay on disk until `flask reports import-photos`
moves them into stored_file (idempotent; see docs/DEPLOY.md). Complaint photos filed before it
keep their bytes in public_complaint_photo.content, read from there.
"""
from alembic import op
import sqlalchemy as sa

import app.types

revision = '0012_file_store'
down_revision = '0011_outbox'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stored_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('backend', sa.String(length=10), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_file')),
    sa.UniqueConstraint('key', name=op.f('uq_stored_file_key'))
    )
    op.create_table('rate_limit_counter',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_counter'))
    )
    with op.batch_alter_table('rate_limit_counter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limit_counter_expires_at'), ['expires_at'], unique=False)
    with op.batch_alter_table('public_complaint_photo', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stored_key', sa.String(length=300), nullable=True))
        batch_op.alter_column('content', existing_type=sa.LargeBinary(), nullable=True)


def downgrade():
    # complaint photos stored in the database go back into their rows (those in a bucket cannot)
    op.execute("UPDATE public_complaint_photo SET content = (SELECT content FROM stored_file "
               "WHERE stored_file.key = public_complaint_photo.stored_key) WHERE content IS NULL")
    with op.batch_alter_table('public_complaint_photo', schema=None) as batch_op:
        batch_op.alter_column('content', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column('stored_key')
    with op.batch_alter_table('rate_limit_counter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limit_counter_expires_at'))
    op.drop_table('rate_limit_counter')
    op.drop_table('stored_file')
