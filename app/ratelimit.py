"""Rate limits counted in the database (``RATELIMIT_STORAGE_URI = "database://"``, the default).

Flask-Limiter keeps its counters in a ``limits`` storage; the in-memory one counts per process,
so three gunicorn workers on two hosts would allow six times the limit. :class:`DatabaseStorage`
keeps each counter as a :class:`RateLimitCounter` row of the application's database: every
worker of every instance counts against the same row. (Sign-in failures are throttled per account
and per address in the database too, by :mod:`app.auth.throttle`.)

Each hit is one statement, committed at once: an upsert that adds to the live window's count, or
starts a new window when the old one has expired, and returns the count. It works on SQLite and
PostgreSQL (``INSERT … ON CONFLICT … DO UPDATE … RETURNING``). It runs on the request's session
(``db.session``), committed before the view runs: on SQLite, where every transaction takes the
write lock (app/database.py), a second connection would wait for the request's own. Only the
fixed-window strategy (Flask-Limiter's default) is supported.
"""
from __future__ import annotations

import hashlib
import time

from limits.storage import Storage
from sqlalchemy import Float, Integer, String, case, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db

#: Keys longer than this are stored by their SHA-256.
KEY_LENGTH = 200


class RateLimitCounter(db.Model):
    """One fixed window of one limit for one key (address, account…): hits so far, and when the
    window ends (seconds since the epoch, as the ``limits`` library counts)."""

    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


def _key(key: str) -> str:
    return key if len(key) <= KEY_LENGTH else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _insert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the application runs on these two
        raise RuntimeError(f"database:// rate limits need SQLite or PostgreSQL, not {dialect}")
    return insert


class DatabaseStorage(Storage):
    """A ``limits`` storage over the current application's database (``database://``)."""

    STORAGE_SCHEME = ["database"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        table = RateLimitCounter.__table__
        expired = table.c.expires_at <= now
        statement = _insert(db.engine.dialect.name)(table).values(key=_key(key), count=amount, expires_at=now + expiry)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"count": case((expired, amount), else_=table.c.count + amount),
                  "expires_at": case((expired, now + expiry), else_=table.c.expires_at)},
        ).returning(table.c.count)
        try:
            count = db.session.execute(statement).scalar_one()
            # Windows that ended an hour ago are nobody's any more: keep the table small.
            db.session.execute(delete(table).where(table.c.expires_at < now - 3600))
            db.session.commit()
        except SQLAlchemyError:
            db.session.rollback()
            raise
        return int(count)

    def _live(self, key: str):
        table = RateLimitCounter.__table__
        return db.session.execute(select(table.c.count, table.c.expires_at)
                                  .where(table.c.key == _key(key), table.c.expires_at > time.time())).first()

    def get(self, key: str) -> int:
        row = self._live(key)
        return int(row.count) if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._live(key)
        return float(row.expires_at) if row else time.time()

    def check(self) -> bool:
        try:
            db.session.execute(select(1))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        removed = db.session.execute(delete(RateLimitCounter.__table__)).rowcount
        db.session.commit()
        return removed

    def clear(self, key: str) -> None:
        db.session.execute(delete(RateLimitCounter.__table__).where(RateLimitCounter.__table__.c.key == _key(key)))
        db.session.commit()


def init_app(app, limiter) -> None:
    """Set up ``limiter`` (Flask-Limiter) for ``app``, refusing at start-up a strategy the
    database storage does not support."""
    uri = app.config.get("RATELIMIT_STORAGE_URI") or ""
    strategy = app.config.get("RATELIMIT_STRATEGY") or "fixed-window"
    if uri.startswith("database://") and strategy != "fixed-window":
        raise RuntimeError("RATELIMIT_STORAGE_URI = 'database://' supports RATELIMIT_STRATEGY 'fixed-window' only")
    limiter.init_app(app)


__all__ = ["DatabaseStorage", "RateLimitCounter", "init_app"]
