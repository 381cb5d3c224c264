"""What every part of the auth service shares: messages in the request's language (plain
Chinese on the command line), secret digests, the client's address, id bounds and the
once-a-minute write of a last-seen time."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from flask import has_request_context, request
from flask_babel import gettext
from sqlalchemy import update

from ...database import commit_keeping_loaded
from ...extensions import db

#: Largest id the integer primary keys hold on both databases; larger ids are simply unknown.
MAX_ID = 2**31 - 1
#: How often ``last_seen_at`` / ``last_used_at`` is written: at most once a minute.
TOUCH_EVERY = timedelta(minutes=1)
#: Ended sessions and tokens are listed nowhere; their rows are deleted this long after the end.
KEEP_ENDED = timedelta(days=30)


def t(message: str, **params) -> str:
    """Translate in a request (the page or API language), plain Chinese elsewhere (CLI)."""
    if has_request_context():
        return gettext(message, **params)
    return message % params if params else message


def digest(secret: str) -> str:
    """What is stored of a session's or a token's secret: its SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()


def client() -> tuple[str | None, str | None]:
    """The address and browser of this request (``None`` outside one)."""
    if not has_request_context():
        return None, None
    return request.remote_addr, (request.user_agent.string or "")[:200] or None


def valid_id(value) -> bool:
    return isinstance(value, int) and 0 < value <= MAX_ID


def touch(model, row_id: int, column: str, moment: datetime) -> None:
    """Write a last-seen time in its own short transaction, keeping what is loaded."""
    db.session.execute(update(model).where(model.id == row_id).values({column: moment}))
    commit_keeping_loaded()
