"""Users, passwords, sign-in sessions and API tokens (用户、密码、会话、令牌).

Every function that acts for someone checks permission first (``require``), validates all of
its input, runs one transaction and writes the audit line with the change.

- Sign-in (pages: :func:`sign_in`; API: :func:`issue_token`) is throttled in the database
  (:mod:`app.auth.throttle`). A page sign-in opens a server-side :class:`UserSession`; the
  signed cookie names the user and the session's secret, and :func:`load_session_user` (the
  Flask-Login user loader, one query) refuses a revoked, idle, expired or unknown session and an
  inactive user. Logout, a password change, an admin's reset or deactivation end what they must
  at once.
- Jurisdiction: an admin sees and manages only the users inside their region, and a
  non-national admin does not manage another admin of the very same region (a peer: only an
  admin above, or a national admin, does). Nobody deactivates or resets themselves here.
- A temporary password (临时密码, from a reset) is shown once, signs in once, expires after
  ``TEMPORARY_PASSWORD_HOURS`` and forces a change: pages go to the change page, the API
  answers 403 except ``GET /me`` and ``POST /me/password``. ``POST /auth/token`` still issues a
  token with it (``must_change_password: true``), so that an API-only client can change it.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app, has_request_context, request
from sqlalchemy import bindparam, delete, func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from gis import codes

from .. import audit
from ..errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from ..extensions import db
from ..permissions import ROLES, require
from . import throttle
from .models import ApiToken, User, UserSession

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
#: Largest id the integer primary keys hold on both databases; larger ids are simply unknown.
MAX_ID = 2**31 - 1
#: How often ``last_seen_at`` / ``last_used_at`` is written: at most once a minute.
TOUCH_EVERY = timedelta(minutes=1)
#: Ended sessions and tokens are listed nowhere; their rows are deleted this long after the end.
KEEP_ENDED = timedelta(days=30)


def _t(message: str, **params) -> str:
    """Translate in a request (the page or API language), plain Chinese elsewhere (CLI)."""
    if has_request_context():
        from flask_babel import gettext

        return gettext(message, **params)
    return message % params if params else message


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _client() -> tuple[str | None, str | None]:
    if not has_request_context():
        return None, None
    return request.remote_addr, (request.user_agent.string or "")[:200] or None


def _clean_text(value) -> bool:
    """A string without control characters or lone surrogates (which no name or password has)."""
    return isinstance(value, str) and not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value)


# --- Passwords ---------------------------------------------------------------------------

_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"


def generate_password() -> str:
    """A temporary password that reads aloud well (no 0/O, 1/l/I): three groups of four, with
    letters and digits, about 70 bits."""
    while True:
        groups = ["".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(3)]
        password = "-".join(groups)
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def password_problems(password, username: str = "", *, old: str | None = None) -> list[str]:
    """Why ``password`` may not be chosen (empty when it may): at least ``PASSWORD_MIN_LENGTH``
    and at most 128 characters, two of letters / digits / other characters, no control
    characters, not containing the username, not the old password."""
    minimum = current_app.config.get("PASSWORD_MIN_LENGTH", MIN_PASSWORD_LENGTH)
    if not isinstance(password, str) or not password:
        return [_t("请输入密码")]
    problems = []
    if not _clean_text(password):
        problems.append(_t("密码不能包含控制字符"))
    if len(password) < minimum:
        problems.append(_t("密码至少 %(n)s 位", n=minimum))
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(_t("密码不能超过 %(n)s 位", n=MAX_PASSWORD_LENGTH))
    kinds = (any(c.isalpha() for c in password), any(c.isdigit() for c in password),
             any(not c.isalnum() for c in password))
    if sum(kinds) < 2:
        problems.append(_t("密码须包含字母、数字、符号中的至少两类"))
    if username and len(username) >= 3 and username.lower() in password.lower():
        problems.append(_t("密码不能包含用户名"))
    if old is not None and password == old:
        problems.append(_t("新密码不能与当前密码相同"))
    return problems


_DUMMY_HASHES: dict[str, str] = {}


def _check_password(user: User | None, password) -> bool:
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


def _find_user(username) -> User | None:
    if not _clean_text(username) or not username or len(username) > 80:
        return None
    return db.session.scalar(select(User).where(User.username == username))


# --- Sign-in -----------------------------------------------------------------------------

def _throttled(lock: throttle.Lock, now: datetime, prefix: str = "") -> throttle.LoginThrottled:
    when = throttle.retry_time(lock)
    if lock.scope == "account":
        text = _t("该账户登录失败次数过多，已暂时锁定，请于 %(time)s（北京时间）后再试。",
                  time=throttle.local_text(when))
    else:
        text = _t("此网络地址登录失败次数过多，已暂时限制登录，请于 %(time)s（北京时间）后再试。",
                  time=throttle.local_text(when))
    return throttle.LoginThrottled(prefix + text, when, now)


def _verify(username, password) -> User:
    """The user whose name and password these are, throttled; raise :class:`Unauthorized`
    (wrong name or password, inactive account, used or expired temporary password) or
    :class:`~app.auth.throttle.LoginThrottled` (429, with the time to try again)."""
    now = _now()
    address = throttle.address_key(_client()[0])
    name = throttle.account_key(username)
    attempt = None
    if throttle.enabled():
        lock = throttle.check(name, address, now)
        if lock:
            raise _throttled(lock, now)
        attempt = throttle.record_attempt(name, address, now)
        lock = throttle.check(name, address, now, before_id=attempt)
        if lock:  # a concurrent attempt got there first
            throttle.withdraw(attempt)
            db.session.commit()
            raise _throttled(lock, now)
    user = _find_user(username)
    if not _check_password(user, password):
        if attempt is not None:
            lock = throttle.check(name, address, now)
            if lock:
                audit.record(None, "user.lockout", "user", user.id if user else name,
                             region_code=user.region_code if user else None,
                             note=f"{lock.scope} locked until {lock.until.isoformat()}")
                db.session.commit()
                raise _throttled(lock, now, _t("用户名或密码错误。") + " ")
        raise Unauthorized(_t("用户名或密码错误。"))
    # the password is right: not a failure, whatever happens next
    if attempt is not None:
        throttle.withdraw(attempt)
        throttle.forgive_account(name)
    if not user.active:
        db.session.commit()
        raise Unauthorized(_t("该账户已停用，请联系系统管理员。"))
    if user.temporary_password_expires_at is not None:
        if user.temporary_password_used_at is not None:
            db.session.commit()
            raise Unauthorized(_t("临时密码只能登录一次，已经使用过；请联系系统管理员重新重置密码。"))
        if now >= user.temporary_password_expires_at:
            db.session.commit()
            raise Unauthorized(_t("临时密码已过期，请联系系统管理员重新重置密码。"))
        user.temporary_password_used_at = now
    return user


def sign_in(username, password) -> User:
    """Sign in on the pages: a new server-side session; the returned user carries its secret
    (``session_key``) for the cookie (``login_user``). Commits."""
    user = _verify(username, password)
    ip, agent = _client()
    key = secrets.token_urlsafe(32)
    now = _now()
    _prune_sessions(user.id, now)
    row = UserSession(user_id=user.id, key_hash=_hash(key), created_at=now, last_seen_at=now,
                      ip=ip, user_agent=agent)
    db.session.add(row)
    db.session.flush()
    audit.record(user, "user.login", "user", user.id, region_code=user.region_code,
                 note=f"session {row.id}")
    from ..database import commit_keeping_loaded

    commit_keeping_loaded()
    user.session_key, user.session_id = key, row.id
    return user


def issue_token(username, password, label: str | None = None) -> tuple[str, datetime, User]:
    """A bearer token for these credentials (throttled like the pages). Commits."""
    user = _verify(username, password)
    token = secrets.token_urlsafe(32)
    now = _now()
    expires = now + timedelta(hours=current_app.config["API_TOKEN_HOURS"])
    db.session.execute(delete(ApiToken).where(
        ApiToken.user_id == user.id, or_(ApiToken.revoked_at < now - KEEP_ENDED, ApiToken.expires_at < now - KEEP_ENDED)))
    row = ApiToken(user_id=user.id, token_hash=_hash(token), expires_at=expires, label=label or None,
                   created_ip=_client()[0])
    db.session.add(row)
    db.session.flush()
    audit.record(user, "token.issue", "user", user.id, region_code=user.region_code,
                 note=f"token {row.id}" + (f" ({label})" if label else ""))
    from ..database import commit_keeping_loaded

    commit_keeping_loaded()
    return token, expires, user


def _prune_sessions(user_id: int, now: datetime) -> None:
    """Forget this user's sessions that ended more than :data:`KEEP_ENDED` ago (the audit log
    keeps every sign-in and sign-out); cheap, by user, at each sign-in."""
    config = current_app.config
    idle = timedelta(minutes=config["SESSION_IDLE_MINUTES"])
    db.session.execute(delete(UserSession).where(
        UserSession.user_id == user_id,
        or_(UserSession.revoked_at < now - KEEP_ENDED, UserSession.last_seen_at < now - idle - KEEP_ENDED,
            UserSession.created_at < now - timedelta(hours=config["SESSION_MAX_HOURS"]) - KEEP_ENDED)))


#: Built once: every API request runs it.
_USER_FOR_TOKEN = (select(User, ApiToken.id, ApiToken.last_used_at)
                   .join(ApiToken, ApiToken.user_id == User.id)
                   .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None),
                          ApiToken.expires_at > bindparam("now"), User.active.is_(True)))

#: The API endpoints a user who must change their password may still call.
API_WHILE_PASSWORD_CHANGE = frozenset({"auth_api.me", "auth_api.change_my_password", "auth_api.token",
                                       "openapi_api.openapi_json"})


def user_for_token(token: str) -> User | None:
    """The active user of a valid (known, unrevoked, unexpired) token; one query (plus, at
    most once a minute, the token's ``last_used_at``). In a request to any endpoint but
    :data:`API_WHILE_PASSWORD_CHANGE`, a user who must change their password is refused (403)."""
    now = _now()
    fresh = not db.session().in_transaction()
    row = db.session.execute(_USER_FOR_TOKEN, {"token_hash": _hash(token), "now": now}).first()
    if row is None:
        return None
    user, token_id, last_used = row
    if fresh and (last_used is None or now - last_used >= TOUCH_EVERY):
        _touch(ApiToken, token_id, "last_used_at", now)
    if has_request_context():
        refuse_until_password_changed(user, request.endpoint, api=True)
    return user


def _touch(model, row_id: int, column: str, now: datetime) -> None:
    """Write a last-seen time in its own short transaction, keeping what is loaded."""
    from ..database import commit_keeping_loaded

    db.session.execute(update(model).where(model.id == row_id).values({column: now}))
    commit_keeping_loaded()


def refuse_until_password_changed(user, endpoint: str | None, *, api: bool) -> None:
    if getattr(user, "must_change_password", False) and api and endpoint not in API_WHILE_PASSWORD_CHANGE:
        raise Forbidden(_t("必须先修改密码：请调用 POST /api/v1/me/password（或在页面「我的账户」修改），"
                           "之后才能使用其他接口。"), title=_t("必须先修改密码"))


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
    now = _now()
    config = current_app.config
    fresh = not db.session().in_transaction()
    row = db.session.execute(_USER_FOR_SESSION, {
        "key_hash": _hash(match.group(2)), "user_id": int(match.group(1)),
        "idle_since": now - timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
        "born_since": now - timedelta(hours=config["SESSION_MAX_HOURS"])}).first()
    if row is None:
        return None
    user, session_id, last_seen = row
    if fresh and now - last_seen >= TOUCH_EVERY:
        _touch(UserSession, session_id, "last_seen_at", now)
    user.session_key, user.session_id = match.group(2), session_id
    return user


def _revoke_sessions(user_id: int, reason: str, *, keep: int | None = None, only: int | None = None) -> int:
    stmt = update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep)
    if only is not None:
        stmt = stmt.where(UserSession.id == only)
    return db.session.execute(stmt.values(revoked_at=_now(), revoked_reason=reason)).rowcount


def _revoke_tokens(user_id: int, reason: str, *, only: int | None = None) -> int:
    stmt = update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    if only is not None:
        stmt = stmt.where(ApiToken.id == only)
    return db.session.execute(stmt.values(revoked_at=_now(), revoked_reason=reason)).rowcount


def sign_out(user) -> None:
    """Logout: the session of this request ends at once (a copy of its cookie is refused)."""
    if getattr(user, "session_id", None) is None:
        return
    _revoke_sessions(user.id, "logout", only=user.session_id)
    audit.record(user, "user.logout", "user", user.id, region_code=user.region_code,
                 note=f"session {user.session_id}")
    db.session.commit()


# --- My account ----------------------------------------------------------------------------

def change_password(actor, old_password, new_password) -> dict:
    """Change my own password: the current one is required (and throttled like a sign-in), the
    new one must follow :func:`password_problems`. Every other session of mine and every token
    of mine end (a token used for this very call too); the session of this request stays."""
    require(actor, "account.view")
    errors = [{"field": "new_password", "message": m}
              for m in password_problems(new_password, actor.username,
                                         old=old_password if isinstance(old_password, str) else None)]
    user = _verify_own_password(actor, old_password)
    if user is None:
        errors.insert(0, {"field": "old_password", "message": _t("当前密码不正确")})
    if errors:
        raise Invalid(_t("密码未修改。") if user is None else _t("新密码不符合要求。"), errors)
    now = _now()
    user.set_password(new_password)
    user.must_change_password = False
    user.temporary_password_expires_at = user.temporary_password_used_at = None
    user.password_changed_at = now
    sessions = _revoke_sessions(user.id, "password_change", keep=getattr(actor, "session_id", None))
    tokens = _revoke_tokens(user.id, "password_change")
    audit.record(actor, "user.password_change", "user", user.id, region_code=user.region_code,
                 after={"sessions_ended": sessions, "tokens_revoked": tokens})
    from ..database import commit_keeping_loaded

    commit_keeping_loaded()
    return {"sessions_ended": sessions, "tokens_revoked": tokens}


def _verify_own_password(actor, password) -> User | None:
    """The signed-in user when ``password`` is their current one, else ``None`` (a failed
    sign-in of that account, throttled as one: a stolen session cannot guess it either)."""
    now = _now()
    address = throttle.address_key(_client()[0])
    name = throttle.account_key(actor.username)
    if throttle.enabled():
        lock = throttle.check(name, address, now)
        if lock:
            raise _throttled(lock, now)
    user = db.session.get(User, actor.id)
    if _check_password(user, password):
        return user
    if throttle.enabled():
        throttle.record_attempt(name, address, now)
        lock = throttle.check(name, address, now)
        if lock:
            raise _throttled(lock, now, _t("当前密码不正确。") + " ")
    return None


def my_sessions(actor) -> list[UserSession]:
    require(actor, "account.view")
    return _live_sessions(actor.id)


def my_tokens(actor) -> list[ApiToken]:
    require(actor, "account.view")
    return _live_tokens(actor.id)


def end_my_session(actor, session_id: int) -> None:
    """Sign out one of my sessions (another device); ending the current one is a logout."""
    require(actor, "account.view")
    if not _valid_id(session_id) or not _revoke_sessions(actor.id, "ended_by_user", only=session_id):
        raise NotFound(_t("没有这个有效会话。"))
    audit.record(actor, "session.end", "user", actor.id, region_code=actor.region_code,
                 note=f"session {session_id}")
    db.session.commit()


def end_my_other_sessions(actor) -> int:
    require(actor, "account.view")
    count = _revoke_sessions(actor.id, "ended_by_user", keep=getattr(actor, "session_id", None))
    audit.record(actor, "session.end_others", "user", actor.id, region_code=actor.region_code,
                 after={"sessions_ended": count})
    db.session.commit()
    return count


def revoke_my_token(actor, token_id: int) -> None:
    require(actor, "account.view")
    if not _valid_id(token_id) or not _revoke_tokens(actor.id, "revoked_by_user", only=token_id):
        raise NotFound(_t("没有这个有效令牌。"))
    audit.record(actor, "token.revoke", "user", actor.id, region_code=actor.region_code,
                 note=f"token {token_id}")
    db.session.commit()


def _live_sessions(user_id: int) -> list[UserSession]:
    config = current_app.config
    now = _now()
    return list(db.session.scalars(
        select(UserSession).where(
            UserSession.user_id == user_id, UserSession.revoked_at.is_(None),
            UserSession.last_seen_at > now - timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
            UserSession.created_at > now - timedelta(hours=config["SESSION_MAX_HOURS"]))
        .order_by(UserSession.last_seen_at.desc())))


def _live_tokens(user_id: int) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None),
                               ApiToken.expires_at > _now())
        .order_by(ApiToken.created_at.desc())))


def _valid_id(value) -> bool:
    return isinstance(value, int) and 0 < value <= MAX_ID


# --- Users (admins) ------------------------------------------------------------------------

def region_names(region_codes) -> dict[str, str]:
    from ..regions import Region

    wanted = {c for c in region_codes if c}
    names = {codes.NATIONAL: _t("全国")} if codes.NATIONAL in wanted else {}
    wanted.discard(codes.NATIONAL)
    if wanted:
        names.update(db.session.execute(select(Region.code, Region.name).where(Region.code.in_(wanted))).all())
    return names


def resolve_region(actor, text, field: str = "region_code") -> str:
    """A region given by code or by name (名称), inside ``actor``'s jurisdiction when given;
    a 422 naming ``field`` otherwise (unknown, ambiguous, not a code)."""
    from ..regions import Region

    if not isinstance(text, str) or not text.strip() or not _clean_text(text) or len(text) > 100:
        raise Invalid(_t("区划有误。"), [{"field": field, "message": _t("请填写区划代码或名称")}])
    text = text.strip()
    if text in ("全国", "national") or text.isdigit():
        try:
            code = codes.NATIONAL if not text.isdigit() else codes.normalise(text)
        except codes.CodeError as exc:
            raise Invalid(_t("区划有误。"), [{"field": field, "message": str(exc)}]) from None
        if code != codes.NATIONAL and db.session.get(Region, code) is None:
            raise Invalid(_t("区划有误。"), [{"field": field, "message": _t(
                "区划 %(code)s 不存在，请先导入区划", code=code)}])
        return code
    stmt = select(Region.code, Region.name).where(Region.name == text).order_by(Region.code).limit(6)
    if actor is not None and actor.region_code != codes.NATIONAL:
        stmt = stmt.where(Region.code.like(codes.prefix_of(actor.region_code) + "%"))
    found = db.session.execute(stmt).all()
    if not found:
        raise Invalid(_t("区划有误。"), [{"field": field, "message": _t(
            "没有名为「%(name)s」的区划（或不在您的管辖范围内）", name=text)}])
    if len(found) > 1:
        listed = "、".join(f"{name}（{code}）" for code, name in found[:5])
        raise Invalid(_t("区划有误。"), [{"field": field, "message": _t(
            "名为「%(name)s」的区划不止一个，请填写代码：%(list)s", name=text, list=listed)}])
    return found[0][0]


def _jurisdiction_filter(stmt, actor):
    if actor.region_code != codes.NATIONAL:
        stmt = stmt.where(User.region_code.like(codes.prefix_of(actor.region_code) + "%"))
    return stmt


def users_query(actor, *, q: str | None = None, role: str | None = None, active: bool | None = None,
                region_code: str | None = None):
    """A ``select`` of the users inside ``actor``'s jurisdiction (by username)."""
    require(actor, "user.view")
    stmt = _jurisdiction_filter(select(User), actor).order_by(User.username)
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(User.username.like(like, escape="\\"), User.full_name.like(like, escape="\\")))
    if role:
        stmt = stmt.where(User.role == role)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    if region_code:
        stmt = stmt.where(User.region_code.like(codes.prefix_of(region_code) + "%"))
    return stmt


def list_users(actor, *, q=None, role=None, active=None, region=None, limit=100, offset=0) -> dict:
    """One page of the users inside ``actor``'s jurisdiction, with region names: the API list."""
    require(actor, "user.view")
    errors = []
    if q is not None and (not _clean_text(q) or len(q) > 80):
        errors.append({"field": "q", "message": _t("不超过 80 字符，且不能含控制字符")})
    if role not in (None, "") and role not in ROLES:
        errors.append({"field": "role", "message": _t("角色必须是：%(roles)s", roles=", ".join(ROLES))})
    region_code = None
    if region not in (None, ""):
        try:
            region_code = resolve_region(actor, region)
        except Invalid as exc:
            errors.extend(exc.errors)
    if errors:
        raise Invalid(_t("查询参数有误。"), errors)
    stmt = users_query(actor, q=(q or "").strip() or None, role=role or None, active=active,
                       region_code=region_code)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = list(db.session.scalars(stmt.limit(limit).offset(offset)))
    names = region_names([u.region_code for u in rows])
    return {"items": [user_dict(u, names) for u in rows], "total": total, "limit": limit, "offset": offset}


def user_dict(user: User, names: dict[str, str] | None = None) -> dict:
    names = names if names is not None else region_names([user.region_code])
    return {**user.to_dict(), "region_name": names.get(user.region_code),
            "created_at": user.created_at.isoformat() if user.created_at else None,
            "password_changed_at": user.password_changed_at.isoformat() if user.password_changed_at else None}


def get_user(actor, user_id: int, action: str = "user.view") -> User:
    """A user inside ``actor``'s jurisdiction that ``actor`` may take ``action`` on."""
    require(actor, action)
    user = db.session.get(User, user_id) if _valid_id(user_id) else None
    if user is None:
        raise NotFound(_t("用户不存在。"))
    require(actor, action, user.region_code)
    if action == "user.manage":
        _refuse_peer_admin(actor, user.role, user.region_code, user.id)
    return user


def may_manage(actor, user: User) -> bool:
    """Whether ``actor`` may take the managing actions on ``user`` (to show the buttons)."""
    try:
        require(actor, "user.manage", user.region_code)
        _refuse_peer_admin(actor, user.role, user.region_code, user.id)
    except Forbidden:
        return False
    return True


def _refuse_peer_admin(actor, role: str, region_code: str, user_id: int | None = None) -> None:
    """A non-national admin does not manage an admin of their own region (nor make one)."""
    if (role == "admin" and region_code == actor.region_code and actor.region_code != codes.NATIONAL
            and user_id != actor.id):
        raise Forbidden(_t("同级管理员只能由上级或全国管理员管理。"))


def user_sessions(actor, user_id: int) -> list[UserSession]:
    user = get_user(actor, user_id)
    return _live_sessions(user.id)


def user_tokens(actor, user_id: int) -> list[ApiToken]:
    user = get_user(actor, user_id)
    return _live_tokens(user.id)


def create_user(actor, username, role, region_code, password, full_name="", *,
                must_change_password: bool | None = None, errors: list[dict] | None = None) -> User:
    """Create a user (admins inside their jurisdiction; ``actor=None`` for the command line).
    ``region_code`` may be a code or a region name. A user an admin makes must change the
    initial password at the first sign-in (by default); one made on the command line need not.
    ``errors`` are the caller's own findings (the API's field types), reported with the rest."""
    if actor is not None:
        require(actor, "user.manage")
    given = list(errors or [])
    errors = []
    if not isinstance(username, str) or not username.strip() or len(username.strip()) > 80 \
            or not _clean_text(username) or any(ch.isspace() for ch in username.strip()):
        errors.append({"field": "username", "message": _t("用户名不能为空、不能含空格或控制字符，且不超过 80 字符")})
    else:
        username = username.strip()
    if role not in ROLES:
        errors.append({"field": "role", "message": _t("角色必须是：%(roles)s", roles=", ".join(ROLES))})
    if not isinstance(full_name, str) or len(full_name) > 80 or not _clean_text(full_name):
        errors.append({"field": "full_name", "message": _t("姓名不超过 80 字符，且不能含控制字符")})
    try:
        region_code = resolve_region(actor, region_code)
    except Invalid as exc:
        errors.extend(exc.errors)
        region_code = None
    errors += [{"field": "password", "message": m}
               for m in password_problems(password, username if isinstance(username, str) else "")]
    named = {e["field"] for e in given}
    errors = given + [e for e in errors if e["field"] not in named]
    if errors:
        raise Invalid(_t("用户信息有误。"), errors)
    if actor is not None:
        require(actor, "user.manage", region_code)
        _refuse_peer_admin(actor, role, region_code)
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(_t("用户名 %(name)s 已存在。", name=username),
                       [{"field": "username", "message": _t("已存在")}])
    user = User(username=username, role=role, region_code=region_code, full_name=(full_name or "").strip(),
                active=True, password_changed_at=_now(),
                must_change_password=(actor is not None) if must_change_password is None else must_change_password)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", "user", user.id, after=user.to_dict(), region_code=region_code)
    from ..database import commit_keeping_loaded

    commit_keeping_loaded()
    return user


@dataclass(frozen=True)
class Reset:
    user: User
    password: str  # shown once, never stored
    expires_at: datetime
    sessions_ended: int
    tokens_revoked: int


def reset_password(actor, user_id: int) -> Reset:
    """An admin resets a user's password: a temporary password (shown once, signs in once,
    expires), a change forced at the next sign-in, every session and token of the user ended,
    the account's failed sign-ins forgiven (an unlock)."""
    user = get_user(actor, user_id, "user.manage")
    if user.id == actor.id:
        raise Conflict(_t("不能重置自己的密码：请在「我的账户」中修改。"))
    return _set_temporary_password(actor, user, "user.password_reset")


def _set_temporary_password(actor, user: User, action: str) -> Reset:
    password = generate_password()
    now = _now()
    expires = now + timedelta(hours=current_app.config["TEMPORARY_PASSWORD_HOURS"])
    user.set_password(password)
    user.must_change_password = True
    user.temporary_password_expires_at, user.temporary_password_used_at = expires, None
    user.password_changed_at = now
    sessions = _revoke_sessions(user.id, "password_reset")
    tokens = _revoke_tokens(user.id, "password_reset")
    throttle.forgive_account(user.username)
    audit.record(actor, action, "user", user.id, region_code=user.region_code,
                 after={"must_change_password": True, "temporary_password_expires_at": expires,
                        "sessions_ended": sessions, "tokens_revoked": tokens})
    from ..database import commit_keeping_loaded

    commit_keeping_loaded()
    return Reset(user, password, expires, sessions, tokens)


def set_active(actor, user_id: int, active: bool) -> User:
    """Deactivate (停用: every session and token ends at once) or reactivate a user."""
    user = get_user(actor, user_id, "user.manage")
    if user.id == actor.id:
        raise Conflict(_t("不能停用或启用自己的账户。"))
    if user.active == active:
        return user
    user.active = active
    after: dict = {"active": active}
    if not active:
        after["sessions_ended"] = _revoke_sessions(user.id, "deactivated")
        after["tokens_revoked"] = _revoke_tokens(user.id, "deactivated")
    audit.record(actor, "user.activate" if active else "user.deactivate", "user", user.id,
                 before={"active": not active}, after=after, region_code=user.region_code)
    from ..database import commit_keeping_loaded

    commit_keeping_loaded()
    return user


def revoke_user_tokens(actor, user_id: int) -> int:
    user = get_user(actor, user_id, "user.manage")
    count = _revoke_tokens(user.id, "revoked_by_admin")
    audit.record(actor, "user.tokens_revoke", "user", user.id, region_code=user.region_code,
                 after={"tokens_revoked": count})
    db.session.commit()
    return count


def end_user_sessions(actor, user_id: int) -> int:
    user = get_user(actor, user_id, "user.manage")
    count = _revoke_sessions(user.id, "ended_by_admin")
    audit.record(actor, "user.sessions_end", "user", user.id, region_code=user.region_code,
                 after={"sessions_ended": count})
    db.session.commit()
    return count


# --- Command line (operators; actor None) --------------------------------------------------

def _user_by_name(username: str) -> User:
    user = _find_user(username)
    if user is None:
        raise NotFound(_t("用户 %(name)s 不存在。", name=username))
    return user


def cli_set_password(username: str, password: str | None) -> Reset | User:
    """``users set-password``: a chosen password (rules apply), or with ``password=None`` a
    temporary one (returned once). Ends the user's sessions and tokens; forgives failed sign-ins."""
    user = _user_by_name(username)
    if password is None:
        return _set_temporary_password(None, user, "user.password_set")
    problems = password_problems(password, user.username)
    if problems:
        raise Invalid(_t("新密码不符合要求。"), [{"field": "password", "message": m} for m in problems])
    user.set_password(password)
    user.must_change_password = False
    user.temporary_password_expires_at = user.temporary_password_used_at = None
    user.password_changed_at = _now()
    sessions = _revoke_sessions(user.id, "password_set")
    tokens = _revoke_tokens(user.id, "password_set")
    throttle.forgive_account(user.username)
    audit.record(None, "user.password_set", "user", user.id, region_code=user.region_code,
                 after={"sessions_ended": sessions, "tokens_revoked": tokens})
    db.session.commit()
    return user


def cli_set_active(username: str, active: bool) -> User:
    user = _user_by_name(username)
    if user.active != active:
        user.active = active
        after: dict = {"active": active}
        if not active:
            after["sessions_ended"] = _revoke_sessions(user.id, "deactivated")
            after["tokens_revoked"] = _revoke_tokens(user.id, "deactivated")
        audit.record(None, "user.activate" if active else "user.deactivate", "user", user.id,
                     before={"active": not active}, after=after, region_code=user.region_code)
        db.session.commit()
    return user


def cli_revoke_tokens(username: str) -> int:
    user = _user_by_name(username)
    count = _revoke_tokens(user.id, "revoked_by_operator")
    audit.record(None, "user.tokens_revoke", "user", user.id, region_code=user.region_code,
                 after={"tokens_revoked": count})
    db.session.commit()
    return count


def cli_unlock(username: str) -> None:
    name = throttle.account_key(username)
    throttle.forgive_account(name)
    audit.record(None, "user.unlock", "user", name, note="failed sign-ins forgiven")
    db.session.commit()


def cli_users() -> list[tuple[User, str | None, int]]:
    """Every user with the name of their region and the number of live sessions."""
    users = list(db.session.scalars(select(User).order_by(User.region_code, User.username)))
    names = region_names([u.region_code for u in users])
    counts = dict(db.session.execute(
        select(UserSession.user_id, func.count()).where(UserSession.revoked_at.is_(None))
        .group_by(UserSession.user_id)).all())
    return [(u, names.get(u.region_code), counts.get(u.id, 0)) for u in users]
