"""public release, complaints from the public, department sharing (issue 18)

Tables: public_release (统一发布 bulletins, frozen at approval), public_complaint (投诉举报 from
the public, with ticket numbers and deadlines) and public_complaint_photo, house_appraisal (住建's house-safety appraisals).

Revision ID: 0006_public
Revises: 0005_unit_clocks
Create Date: 2026-12-07 05:56:42.269548

"""
from alembic import op
import sqlalchemy as sa

import app.types
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0006_public'
down_revision = '0005_unit_clocks'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('house_appraisal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('appraisal_no', sa.String(length=60), nullable=False),
    sa.Column('appraised_on', sa.Date(), nullable=False),
    sa.Column('damage_class_before', sa.String(length=20), nullable=False),
    sa.Column('damage_class', sa.String(length=20), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=80), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_house_appraisal_household_id_household')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_house_appraisal_recorded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_house_appraisal'))
    )
    with op.batch_alter_table('house_appraisal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_house_appraisal_household_id'), ['household_id'], unique=False)

    op.create_table('public_complaint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket', sa.String(length=24), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('subject', sa.String(length=20), nullable=False),
    sa.Column('programme', sa.String(length=20), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('household_named', sa.String(length=100), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('contact', sa.String(length=60), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('received_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('escalated_at', app.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('cycle_complaint_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', app.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['answered_by_id'], ['user.id'], name=op.f('fk_public_complaint_answered_by_id_user')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_public_complaint_household_id_household')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_public_complaint_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_public_complaint')),
    sa.UniqueConstraint('ticket', name=op.f('uq_public_complaint_ticket'))
    )
    with op.batch_alter_table('public_complaint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_public_complaint_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_public_complaint_status'), ['status'], unique=False)

    op.create_table('public_complaint_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('received_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['public_complaint.id'], name=op.f('fk_public_complaint_photo_complaint_id_public_complaint')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_public_complaint_photo'))
    )
    with op.batch_alter_table('public_complaint_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_public_complaint_photo_complaint_id'), ['complaint_id'], unique=False)

    op.create_table('public_release',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('relief', sa.Text(), nullable=False),
    sa.Column('as_of', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('figures', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('responses', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('changes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('change_note', sa.Text(), nullable=False),
    sa.Column('drafted_by_id', sa.Integer(), nullable=True),
    sa.Column('drafted_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', app.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['user.id'], name=op.f('fk_public_release_approved_by_id_user')),
    sa.ForeignKeyConstraint(['corrects_id'], ['public_release.id'], name=op.f('fk_public_release_corrects_id_public_release')),
    sa.ForeignKeyConstraint(['drafted_by_id'], ['user.id'], name=op.f('fk_public_release_drafted_by_id_user')),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_public_release_event_id_event')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_public_release_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_public_release')),
    sa.UniqueConstraint('event_id', 'region_code', 'version', name='uq_public_release_event_region_version')
    )
    with op.batch_alter_table('public_release', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_public_release_event_id'), ['event_id'], unique=False)



def downgrade():
    with op.batch_alter_table('public_release', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_public_release_event_id'))

    op.drop_table('public_release')
    with op.batch_alter_table('public_complaint_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_public_complaint_photo_complaint_id'))

    op.drop_table('public_complaint_photo')
    with op.batch_alter_table('public_complaint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_public_complaint_status'))
        batch_op.drop_index(batch_op.f('ix_public_complaint_region_code'))

    op.drop_table('public_complaint')
    with op.batch_alter_table('house_appraisal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_house_appraisal_household_id'))

    op.drop_table('house_appraisal')
