"""forecast (预判): hazard footprints uploaded for an event

Revision ID: 0009_forecast
Revises: 0008_rosters
Create Date: 2026-12-07 06:30:00

"""
from alembic import op
import sqlalchemy as sa

import app.types
from app.migration_support import append_only

revision = '0009_forecast'
down_revision = '0008_rosters'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('hazard_footprint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('hazard', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('intensity_field', sa.String(length=60), nullable=True),
    sa.Column('from_gcj02', sa.Boolean(), nullable=False),
    sa.Column('polygons', sa.Integer(), nullable=False),
    sa.Column('geojson', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_by', sa.String(length=80), nullable=False),
    sa.Column('uploaded_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_hazard_footprint_event_id_event')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_hazard_footprint_uploaded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hazard_footprint'))
    )
    with op.batch_alter_table('hazard_footprint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hazard_footprint_event_id'), ['event_id'], unique=False)
    append_only('hazard_footprint')


def downgrade():
    with op.batch_alter_table('hazard_footprint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hazard_footprint_event_id'))
    op.drop_table('hazard_footprint')
