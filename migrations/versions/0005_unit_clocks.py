"""unit clocks: regions added to or withdrawn from an event, counties declared stable on their own

Revision ID: 0005_unit_clocks
Revises: 0004_accounts
Create Date: 2026-12-07 06:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.types

revision = '0005_unit_clocks'
down_revision = '0004_accounts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('event_unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('added_at', app.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('impact_at', app.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', app.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.Column('withdraw_reason', sa.Text(), nullable=True),
    sa.Column('stabilised_at', app.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('stabilised_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['added_by_id'], ['user.id'], name=op.f('fk_event_unit_added_by_id_user')),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_event_unit_event_id_event')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_event_unit_region_code_region')),
    sa.ForeignKeyConstraint(['stabilised_by_id'], ['user.id'], name=op.f('fk_event_unit_stabilised_by_id_user')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['user.id'], name=op.f('fk_event_unit_withdrawn_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_unit')),
    sa.UniqueConstraint('event_id', 'region_code', name=op.f('uq_event_unit_event_id'))
    )
    with op.batch_alter_table('event_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_unit_event_id'), ['event_id'], unique=False)


def downgrade():
    with op.batch_alter_table('event_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_unit_event_id'))
    op.drop_table('event_unit')
