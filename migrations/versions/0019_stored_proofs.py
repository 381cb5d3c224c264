"""house-check photos and hand-out proofs in the file store every instance sees (stored_file)

House-check photos (``house_check_photo.content``) and hand-out proofs (``handout_proof.data``)
kept their bytes in a column of their own, which every instance read but which did not follow
``FILE_STORAGE=s3``. They now go through :mod:`app.storage` like report and complaint photos:
each row names its file (``stored_key``). This revision moves every existing file into
``stored_file`` (backend ``database``, with its SHA-256), one row at a time, then drops the
columns. Downgrading copies the bytes back from ``stored_file`` (files already in a bucket
cannot be copied back: the downgrade refuses them).

``handout.proof_id`` refers to ``handout_proof``, and SQLite cannot rebuild a referenced table
inside a migration's transaction with foreign keys on: that table is changed with plain
``ADD COLUMN``/``DROP COLUMN`` (SQLite ≥ 3.35), so its ``stored_key`` stays nullable in the
schema (every row has one).

Revision ID: 0019_stored_proofs
Revises: 0018_handout_spot_key
Create Date: 2026-12-07 22:30:00
"""
import hashlib
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

import app.types

revision = '0019_stored_proofs'
down_revision = '0018_handout_spot_key'
branch_labels = None
depends_on = None

# (table, bytes column, content type column, key of one row's file, rebuilt: stored_key NOT NULL)
MOVES = (
    ('house_check_photo', 'content', 'content_type',
     lambda row, digest, ext: f"cycles/checks/{row['check_id']}/{digest[:32]}.{ext}", True),
    ('handout_proof', 'data', 'mimetype',
     lambda row, digest, ext: f"distribution/proofs/migrated-{row['id']}-{digest[:16]}.{ext}", False),
)

stored_file = sa.table('stored_file', sa.column('key', sa.String), sa.column('content_type', sa.String),
                       sa.column('size', sa.Integer), sa.column('sha256', sa.String),
                       sa.column('backend', sa.String), sa.column('content', sa.LargeBinary),
                       sa.column('created_at', app.types.UTCDateTime))


def _extension(content_type: str) -> str:
    return (content_type or 'application/octet-stream').split('/')[-1].split(';')[0] or 'bin'


def upgrade():
    conn = op.get_bind()
    now = datetime.now(timezone.utc)
    for table, column, type_column, key_of, rebuilt in MOVES:
        op.add_column(table, sa.Column('stored_key', sa.String(length=300), nullable=True))
        ids = conn.execute(sa.text(f"SELECT id FROM {table} WHERE stored_key IS NULL ORDER BY id")).scalars().all()
        for row_id in ids:  # one file at a time: photos are up to a few MB each
            row = conn.execute(sa.text(f"SELECT * FROM {table} WHERE id = :id"), {"id": row_id}).mappings().one()
            content = bytes(row[column] or b'')
            digest = hashlib.sha256(content).hexdigest()
            key = key_of(row, digest, _extension(row[type_column]))
            exists = conn.execute(sa.text("SELECT sha256 FROM stored_file WHERE key = :key"), {"key": key}).scalar()
            if exists is None:
                conn.execute(stored_file.insert().values(key=key, content_type=row[type_column], size=len(content),
                                                         sha256=digest, backend='database', content=content,
                                                         created_at=now))
            elif exists != digest:
                raise RuntimeError(f"stored_file {key} exists with other bytes than {table} {row_id}")
            conn.execute(sa.text(f"UPDATE {table} SET stored_key = :key WHERE id = :id"), {"key": key, "id": row_id})
        if rebuilt:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.alter_column('stored_key', existing_type=sa.String(length=300), nullable=False)
                batch_op.drop_column(column)
        else:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")


def downgrade():
    conn = op.get_bind()
    for table, column, _type_column, _key_of, rebuilt in MOVES:
        elsewhere = conn.execute(sa.text(
            f"SELECT count(*) FROM {table} t JOIN stored_file f ON f.key = t.stored_key "
            f"WHERE f.backend != 'database'")).scalar()
        if elsewhere:
            raise RuntimeError(f"{elsewhere} files of {table} are in a bucket (FILE_STORAGE=s3): "
                               "they cannot go back into the database column")
        op.add_column(table, sa.Column(column, sa.LargeBinary(), nullable=True))
        op.execute(f"UPDATE {table} SET {column} = (SELECT content FROM stored_file "
                   f"WHERE stored_file.key = {table}.stored_key)")
        op.execute(f"DELETE FROM stored_file WHERE key IN (SELECT stored_key FROM {table})")
        if rebuilt:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.drop_column('stored_key')
        else:  # handout_proof.data stays nullable on the way down (the table cannot be rebuilt)
            op.execute(f"ALTER TABLE {table} DROP COLUMN stored_key")
