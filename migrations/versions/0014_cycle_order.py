"""cycles in the official order (申请 → 民主评议 → 公示 → 乡审 → 县批) and the house-by-house check

Revision ID: 0014_cycle_order
Revises: 0013_notice_text
Create Date: 2026-12-07 15:00:00

The rules (domain.md §4) give 申请 → 民主评议 (village) → 公示 (at least 7 days) → 乡审 → 县批;
the old machine ran the village and the township reviews together before the notice
(``review``) and let the county approve straight after it. Cycles already running move as follows:

- ``draft``, ``survey``: unchanged (申请 is the survey).
- ``review`` (村评 and 乡审 before the notice) → ``village_review`` (民主评议). The village
  decisions stand. A township decision already recorded was taken before the notice, out of
  order: it is kept in ``township_note`` as "公示前乡审（旧流程）：通过/不通过" and cleared, so the
  township decides again after the notice.
- ``notice`` stays ``notice``: the notice runs on; when it has run, the township's 乡审 follows
  (``end_notice``), then 县批. The township decisions taken before it (the old order) are kept as
  the township's provisional decisions, which the township may change during 乡审; under the old
  order only households approved by both were noticed, so a household the township rejected was
  never noticed and stays rejected.
- ``approved``, ``disbursing``, ``closed``, ``cancelled``: unchanged (their rolls were frozen).

Supplementary rolls: ``notice`` rolls were put up for notice by the county without the villages'
民主评议 (the old order); their notice runs on, then the townships' 乡审 and the county's 县批
follow (``notice`` → ``township`` → ``county`` → ``frozen``). ``frozen`` and ``cancelled`` rolls are
unchanged. Downgrading moves ``village_review`` and ``township_review`` back to ``review`` and
``notice`` respectively, and rolls in ``village``, ``township`` or ``county`` back to ``notice``.

New tables: ``house_check`` and ``house_check_photo`` (逐户核查), ``relief_roll_step`` (the
villages' and townships' steps of a supplementary roll); new columns: the check's outcome on
``cycle_beneficiary`` and the notice place on ``relief_roll``.
"""
from alembic import op
import sqlalchemy as sa

import app.types

revision = '0014_cycle_order'
down_revision = '0013_notice_text'
branch_labels = None
depends_on = None

OLD_TOWNSHIP_NOTE = {"approve": "公示前乡审（旧流程）：通过", "reject": "公示前乡审（旧流程）：不通过"}


def upgrade():
    op.create_table('house_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('checked_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('checked_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_by', sa.String(length=80), nullable=False),
    sa.Column('checkers', sa.String(length=200), nullable=False),
    sa.Column('registered_class', sa.String(length=20), nullable=False),
    sa.Column('found_class', sa.String(length=20), nullable=False),
    sa.Column('exclusion', sa.String(length=20), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('late_reason', sa.Text(), nullable=True),
    sa.Column('photo_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['checked_by_id'], ['user.id'], name=op.f('fk_house_check_checked_by_id_user')),
    sa.ForeignKeyConstraint(['cycle_id'], ['relief_cycle.id'], name=op.f('fk_house_check_cycle_id_relief_cycle')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_house_check_household_id_household')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_house_check'))
    )
    with op.batch_alter_table('house_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_house_check_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_house_check_household_id'), ['household_id'], unique=False)

    op.create_table('house_check_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('check_id', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['check_id'], ['house_check.id'], name=op.f('fk_house_check_photo_check_id_house_check')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_house_check_photo'))
    )
    with op.batch_alter_table('house_check_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_house_check_photo_check_id'), ['check_id'], unique=False)

    op.create_table('relief_roll_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('roll_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=10), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['roll_id'], ['relief_roll.id'], name=op.f('fk_relief_roll_step_roll_id_relief_roll')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_relief_roll_step_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relief_roll_step')),
    sa.UniqueConstraint('roll_id', 'stage', 'region_code', name=op.f('uq_relief_roll_step_roll_id'))
    )
    with op.batch_alter_table('relief_roll_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_relief_roll_step_roll_id'), ['roll_id'], unique=False)

    with op.batch_alter_table('cycle_beneficiary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checked_at', app.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('checked_damage_class', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('excluded', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('relief_roll', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice_location', sa.String(length=200), nullable=False, server_default=''))

    _move_running_cycles()


def _move_running_cycles():
    """The cycles and rolls already running, moved into the official order (see above)."""
    bind = op.get_bind()
    cycle = sa.table('relief_cycle', sa.column('id', sa.Integer), sa.column('status', sa.String))
    row = sa.table('cycle_beneficiary', sa.column('id', sa.Integer), sa.column('cycle_id', sa.Integer),
                   sa.column('township_decision', sa.String), sa.column('township_note', sa.Text),
                   sa.column('township_at', app.types.UTCDateTime(timezone=True)))
    in_review = [r.id for r in bind.execute(sa.select(cycle.c.id).where(cycle.c.status == 'review'))]
    if in_review:
        decided = bind.execute(sa.select(row.c.id, row.c.township_decision, row.c.township_note).where(
            row.c.cycle_id.in_(in_review), row.c.township_decision.isnot(None))).all()
        for found in decided:
            note = OLD_TOWNSHIP_NOTE.get(found.township_decision, found.township_decision)
            if found.township_note:
                note = f"{note}；{found.township_note}"
            bind.execute(row.update().where(row.c.id == found.id).values(
                township_decision=None, township_at=None, township_note=note))
        bind.execute(cycle.update().where(cycle.c.status == 'review').values(status='village_review'))


def downgrade():
    bind = op.get_bind()
    cycle = sa.table('relief_cycle', sa.column('status', sa.String))
    roll = sa.table('relief_roll', sa.column('status', sa.String))
    bind.execute(cycle.update().where(cycle.c.status == 'village_review').values(status='review'))
    bind.execute(cycle.update().where(cycle.c.status == 'township_review').values(status='notice'))
    bind.execute(roll.update().where(roll.c.status.in_(('village', 'township', 'county'))).values(status='notice'))
    with op.batch_alter_table('relief_roll', schema=None) as batch_op:
        batch_op.drop_column('notice_location')
    with op.batch_alter_table('cycle_beneficiary', schema=None) as batch_op:
        batch_op.drop_column('excluded')
        batch_op.drop_column('checked_damage_class')
        batch_op.drop_column('checked_at')
    with op.batch_alter_table('relief_roll_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_relief_roll_step_roll_id'))
    op.drop_table('relief_roll_step')
    with op.batch_alter_table('house_check_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_house_check_photo_check_id'))
    op.drop_table('house_check_photo')
    with op.batch_alter_table('house_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_house_check_household_id'))
        batch_op.drop_index(batch_op.f('ix_house_check_cycle_id'))
    op.drop_table('house_check')
