"""Sign-in (登录) and its throttling: checking a name and a password, the same way for the pages,
the API's token and the current password of a password change.

Every check is throttled in the database (:mod:`app.auth.throttle`): an attempt is written down
and committed *before* its password is checked, so that a concurrent attempt in another worker
counts it, then checked again against the attempts written before it (two workers racing on the
fifth attempt cannot both get a sixth try), and withdrawn when the password was right. A wrong
password for an unknown name takes as long as for a known one.
"""
from __future__ import annotations

import secrets
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ... import audit
from ...errors import Unauthorized
from ...extensions import db
from ...models_common import utcnow
from ...validation import Field
from .. import throttle
from ..models import User
from .common import client, t
from .passwords import password_field

#: A sign-in (the login page) reads these; the API's token request adds a label.
CREDENTIALS = {"username": Field("str", max_length=80), "password": password_field()}

_DUMMY_HASHES: dict[str, str] = {}


def check_password(user: User | None, password: str) -> bool:
    """The password check, taking as long for an unknown user (or an unusable password) as for
    a known one."""
    usable = isinstance(password, str) and bool(password)
    try:
        if usable:
            password.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no password has one
        usable = False
    if user is None or not usable:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        if method not in _DUMMY_HASHES:
            _DUMMY_HASHES[method] = generate_password_hash(secrets.token_hex(8), method=method)
        check_password_hash(_DUMMY_HASHES[method], "x")
        return False
    return user.check_password(password)


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


def throttled(lock: throttle.Lock, moment: datetime, prefix: str = "") -> throttle.LoginThrottled:
    """The 429 of a lock, saying until when (Beijing time) and whether the account or the
    address is locked."""
    when = throttle.retry_time(lock)
    if lock.scope == "account":
        text = t("该账户登录失败次数过多，已暂时锁定，请于 %(time)s（北京时间）后再试。",
                 time=throttle.local_text(when))
    else:
        text = t("此网络地址登录失败次数过多，已暂时限制登录，请于 %(time)s（北京时间）后再试。",
                 time=throttle.local_text(when))
    return throttle.LoginThrottled(prefix + text, when, moment)


def verify(username: str, password: str) -> User:
    """The user whose name and password these are, throttled; raise :class:`Unauthorized`
    (wrong name or password, inactive account, used or expired temporary password) or
    :class:`~app.auth.throttle.LoginThrottled` (429, with the time to try again)."""
    moment = utcnow()
    name, address = throttle.account_key(username), throttle.address_key(client()[0])
    attempt = _write_attempt(name, address, moment) if throttle.enabled() else None
    user = find_user(username)
    if not check_password(user, password):
        if attempt is not None:
            _refuse_if_now_locked(user, name, address, moment)
        raise Unauthorized(t("用户名或密码错误。"))
    # the password is right: not a failure, whatever happens next
    if attempt is not None:
        throttle.withdraw(attempt)
        throttle.forgive_account(name)
    _refuse_unusable_account(user, moment)
    return user


def _write_attempt(name: str, address: str, moment: datetime) -> int:
    """Refuse a locked account or address unchecked; otherwise write the attempt down (and
    commit it) before the password is checked, and refuse it after all when an attempt written
    before it has just locked the account (a concurrent attempt got there first)."""
    lock = throttle.check(name, address, moment)
    if lock:
        raise throttled(lock, moment)
    attempt = throttle.record_attempt(name, address, moment)
    lock = throttle.check(name, address, moment, before_id=attempt)
    if lock:
        throttle.withdraw(attempt)
        db.session.commit()
        raise throttled(lock, moment)
    return attempt


def _refuse_if_now_locked(user: User | None, name: str, address: str, moment: datetime) -> None:
    """After a wrong password: when this failure locked the account or the address, audit the
    lock-out and say until when."""
    lock = throttle.check(name, address, moment)
    if lock:
        audit.record(None, "user.lockout", "user", user.id if user else name,
                     region_code=user.region_code if user else None,
                     note=f"{lock.scope} locked until {lock.until.isoformat()}")
        db.session.commit()
        raise throttled(lock, moment, t("用户名或密码错误。") + " ")


def _refuse_unusable_account(user: User, moment: datetime) -> None:
    """The right password of an inactive account, or a temporary password used before or
    expired, signs nobody in (the forgiven failures are committed first); a temporary password
    is stamped as used by the sign-in it allows."""
    if not user.active:
        db.session.commit()
        raise Unauthorized(t("该账户已停用，请联系系统管理员。"))
    if user.temporary_password_expires_at is None:
        return
    if user.temporary_password_used_at is not None:
        db.session.commit()
        raise Unauthorized(t("临时密码只能登录一次，已经使用过；请联系系统管理员重新重置密码。"))
    if moment >= user.temporary_password_expires_at:
        db.session.commit()
        raise Unauthorized(t("临时密码已过期，请联系系统管理员重新重置密码。"))
    user.temporary_password_used_at = moment


def verify_own_password(actor, password: str) -> User | None:
    """The signed-in user when ``password`` is their current one, else ``None`` (a failed
    sign-in of that account, throttled as one: a stolen session cannot guess it either)."""
    moment = utcnow()
    name, address = throttle.account_key(actor.username), throttle.address_key(client()[0])
    if throttle.enabled():
        lock = throttle.check(name, address, moment)
        if lock:
            raise throttled(lock, moment)
    user = db.session.get(User, actor.id)
    if check_password(user, password):
        return user
    if throttle.enabled():
        throttle.record_attempt(name, address, moment)
        lock = throttle.check(name, address, moment)
        if lock:
            raise throttled(lock, moment, t("当前密码不正确。") + " ")
    return None
