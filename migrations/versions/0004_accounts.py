"""accounts: server-side sign-in sessions, revocable tokens, forced password change, login failures

Revision ID: 0004_accounts
Revises: 0003_forwarding
Create Date: 2026-11-23 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.types

revision = '0004_accounts'
down_revision = '0003_forwarding'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('password_changed_at', app.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('temporary_password_expires_at', app.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('temporary_password_used_at', app.types.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('label', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('created_ip', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('last_used_at', app.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', app.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revoked_reason', sa.String(length=40), nullable=True))
    # a token revoked before this revision keeps being revoked (its moment is unknown: its creation)
    op.execute(sa.text("UPDATE api_token SET revoked_at = created_at, revoked_reason = 'revoked' "
                       "WHERE revoked"))
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('revoked')

    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=True),
    sa.Column('revoked_at', app.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_reason', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_user_session_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_user_session_key_hash'))
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)

    op.create_table('login_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', app.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('account_cleared', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure'))
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failure_at'), ['at'], unique=False)
        batch_op.create_index('ix_login_failure_username_at', ['username', 'at'], unique=False)
        batch_op.create_index('ix_login_failure_address_at', ['address', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failure_address_at')
        batch_op.drop_index('ix_login_failure_username_at')
        batch_op.drop_index(batch_op.f('ix_login_failure_at'))
    op.drop_table('login_failure')
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))
    op.drop_table('user_session')

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(sa.text("UPDATE api_token SET revoked = (revoked_at IS NOT NULL)"))
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('revoked_reason')
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('created_ip')
        batch_op.drop_column('label')

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('temporary_password_used_at')
        batch_op.drop_column('temporary_password_expires_at')
        batch_op.drop_column('password_changed_at')
        batch_op.drop_column('must_change_password')
