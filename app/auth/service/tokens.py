"""API tokens (令牌): issued for a name and a password (throttled like the pages), revocable, and
turned back into their user in one query per API request.

Only a token's SHA-256 is stored. A user who must change their password (a temporary or an
initial one) still gets a token, so that an API-only client can change it, but the API answers
403 to everything except :data:`API_WHILE_PASSWORD_CHANGE` until they have.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app, has_request_context, request
from sqlalchemy import bindparam, delete, or_, select, update

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


#: Built once: every API request runs it.
_USER_FOR_TOKEN = (select(User, ApiToken.id, ApiToken.last_used_at)
                   .join(ApiToken, ApiToken.user_id == User.id)
                   .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None),
                          ApiToken.expires_at > bindparam("now"), User.active.is_(True)))


def user_for_token(token: str) -> User | None:
    """The active user of a valid (known, unrevoked, unexpired) token; one query (plus, at
    most once a minute, the token's ``last_used_at``). In a request to any endpoint but
    :data:`API_WHILE_PASSWORD_CHANGE`, a user who must change their password is refused (403)."""
    moment = utcnow()
    fresh = not db.session().in_transaction()
    row = db.session.execute(_USER_FOR_TOKEN, {"token_hash": digest(token), "now": moment}).first()
    if row is None:
        return None
    user, token_id, last_used = row
    if fresh and (last_used is None or moment - last_used >= TOUCH_EVERY):
        touch(ApiToken, token_id, "last_used_at", moment)
    if has_request_context():
        refuse_until_password_changed(user, request.endpoint, api=True)
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
