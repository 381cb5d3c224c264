"""payments: bank return files (回盘), payment outcomes, re-issue attempts, fund credits back

Revision ID: 0007_payments
Revises: 0006_public
Create Date: 2026-12-07 06:00:00

A payment already made before this revision is attempt 0 and has no outcome: it stays *issued*
until the bank's return file for its batch is imported.
"""
from alembic import op
import sqlalchemy as sa

import app.types
from app.migration_support import append_only

revision = '0007_payments'
down_revision = '0006_public'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempt', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('reissue_of_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_payment_cycle_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_payment_cycle_id'),
                                          ['cycle_id', 'household_id', 'period', 'attempt'])
        batch_op.create_unique_constraint(batch_op.f('uq_payment_reissue_of_id'), ['reissue_of_id'])
        batch_op.create_foreign_key(batch_op.f('fk_payment_reissue_of_id_payment'), 'payment',
                                    ['reissue_of_id'], ['id'])

    with op.batch_alter_table('fund_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credit_of_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_fund_entry_credit_of_id'), ['credit_of_id'])
        batch_op.create_foreign_key(batch_op.f('fk_fund_entry_credit_of_id_payment'), 'payment',
                                    ['credit_of_id'], ['id'])

    op.create_table('bank_return',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_roll_id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('paid_count', sa.Integer(), nullable=False),
    sa.Column('failed_count', sa.Integer(), nullable=False),
    sa.Column('returned_count', sa.Integer(), nullable=False),
    sa.Column('credited_fen', sa.BigInteger(), nullable=False),
    sa.Column('at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['payment_roll_id'], ['payment_roll.id'], name=op.f('fk_bank_return_payment_roll_id_payment_roll')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_return'))
    )
    with op.batch_alter_table('bank_return', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_return_payment_roll_id'), ['payment_roll_id'], unique=False)

    op.create_table('payment_outcome',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('bank_return_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bank_return_id'], ['bank_return.id'], name=op.f('fk_payment_outcome_bank_return_id_bank_return')),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_payment_outcome_payment_id_payment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_outcome')),
    sa.UniqueConstraint('payment_id', 'status', name=op.f('uq_payment_outcome_payment_id'))
    )
    with op.batch_alter_table('payment_outcome', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_outcome_bank_return_id'), ['bank_return_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_outcome_payment_id'), ['payment_id'], unique=False)

    for table in ('bank_return', 'payment_outcome'):
        append_only(table)


def downgrade():
    op.drop_table('payment_outcome')
    op.drop_table('bank_return')
    with op.batch_alter_table('fund_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_fund_entry_credit_of_id_payment'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_fund_entry_credit_of_id'), type_='unique')
        batch_op.drop_column('credit_of_id')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payment_reissue_of_id_payment'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_payment_reissue_of_id'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_payment_cycle_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_payment_cycle_id'), ['cycle_id', 'household_id', 'period'])
        batch_op.drop_column('reissue_of_id')
        batch_op.drop_column('attempt')
