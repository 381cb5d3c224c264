"""hand-outs to people registered on the spot keyed by their spot_recipient row, not their identity number

A person registered on the spot (现场登记) was keyed ``P<identity number>`` in
``handout.recipient_key``; the key is now ``S<spot_recipient id>``, so no hand-out row carries
the full identity number. The once-per-item-per-round rule holds as before: one spot row per
identity number, so the mapping is one to one.

Revision ID: 0018_handout_spot_key
Revises: 0017_supply
Create Date: 2026-12-08 09:00:00

"""
from alembic import op

revision = '0018_handout_spot_key'
down_revision = '0017_supply'
branch_labels = None
depends_on = None


def upgrade():
    # the row the hand-out names, else (never expected) the row of the identity number in the key
    op.execute("""
        UPDATE handout SET spot_recipient_id = (
            SELECT s.id FROM spot_recipient s WHERE s.id_number = substr(handout.recipient_key, 2))
        WHERE recipient_key LIKE 'P%' AND spot_recipient_id IS NULL
    """)
    op.execute("""
        UPDATE handout SET recipient_key = 'S' || CAST(spot_recipient_id AS VARCHAR(20))
        WHERE recipient_key LIKE 'P%' AND spot_recipient_id IS NOT NULL
    """)


def downgrade():
    op.execute("""
        UPDATE handout SET recipient_key = 'P' || (
            SELECT s.id_number FROM spot_recipient s WHERE s.id = handout.spot_recipient_id)
        WHERE recipient_key LIKE 'S%'
    """)
