"""Users, passwords and API tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import bindparam, select

from gis import codes

from .. import audit
from ..errors import Conflict, Invalid, Unauthorized
from ..extensions import db
from ..permissions import ROLES, require
from .models import ApiToken, User

MIN_PASSWORD_LENGTH = 8


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).filter_by(username=username))
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


def issue_token(username: str, password: str) -> tuple[str, datetime]:
    user = authenticate(username, password)
    if user is None:
        raise Unauthorized("用户名或密码错误。")
    token = secrets.token_urlsafe(32)
    expires = datetime.now(timezone.utc) + timedelta(hours=current_app.config["API_TOKEN_HOURS"])
    db.session.add(ApiToken(user_id=user.id, token_hash=_hash(token), expires_at=expires))
    audit.record(user, "token.issue", "user", user.id, region_code=user.region_code)
    db.session.commit()
    return token, expires


#: Built once: every API request runs it.
_USER_FOR_TOKEN = (select(User).join(ApiToken, ApiToken.user_id == User.id)
                   .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked.is_(False),
                          ApiToken.expires_at > bindparam("now"), User.active.is_(True)))


def user_for_token(token: str) -> User | None:
    """The active user of a valid (known, unrevoked, unexpired) token; one query."""
    return db.session.scalar(_USER_FOR_TOKEN, {"token_hash": _hash(token), "now": datetime.now(timezone.utc)})


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(actor, username: str, role: str, region_code: str, password: str,
                full_name: str = "") -> User:
    """Create a user (admin only; ``actor=None`` for the command line)."""
    from ..regions.models import Region

    errors = []
    if actor is not None:
        require(actor, "user.manage", region_code)
    if not username or len(username) > 80:
        errors.append({"field": "username", "message": "用户名不能为空，且不超过 80 字符"})
    if role not in ROLES:
        errors.append({"field": "role", "message": f"角色必须是：{', '.join(ROLES)}"})
    try:
        region_code = codes.normalise(region_code)
        if region_code != codes.NATIONAL and db.session.get(Region, region_code) is None:
            errors.append({"field": "region", "message": f"区划 {region_code} 不存在，请先导入区划"})
    except codes.CodeError as exc:
        errors.append({"field": "region", "message": str(exc)})
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors.append({"field": "password", "message": f"密码至少 {MIN_PASSWORD_LENGTH} 位"})
    if errors:
        raise Invalid("用户信息有误。", errors)
    if db.session.scalar(select(User).filter_by(username=username)) is not None:
        raise Conflict(f"用户名 {username} 已存在。", [{"field": "username", "message": "已存在"}])
    user = User(username=username, role=role, region_code=region_code, full_name=full_name)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", "user", user.id, after=user.to_dict(), region_code=region_code)
    db.session.commit()
    return user
