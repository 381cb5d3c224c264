"""relief work: the typed-in figures of the relief-work table (救灾工作情况统计快报表, append-only)
and the condolence lines (抚慰金) made from the roster of the dead, one standing line per person

Revision ID: 0016_relief_work
Revises: 0015_distribution
Create Date: 2026-12-07 14:42:44.928165

"""
from alembic import op
import sqlalchemy as sa

import app.types
from app.migration_support import append_only
from sqlalchemy.dialects import postgresql

revision = '0016_relief_work'
down_revision = '0015_distribution'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('relief_work_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('figures', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_relief_work_entry_created_by_id_user')),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_relief_work_entry_event_id_event')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_relief_work_entry_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relief_work_entry'))
    )
    with op.batch_alter_table('relief_work_entry', schema=None) as batch_op:
        batch_op.create_index('ix_relief_work_entry_event_region', ['event_id', 'region_code'], unique=False)

    op.create_table('condolence_claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('casualty_id', sa.Integer(), nullable=False),
    sa.Column('live_casualty_id', sa.Integer(), nullable=True),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('kin_name', sa.String(length=60), nullable=False),
    sa.Column('kin_id_number', sa.String(length=18), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('cancelled_at', app.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['casualty_id'], ['casualty.id'], name=op.f('fk_condolence_claim_casualty_id_casualty')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_condolence_claim_created_by_id_user')),
    sa.ForeignKeyConstraint(['cycle_id'], ['relief_cycle.id'], name=op.f('fk_condolence_claim_cycle_id_relief_cycle')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_condolence_claim_household_id_household')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_condolence_claim')),
    sa.UniqueConstraint('live_casualty_id', name=op.f('uq_condolence_claim_live_casualty_id'))
    )
    with op.batch_alter_table('condolence_claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_condolence_claim_casualty_id'), ['casualty_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_condolence_claim_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_condolence_claim_household_id'), ['household_id'], unique=False)

    append_only('relief_work_entry')


def downgrade():
    with op.batch_alter_table('condolence_claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_condolence_claim_household_id'))
        batch_op.drop_index(batch_op.f('ix_condolence_claim_cycle_id'))
        batch_op.drop_index(batch_op.f('ix_condolence_claim_casualty_id'))

    op.drop_table('condolence_claim')
    with op.batch_alter_table('relief_work_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_relief_work_entry_event_region')

    op.drop_table('relief_work_entry')
