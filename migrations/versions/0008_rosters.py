"""rosters: the roster of the dead and missing (with status changes), of damaged houses, explanations
of roster differences, units' text descriptions, and review upward (审核/退回) of units' reports

Revision ID: 0008_rosters
Revises: 0007_payments
Create Date: 2026-12-07 05:55:20.816466

"""
from alembic import op
import sqlalchemy as sa

import app.types
from app.migration_support import append_only
from sqlalchemy.dialects import postgresql

revision = '0008_rosters'
down_revision = '0007_payments'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('casualty',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('sex', sa.String(length=8), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('age', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('cause', sa.String(length=200), nullable=False),
    sa.Column('hazard', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_casualty_created_by_id_user')),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_casualty_event_id_event')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_casualty_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_casualty')),
    sa.UniqueConstraint('id_number', name=op.f('uq_casualty_id_number'))
    )
    with op.batch_alter_table('casualty', schema=None) as batch_op:
        batch_op.create_index('ix_casualty_event_region', ['event_id', 'region_code'], unique=False)

    op.create_table('damaged_house',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('head_name', sa.String(length=50), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('rooms', sa.Integer(), nullable=False),
    sa.Column('damage_class', sa.String(length=12), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_damaged_house_created_by_id_user')),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_damaged_house_event_id_event')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_damaged_house_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_damaged_house')),
    sa.UniqueConstraint('event_id', 'id_number', 'damage_class', name=op.f('uq_damaged_house_event_id'))
    )
    with op.batch_alter_table('damaged_house', schema=None) as batch_op:
        batch_op.create_index('ix_damaged_house_event_region', ['event_id', 'region_code'], unique=False)

    op.create_table('roster_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('roster', sa.String(length=12), nullable=False),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('written_by_id', sa.Integer(), nullable=True),
    sa.Column('written_by', sa.String(length=80), nullable=False),
    sa.Column('written_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_roster_note_event_id_event')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_roster_note_region_code_region')),
    sa.ForeignKeyConstraint(['written_by_id'], ['user.id'], name=op.f('fk_roster_note_written_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_note'))
    )
    with op.batch_alter_table('roster_note', schema=None) as batch_op:
        batch_op.create_index('ix_roster_note_event_region', ['event_id', 'region_code', 'roster'], unique=False)

    op.create_table('casualty_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('casualty_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=12), nullable=False),
    sa.Column('to_status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_by', sa.String(length=80), nullable=False),
    sa.Column('changed_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['casualty_id'], ['casualty.id'], name=op.f('fk_casualty_change_casualty_id_casualty')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['user.id'], name=op.f('fk_casualty_change_changed_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_casualty_change'))
    )
    with op.batch_alter_table('casualty_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_casualty_change_casualty_id'), ['casualty_id'], unique=False)

    op.create_table('report_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_by', sa.String(length=80), nullable=False),
    sa.Column('reviewer_region_code', sa.String(length=12), nullable=False),
    sa.Column('reviewed_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_report_review_event_id_event')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_report_review_region_code_region')),
    sa.ForeignKeyConstraint(['report_id'], ['loss_report.id'], name=op.f('fk_report_review_report_id_loss_report')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['user.id'], name=op.f('fk_report_review_reviewed_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_review')),
    sa.UniqueConstraint('report_id', name=op.f('uq_report_review_report_id'))
    )
    with op.batch_alter_table('report_review', schema=None) as batch_op:
        batch_op.create_index('ix_report_review_event_region', ['event_id', 'region_code'], unique=False)

    op.create_table('report_text',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('written_by_id', sa.Integer(), nullable=True),
    sa.Column('written_by', sa.String(length=80), nullable=False),
    sa.Column('written_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_report_text_event_id_event')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_report_text_region_code_region')),
    sa.ForeignKeyConstraint(['written_by_id'], ['user.id'], name=op.f('fk_report_text_written_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_text'))
    )
    with op.batch_alter_table('report_text', schema=None) as batch_op:
        batch_op.create_index('ix_report_text_event_region', ['event_id', 'region_code'], unique=False)

    for table in ('casualty_change', 'roster_note', 'report_review', 'report_text'):
        append_only(table)


def downgrade():
    with op.batch_alter_table('report_text', schema=None) as batch_op:
        batch_op.drop_index('ix_report_text_event_region')

    op.drop_table('report_text')
    with op.batch_alter_table('report_review', schema=None) as batch_op:
        batch_op.drop_index('ix_report_review_event_region')

    op.drop_table('report_review')
    with op.batch_alter_table('casualty_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_casualty_change_casualty_id'))

    op.drop_table('casualty_change')
    with op.batch_alter_table('roster_note', schema=None) as batch_op:
        batch_op.drop_index('ix_roster_note_event_region')

    op.drop_table('roster_note')
    with op.batch_alter_table('damaged_house', schema=None) as batch_op:
        batch_op.drop_index('ix_damaged_house_event_region')

    op.drop_table('damaged_house')
    with op.batch_alter_table('casualty', schema=None) as batch_op:
        batch_op.drop_index('ix_casualty_event_region')

    op.drop_table('casualty')
