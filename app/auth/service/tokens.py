"""API tokens (令牌): issued for a name and a password (throttled like the pages), revocable, and
turned back into their user in one query, which each process then trusts for
``API_TOKEN_CACHE_SECONDS`` (:class:`TokenCache`: a revocation, a deactivation or any change of
the user or of their tokens made in this process drops it at once; in another process it is
refused within that bound).

Only a token's SHA-256 is stored. A user who must change their password (a temporary or an
initial one) still gets a token, so that an API-only client can change it, but the API answers
403 to everything except :data:`API_WHILE_PASSWORD_CHANGE` until they have.
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, has_app_context, has_request_context, request
from sqlalchemy import bindparam, delete, event, or_, select, update
from sqlalchemy.orm import Session, make_transient_to_detached, object_session
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlalchemy.orm.util import identity_key

from ... import audit
from ...database import commit_keeping_loaded
from ...errors import Forbidden
from ...extensions import db
from ...models_common import utcnow
from ...validation import Field, parse
from ..models import ApiToken, User
from .common import KEEP_ENDED, TOUCH_EVERY, client, digest, t, touch
from .signin import CREDENTIALS, verify

TOKEN_BODY = {**CREDENTIALS,
              "label": Field("str", required=False, max_length=80,
                             description="令牌用途（如「野外平板」），便于在会话列表中识别")}

#: The API endpoints a user who must change their password may still call.
API_WHILE_PASSWORD_CHANGE = frozenset({"auth_api.me", "auth_api.change_my_password", "auth_api.token",
                                       "openapi_api.openapi_json"})


def issue_token(data) -> tuple[str, datetime, User]:
    """A bearer token for the credentials of ``data`` (:data:`TOKEN_BODY`), throttled like the
    pages. Commits."""
    values = parse(TOKEN_BODY, data)
    user = verify(values["username"], values["password"])
    label = values["label"] or None
    token = secrets.token_urlsafe(32)
    moment = utcnow()
    expires = moment + timedelta(hours=current_app.config["API_TOKEN_HOURS"])
    db.session.execute(delete(ApiToken).where(
        ApiToken.user_id == user.id,
        or_(ApiToken.revoked_at < moment - KEEP_ENDED, ApiToken.expires_at < moment - KEEP_ENDED)))
    row = ApiToken(user_id=user.id, token_hash=digest(token), expires_at=expires, label=label,
                   created_ip=client()[0])
    db.session.add(row)
    db.session.flush()
    audit.record(user, "token.issue", "user", user.id, region_code=user.region_code,
                 note=f"token {row.id}" + (f" ({label})" if label else ""))
    commit_keeping_loaded()
    return token, expires, user


_USER_COLUMNS = tuple(User.__table__.columns)
_USER_MANAGER = manager_of_class(User)
#: Built once: every API request whose token is not in the cache runs it.
_USER_FOR_TOKEN = (select(*_USER_COLUMNS, ApiToken.id, ApiToken.expires_at, ApiToken.last_used_at)
                   .join(ApiToken, ApiToken.user_id == User.id)
                   .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None),
                          ApiToken.expires_at > bindparam("now"), User.active.is_(True)))


@dataclass
class _Checked:
    """A token found valid in the database: its user's columns, and when it was read."""

    user: dict
    token_id: int
    expires_at: datetime
    last_used: datetime | None
    checked: float  # time.monotonic()


class TokenCache:
    """Tokens this process has checked, by digest, trusted for ``API_TOKEN_CACHE_SECONDS``.

    Whatever changes a user or their tokens in this process (:func:`revoke_tokens`, and any ORM
    update of a ``User`` or ``ApiToken`` row: deactivation, role, jurisdiction, password)
    drops that user's entries when it happens and again when its transaction commits (a request
    that read the token in between cannot keep it), so this process refuses them at once; other
    processes read the database again within the bound. Expiry is checked on every request."""

    MAX_ENTRIES = 10_000

    def __init__(self):
        self._entries: dict[str, _Checked] = {}
        self._lock = threading.Lock()

    def get(self, key: str, bound: float) -> _Checked | None:
        entry = self._entries.get(key)
        if entry is None or _monotonic() - entry.checked >= bound:
            return None
        return entry

    def put(self, key: str, entry: _Checked) -> None:
        with self._lock:
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = entry

    def drop_users(self, user_ids) -> None:
        with self._lock:
            for key in [k for k, e in self._entries.items() if e.user["id"] in user_ids]:
                del self._entries[key]


#: The clock of the cache (a test moves it).
_monotonic = time.monotonic
_CACHE_KEY = "jiuzai.auth.token_cache"
_CHANGED = "jiuzai.auth.changed_users"


def token_cache(app=None) -> TokenCache:
    """This application's :class:`TokenCache` (per application: test apps never share one)."""
    extensions = (app or current_app).extensions
    cache = extensions.get(_CACHE_KEY)
    if cache is None:  # (made once, at init_token_cache: not one per request)
        cache = extensions.setdefault(_CACHE_KEY, TokenCache())
    return cache


def forget_user(user_id: int, session: Session | None = None) -> None:
    """Drop the user's cached tokens now and once the session's transaction commits."""
    (session or db.session()).info.setdefault(_CHANGED, set()).add(user_id)
    if has_app_context():
        token_cache().drop_users({user_id})


def init_token_cache(app) -> None:
    """Drop cached tokens whenever this process changes a user or a token (registered once)."""
    token_cache(app)
    if not event.contains(User, "after_update", _user_changed):
        event.listen(User, "after_update", _user_changed)
        event.listen(ApiToken, "after_update", _token_changed)
        event.listen(Session, "after_commit", _forget_committed)
        event.listen(Session, "after_soft_rollback", _forget_rolled_back)


def _user_changed(_mapper, _connection, target) -> None:
    forget_user(target.id, object_session(target))


def _token_changed(_mapper, _connection, target) -> None:
    forget_user(target.user_id, object_session(target))


def _forget_committed(session) -> None:
    changed = session.info.pop(_CHANGED, None)
    if changed and has_app_context():
        token_cache().drop_users(changed)


def _forget_rolled_back(session, _previous_transaction) -> None:
    session.info.pop(_CHANGED, None)  # (their entries were dropped when the change was made)


def user_for_token(token: str) -> User | None:
    """The active user of a valid (known, unrevoked, unexpired) token: one query, or none while
    this process trusts the token (:class:`TokenCache`); plus, at most once a minute, the
    token's ``last_used_at``. In a request to any endpoint but :data:`API_WHILE_PASSWORD_CHANGE`,
    a user who must change their password is refused (403)."""
    moment = utcnow()
    fresh = not db.session().in_transaction()
    key = digest(token)
    bound = float(current_app.config["API_TOKEN_CACHE_SECONDS"] or 0)
    cache = token_cache()
    entry = cache.get(key, bound) if bound > 0 else None
    if entry is None or entry.expires_at <= moment:
        checked = _monotonic()
        row = db.session.execute(_USER_FOR_TOKEN, {"token_hash": key, "now": moment}).first()
        if row is None:
            return None
        entry = _Checked({c.key: value for c, value in zip(_USER_COLUMNS, row)}, *row[len(_USER_COLUMNS):],
                         checked=checked)
        if bound > 0:
            cache.put(key, entry)
    user = _user_of(entry.user)
    if fresh and (entry.last_used is None or moment - entry.last_used >= TOUCH_EVERY):
        touch(ApiToken, entry.token_id, "last_used_at", moment)
        entry.last_used = moment
    if has_request_context():
        refuse_until_password_changed(user, request.endpoint, api=True)
    return user


def _user_of(columns: dict) -> User:
    """The user as a row of this session, from the columns read (no query): the session's own
    instance when it has one, else a new one added as if loaded."""
    user = db.session.identity_map.get(identity_key(User, columns["id"]))
    if user is not None:
        return user
    # the values go into the instance's dict as a query's loader puts them, not through the
    # constructor's fourteen instrumented attribute sets
    user = _USER_MANAGER.new_instance()
    user.__dict__.update(columns)
    make_transient_to_detached(user)
    db.session.add(user)
    return user


def refuse_until_password_changed(user, endpoint: str | None, *, api: bool) -> None:
    """403 for an API call of a user who must change their password, but for the calls that
    change it (:data:`API_WHILE_PASSWORD_CHANGE`)."""
    if getattr(user, "must_change_password", False) and api and endpoint not in API_WHILE_PASSWORD_CHANGE:
        raise Forbidden(t("必须先修改密码：请调用 POST /api/v1/me/password（或在页面「我的账户」修改），"
                          "之后才能使用其他接口。"), title=t("必须先修改密码"))


def revoke_tokens(user_id: int, reason: str, *, only: int | None = None) -> int:
    """Revoke the user's live tokens (all, or ``only`` one) in the caller's transaction; how
    many were revoked."""
    forget_user(user_id)
    stmt = update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    if only is not None:
        stmt = stmt.where(ApiToken.id == only)
    return db.session.execute(stmt.values(revoked_at=utcnow(), revoked_reason=reason)).rowcount


def live_tokens(user_id: int) -> list[ApiToken]:
    """The user's unrevoked, unexpired tokens, the latest issued first."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None),
                               ApiToken.expires_at > utcnow())
        .order_by(ApiToken.created_at.desc())))
