"""Server-side sign-in sessions (登录会话) of the pages.

A page sign-in opens a :class:`UserSession`; the signed cookie names the user and the session's
secret (only its SHA-256 is stored), and :func:`load_session_user` (the Flask-Login user loader)
finds the active user of a live session in **one query** per request, writing ``last_seen_at``
at most once a minute. A revoked, idle, expired or unknown session, a cookie of an older
version and an inactive user load nobody. Logout, a password change, an admin's reset or
deactivation end what they must at once (:func:`revoke_sessions`).
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, or_, select, update

from ... import audit
from ...database import commit_keeping_loaded
from ...errors import Invalid
from ...extensions import db
from ...models_common import utcnow
from ...validation import validate
from ..models import User, UserSession
from .common import KEEP_ENDED, MAX_ID, TOUCH_EVERY, client, digest, t, touch
from .signin import CREDENTIALS, verify


def sign_in(data) -> User:
    """Sign in on the pages with the posted form (``username``, ``password``): a new
    server-side session; the returned user carries its secret (``session_key``) for the cookie
    (``login_user``). Commits."""
    values, errors = validate(CREDENTIALS, data)
    if errors:
        raise Invalid(t("请输入用户名和密码。"), errors)
    user = verify(values["username"], values["password"])
    ip, agent = client()
    key = secrets.token_urlsafe(32)
    moment = utcnow()
    _prune_sessions(user.id, moment)
    row = UserSession(user_id=user.id, key_hash=digest(key), created_at=moment, last_seen_at=moment,
                      ip=ip, user_agent=agent)
    db.session.add(row)
    db.session.flush()
    audit.record(user, "user.login", "user", user.id, region_code=user.region_code,
                 note=f"session {row.id}")
    commit_keeping_loaded()
    user.session_key, user.session_id = key, row.id
    return user


def sign_out(user) -> None:
    """Logout: the session of this request ends at once (a copy of its cookie is refused)."""
    if getattr(user, "session_id", None) is None:
        return
    revoke_sessions(user.id, "logout", only=user.session_id)
    audit.record(user, "user.logout", "user", user.id, region_code=user.region_code,
                 note=f"session {user.session_id}")
    db.session.commit()


def _prune_sessions(user_id: int, moment: datetime) -> None:
    """Forget this user's sessions that ended more than :data:`KEEP_ENDED` ago (the audit log
    keeps every sign-in and sign-out); cheap, by user, at each sign-in."""
    config = current_app.config
    idle = timedelta(minutes=config["SESSION_IDLE_MINUTES"])
    db.session.execute(delete(UserSession).where(
        UserSession.user_id == user_id,
        or_(UserSession.revoked_at < moment - KEEP_ENDED, UserSession.last_seen_at < moment - idle - KEEP_ENDED,
            UserSession.created_at < moment - timedelta(hours=config["SESSION_MAX_HOURS"]) - KEEP_ENDED)))


#: Built once: every page request runs it.
_USER_FOR_SESSION = (select(User, UserSession.id, UserSession.last_seen_at)
                     .join(UserSession, UserSession.user_id == User.id)
                     .where(UserSession.key_hash == bindparam("key_hash"), User.id == bindparam("user_id"),
                            UserSession.revoked_at.is_(None), User.active.is_(True),
                            UserSession.last_seen_at > bindparam("idle_since"),
                            UserSession.created_at > bindparam("born_since")))

_COOKIE_ID = re.compile(r"^(\d{1,10})\.([A-Za-z0-9_-]{20,100})$")


def load_session_user(cookie_id: str) -> User | None:
    """Flask-Login's user loader: the active user of a live session (unrevoked, used within
    ``SESSION_IDLE_MINUTES``, opened within ``SESSION_MAX_HOURS``), or ``None``. One query;
    ``last_seen_at`` is written at most once a minute."""
    match = _COOKIE_ID.match(cookie_id or "")
    if not match or int(match.group(1)) > MAX_ID:
        return None  # the cookies of older versions (a bare user id) are refused too
    moment = utcnow()
    config = current_app.config
    fresh = not db.session().in_transaction()
    row = db.session.execute(_USER_FOR_SESSION, {
        "key_hash": digest(match.group(2)), "user_id": int(match.group(1)),
        "idle_since": moment - timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
        "born_since": moment - timedelta(hours=config["SESSION_MAX_HOURS"])}).first()
    if row is None:
        return None
    user, session_id, last_seen = row
    if fresh and moment - last_seen >= TOUCH_EVERY:
        touch(UserSession, session_id, "last_seen_at", moment)
    user.session_key, user.session_id = match.group(2), session_id
    return user


def revoke_sessions(user_id: int, reason: str, *, keep: int | None = None, only: int | None = None) -> int:
    """End the user's live sessions (all, all but ``keep``, or ``only`` one) in the caller's
    transaction; how many ended."""
    stmt = update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep)
    if only is not None:
        stmt = stmt.where(UserSession.id == only)
    return db.session.execute(stmt.values(revoked_at=utcnow(), revoked_reason=reason)).rowcount


def live_sessions(user_id: int) -> list[UserSession]:
    """The user's sessions that would still sign a request in, the latest used first."""
    config = current_app.config
    moment = utcnow()
    return list(db.session.scalars(
        select(UserSession).where(
            UserSession.user_id == user_id, UserSession.revoked_at.is_(None),
            UserSession.last_seen_at > moment - timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
            UserSession.created_at > moment - timedelta(hours=config["SESSION_MAX_HOURS"]))
        .order_by(UserSession.last_seen_at.desc())))
