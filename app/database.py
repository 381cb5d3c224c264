"""Engine-level set-up that differs between SQLite and PostgreSQL."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin_immediate)


def _sqlite_pragmas(dbapi_connection, _record):
    # pysqlite's own transaction handling is switched off so that "begin" below can start
    # every transaction as BEGIN IMMEDIATE: writers are serialised by the database lock, which
    # is what makes a stock check-then-take atomic on SQLite.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(connection):
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def lock_for_update(select_stmt):
    """Add ``FOR UPDATE`` on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers."""
    return select_stmt.with_for_update() if is_postgres() else select_stmt
