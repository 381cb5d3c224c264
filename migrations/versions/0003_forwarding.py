"""forwarding (审核上报) by prefectures and provinces; reports by submission time

Revision ID: 0003_forwarding
Revises: 0002_areas
Create Date: 2026-11-22 18:05:00

"""
from alembic import op
import sqlalchemy as sa

import app.types
from app.migration_support import append_only
from sqlalchemy.dialects import postgresql

revision = '0003_forwarding'
down_revision = '0002_areas'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_forward',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('as_of', app.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('figures', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('reporting_units', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('forwarded_by_id', sa.Integer(), nullable=True),
    sa.Column('forwarded_by', sa.String(length=80), nullable=False),
    sa.Column('forwarded_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_report_forward_event_id_event')),
    sa.ForeignKeyConstraint(['forwarded_by_id'], ['user.id'], name=op.f('fk_report_forward_forwarded_by_id_user')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_report_forward_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_forward')),
    sa.UniqueConstraint('event_id', 'region_code', 'sequence', name=op.f('uq_report_forward_event_id'))
    )
    with op.batch_alter_table('report_forward', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_forward_event_id'), ['event_id'], unique=False)
    with op.batch_alter_table('loss_report', schema=None) as batch_op:
        batch_op.create_index('ix_loss_report_event_submitted', ['event_id', 'submitted_at'], unique=False)
    append_only('report_forward')


def downgrade():
    with op.batch_alter_table('loss_report', schema=None) as batch_op:
        batch_op.drop_index('ix_loss_report_event_submitted')
    with op.batch_alter_table('report_forward', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_forward_event_id'))
    op.drop_table('report_forward')
