"""The migrations build the same schema as the models, on SQLite and on PostgreSQL."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect

from app import create_app
from app.extensions import db


def schema_drift(url: str) -> list:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_object": _ours, "compare_type": False})
            diff = compare_metadata(context, db.metadata)
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    return diff, tables


def _ours(obj, name, type_, reflected, compare_to):
    if type_ == "table" and name in {"spatial_ref_sys"}:
        return False
    if type_ == "index" and name in {"ix_region_location", "ix_region_boundary"}:
        return False  # expression / GiST indexes made by hand on PostgreSQL only
    return True


def test_sqlite_migrations_match_models(tmp_path):
    diff, tables = schema_drift(f"sqlite:///{tmp_path / 'm.sqlite'}")
    assert diff == []
    assert {"region", "user", "audit_entry"} <= tables


def test_postgres_migrations_match_models(pg_url):
    diff, tables = schema_drift(pg_url)
    assert diff == []
    assert {"region", "user", "audit_entry"} <= tables
