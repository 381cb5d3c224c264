"""Helpers for Alembic revisions: the parts that differ between SQLite and PostgreSQL/PostGIS."""
from __future__ import annotations

from alembic import op


def is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def ensure_postgis() -> None:
    if is_postgres():
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def spatial_index(name: str, table: str, expression: str) -> None:
    """A GiST index on PostgreSQL (``expression`` is a column or a SQL expression); nothing on
    SQLite, where the ``gis`` library indexes in memory."""
    if is_postgres():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gist ({expression})")


def append_only(table: str) -> None:
    """On PostgreSQL refuse UPDATE and DELETE of a ledger table in the database itself."""
    if not is_postgres():
        return
    op.execute("""
        CREATE OR REPLACE FUNCTION jiuzai_refuse_change() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only (只增不改的台账)', TG_TABLE_NAME;
        END $$ LANGUAGE plpgsql
    """)
    op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
               f"FOR EACH ROW EXECUTE FUNCTION jiuzai_refuse_change()")
