"""Engine-level set-up that differs between SQLite and PostgreSQL."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import event

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


def commit_keeping_loaded() -> None:
    """Commit the session without expiring the objects it holds.

    After an ordinary commit every loaded object is expired and the next attribute read
    reloads it with a query. A request that goes on using the objects it just wrote (the API
    body, ``report_submitted`` receivers) calls this instead: the values in memory are exactly
    what was committed, so nothing needs to be read back.
    """
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


#: Compiled-once ``INSERT … ON CONFLICT DO NOTHING`` statements, by table, columns and dialect.
_INSERT_UNLESS_EXISTS: dict = {}


def insert_unless_exists(table, conflict_columns: list[str], values: dict, returning):
    """``INSERT … ON CONFLICT (conflict_columns) DO NOTHING RETURNING returning`` on PostgreSQL
    and SQLite, in the session's transaction: the returned value, or ``None`` when a row with
    those columns already exists.

    On PostgreSQL a conflicting row that another transaction has inserted but not yet committed
    makes this wait for that transaction: ``None`` then means the other one committed. Any
    other constraint violation raises :class:`sqlalchemy.exc.IntegrityError` as usual. It runs
    on the session's connection without an autoflush: flush first if it depends on pending
    objects.
    """
    connection = db.session.connection()
    dialect = connection.dialect.name
    cache_key = (table, tuple(conflict_columns), returning, dialect, tuple(sorted(values)))
    stmt = _INSERT_UNLESS_EXISTS.get(cache_key)
    if stmt is None:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = insert(table).on_conflict_do_nothing(index_elements=conflict_columns).returning(returning)
        _INSERT_UNLESS_EXISTS[cache_key] = stmt
    return connection.execute(stmt, values).scalar()
