"""distribution to households (发放签领): points, their stock ledger, rounds, people registered
on the spot, hand-outs and their proofs, returns to depots

Revision ID: 0015_distribution
Revises: 0014_cycle_order
Create Date: 2026-12-07 14:43:16.441453

"""
from alembic import op
import sqlalchemy as sa

import app.types
from app.migration_support import append_only


# revision identifiers, used by Alembic.
revision = '0015_distribution'
down_revision = '0014_cycle_order'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('handout_proof',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('mimetype', sa.String(length=40), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handout_proof'))
    )
    op.create_table('spot_recipient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('household_size', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('registered_by', sa.String(length=80), nullable=False),
    sa.Column('registered_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_spot_recipient_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spot_recipient')),
    sa.UniqueConstraint('id_number', name=op.f('uq_spot_recipient_id_number'))
    )
    with op.batch_alter_table('spot_recipient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spot_recipient_region_code'), ['region_code'], unique=False)

    op.create_table('distribution_point',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_distribution_point_event_id_event')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_distribution_point_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_point'))
    )
    with op.batch_alter_table('distribution_point', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distribution_point_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_distribution_point_region_code'), ['region_code'], unique=False)

    op.create_table('distribution_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('opened_by', sa.String(length=80), nullable=False),
    sa.Column('opened_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_distribution_round_event_id_event')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_distribution_round_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_round')),
    sa.UniqueConstraint('event_id', 'region_code', 'number', name=op.f('uq_distribution_round_event_id'))
    )
    with op.batch_alter_table('distribution_round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distribution_round_event_id'), ['event_id'], unique=False)

    op.create_table('handout',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('round_number', sa.Integer(), nullable=False),
    sa.Column('recipient_key', sa.String(length=24), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('spot_recipient_id', sa.Integer(), nullable=True),
    sa.Column('item_code', sa.String(length=40), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('proof_id', sa.Integer(), nullable=False),
    sa.Column('proof_kind', sa.String(length=12), nullable=False),
    sa.Column('handed_by', sa.String(length=80), nullable=False),
    sa.Column('handed_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_handout_handout_quantity_positive')),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_handout_event_id_event')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_handout_household_id_household')),
    sa.ForeignKeyConstraint(['item_code'], ['item.code'], name=op.f('fk_handout_item_code_item')),
    sa.ForeignKeyConstraint(['point_id'], ['distribution_point.id'], name=op.f('fk_handout_point_id_distribution_point')),
    sa.ForeignKeyConstraint(['proof_id'], ['handout_proof.id'], name=op.f('fk_handout_proof_id_handout_proof')),
    sa.ForeignKeyConstraint(['spot_recipient_id'], ['spot_recipient.id'], name=op.f('fk_handout_spot_recipient_id_spot_recipient')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handout')),
    sa.UniqueConstraint('event_id', 'recipient_key', 'item_code', 'round_number', name='uq_handout_once_per_round')
    )
    with op.batch_alter_table('handout', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handout_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handout_point_id'), ['point_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handout_spot_recipient_id'), ['spot_recipient_id'], unique=False)

    op.create_table('point_return',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('returned_by', sa.String(length=80), nullable=False),
    sa.Column('returned_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['point_id'], ['distribution_point.id'], name=op.f('fk_point_return_point_id_distribution_point')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_return'))
    )
    with op.batch_alter_table('point_return', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_point_return_point_id'), ['point_id'], unique=False)

    op.create_table('point_balance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=40), nullable=False),
    sa.Column('dispatch_id', sa.Integer(), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.CheckConstraint('on_hand >= 0', name=op.f('ck_point_balance_point_on_hand_not_negative')),
    sa.ForeignKeyConstraint(['dispatch_id'], ['dispatch.id'], name=op.f('fk_point_balance_dispatch_id_dispatch')),
    sa.ForeignKeyConstraint(['item_code'], ['item.code'], name=op.f('fk_point_balance_item_code_item')),
    sa.ForeignKeyConstraint(['point_id'], ['distribution_point.id'], name=op.f('fk_point_balance_point_id_distribution_point')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_balance')),
    sa.UniqueConstraint('point_id', 'item_code', 'dispatch_id', name=op.f('uq_point_balance_point_id'))
    )
    with op.batch_alter_table('point_balance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_point_balance_point_id'), ['point_id'], unique=False)

    op.create_table('point_movement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=40), nullable=False),
    sa.Column('dispatch_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.Integer(), nullable=False),
    sa.Column('handout_id', sa.Integer(), nullable=True),
    sa.Column('return_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dispatch_id'], ['dispatch.id'], name=op.f('fk_point_movement_dispatch_id_dispatch')),
    sa.ForeignKeyConstraint(['handout_id'], ['handout.id'], name=op.f('fk_point_movement_handout_id_handout')),
    sa.ForeignKeyConstraint(['item_code'], ['item.code'], name=op.f('fk_point_movement_item_code_item')),
    sa.ForeignKeyConstraint(['point_id'], ['distribution_point.id'], name=op.f('fk_point_movement_point_id_distribution_point')),
    sa.ForeignKeyConstraint(['return_id'], ['point_return.id'], name=op.f('fk_point_movement_return_id_point_return')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_movement'))
    )
    with op.batch_alter_table('point_movement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_point_movement_dispatch_id'), ['dispatch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_point_movement_handout_id'), ['handout_id'], unique=False)
        batch_op.create_index('ix_point_movement_point_item', ['point_id', 'item_code', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_point_movement_return_id'), ['return_id'], unique=False)

    append_only('point_movement')


def downgrade():
    with op.batch_alter_table('point_movement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_point_movement_return_id'))
        batch_op.drop_index('ix_point_movement_point_item')
        batch_op.drop_index(batch_op.f('ix_point_movement_handout_id'))
        batch_op.drop_index(batch_op.f('ix_point_movement_dispatch_id'))

    op.drop_table('point_movement')
    with op.batch_alter_table('point_balance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_point_balance_point_id'))

    op.drop_table('point_balance')
    with op.batch_alter_table('point_return', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_point_return_point_id'))

    op.drop_table('point_return')
    with op.batch_alter_table('handout', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handout_spot_recipient_id'))
        batch_op.drop_index(batch_op.f('ix_handout_point_id'))
        batch_op.drop_index(batch_op.f('ix_handout_household_id'))

    op.drop_table('handout')
    with op.batch_alter_table('distribution_round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_distribution_round_event_id'))

    op.drop_table('distribution_round')
    with op.batch_alter_table('distribution_point', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_distribution_point_region_code'))
        batch_op.drop_index(batch_op.f('ix_distribution_point_event_id'))

    op.drop_table('distribution_point')
    with op.batch_alter_table('spot_recipient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spot_recipient_region_code'))

    op.drop_table('spot_recipient')
    op.drop_table('handout_proof')
