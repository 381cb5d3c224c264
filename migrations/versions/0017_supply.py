"""supply requests up the tiers (steps, central level) and replenishment obligations (回补)

Revision ID: 0017_supply
Revises: 0016_relief_work
Create Date: 2026-12-07 15:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import app.types
from app.migration_support import append_only

revision = '0017_supply'
down_revision = '0016_relief_work'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('supply_request_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supply_request_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=12), nullable=False),
    sa.Column('level_code', sa.String(length=12), nullable=False),
    sa.Column('to_level_code', sa.String(length=12), nullable=True),
    sa.Column('lines', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['supply_request_id'], ['supply_request.id'], name=op.f('fk_supply_request_step_supply_request_id_supply_request')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_request_step'))
    )
    with op.batch_alter_table('supply_request_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supply_request_step_supply_request_id'), ['supply_request_id'], unique=False)

    op.create_table('replenishment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispatch_id', sa.Integer(), nullable=False),
    sa.Column('depot_code', sa.String(length=40), nullable=False),
    sa.Column('owed_by', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('settled_at', app.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['depot_code'], ['depot.code'], name=op.f('fk_replenishment_depot_code_depot')),
    sa.ForeignKeyConstraint(['dispatch_id'], ['dispatch.id'], name=op.f('fk_replenishment_dispatch_id_dispatch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_replenishment')),
    sa.UniqueConstraint('dispatch_id', name=op.f('uq_replenishment_dispatch_id'))
    )
    with op.batch_alter_table('replenishment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_replenishment_depot_code'), ['depot_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_replenishment_owed_by'), ['owed_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_replenishment_status'), ['status'], unique=False)

    op.create_table('replenishment_dispatch',
    sa.Column('replenishment_id', sa.Integer(), nullable=False),
    sa.Column('dispatch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dispatch_id'], ['dispatch.id'], name=op.f('fk_replenishment_dispatch_dispatch_id_dispatch')),
    sa.ForeignKeyConstraint(['replenishment_id'], ['replenishment.id'], name=op.f('fk_replenishment_dispatch_replenishment_id_replenishment')),
    sa.PrimaryKeyConstraint('replenishment_id', 'dispatch_id', name=op.f('pk_replenishment_dispatch')),
    sa.UniqueConstraint('dispatch_id', name=op.f('uq_replenishment_dispatch_dispatch_id'))
    )

    with op.batch_alter_table('supply_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('to_central', sa.Boolean(), nullable=False, server_default=sa.false()))

    # the requests raised before this revision start their trail with the request itself
    op.execute("INSERT INTO supply_request_step (supply_request_id, action, level_code, to_level_code, username, at) "
               "SELECT id, 'raise', from_region_code, to_region_code, raised_by, raised_at FROM supply_request")
    append_only('supply_request_step')


def downgrade():
    with op.batch_alter_table('supply_request', schema=None) as batch_op:
        batch_op.drop_column('to_central')
    op.drop_table('replenishment_dispatch')
    with op.batch_alter_table('replenishment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_replenishment_status'))
        batch_op.drop_index(batch_op.f('ix_replenishment_owed_by'))
        batch_op.drop_index(batch_op.f('ix_replenishment_depot_code'))
    op.drop_table('replenishment')
    with op.batch_alter_table('supply_request_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supply_request_step_supply_request_id'))
    op.drop_table('supply_request_step')
