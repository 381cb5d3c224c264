"""User administration (用户管理): admins create, reset, deactivate and reactivate the users
inside their jurisdiction and end their sessions and tokens; auditors read them.

An admin sees and manages only the users inside their region (:mod:`.jurisdiction`), and
nobody deactivates or resets themselves here. A user an admin makes must change the initial
password at the first sign-in; a reset gives a temporary password (临时密码: shown once, signs in
once, expires after ``TEMPORARY_PASSWORD_HOURS``) and forces a change. Deactivation (停用) and a
reset end every session and token of the user at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select

from gis import codes

from ... import audit
from ...database import commit_keeping_loaded
from ...errors import Conflict, Forbidden, Invalid, NotFound
from ...extensions import db
from ...models_common import utcnow
from ...permissions import ROLES, can, require
from ...validation import Field, merged, validate
from .. import throttle
from ..models import ApiToken, User, UserSession
from .common import t, valid_id
from .jurisdiction import (refuse_peer_admin, region_choices, region_errors, region_names,
                           within_jurisdiction)
from .passwords import generate_password, password_field, rule_errors
from .sessions import live_sessions, revoke_sessions
from .tokens import live_tokens, revoke_tokens

#: A user name: no blank inside it (and, as every text, no control character).
USERNAME_PATTERN = r"^[^\s\u0000-\u001f\u007f-\u009f]+$"

USER_BODY = {"username": Field("str", max_length=80, pattern=USERNAME_PATTERN,
                               extra={"pattern_message": "不能含空格"}),
             "role": Field("str", choices=ROLES),
             "region_code": Field("str", max_length=100, description="管辖区划：代码或名称；000000 为全国"),
             "password": password_field("初始密码：用户首次登录时必须修改"),
             "full_name": Field("str", required=False, max_length=80, default="")}

#: The filters of the user list (the API's query arguments).
USER_FILTERS = {"q": Field("str", required=False, max_length=80, description="用户名或姓名包含"),
                "role": Field("str", required=False, choices=ROLES, description="角色"),
                "active": Field("bool", required=False, description="true 只列启用的，false 只列停用的"),
                "region_code": Field("str", required=False, max_length=100,
                                     description="区划（代码或名称）及其下级")}

#: The users page's status filter, as the list's ``active``.
PAGE_STATUSES = {"active": True, "inactive": False}


# --- Reading ---------------------------------------------------------------------------------

def user_dict(user: User, names: dict[str, str] | None = None) -> dict:
    """A user as the API shows it, with the name of their region."""
    names = names if names is not None else region_names([user.region_code])
    return {**user.to_dict(), "region_name": names.get(user.region_code),
            "created_at": user.created_at.isoformat() if user.created_at else None,
            "password_changed_at": user.password_changed_at.isoformat() if user.password_changed_at else None}


def _users_query(actor, *, q: str | None, role: str | None, active: bool | None, region_code: str | None):
    """A ``select`` of the users inside ``actor``'s jurisdiction (by username)."""
    stmt = within_jurisdiction(select(User), actor).order_by(User.username)
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


def list_users(actor, filters, *, limit: int = 100, offset: int = 0) -> dict:
    """One page of the users inside ``actor``'s jurisdiction, with region names, narrowed by
    ``filters`` (:data:`USER_FILTERS`; the region by code or name)."""
    require(actor, "user.view")
    values, errors = validate(USER_FILTERS, filters)
    region_code = region_errors(actor, values["region_code"] or None, errors)
    if errors:
        raise Invalid(t("查询参数有误。"), errors)
    stmt = _users_query(actor, q=values["q"] or None, role=values["role"], active=values["active"],
                        region_code=region_code)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = list(db.session.scalars(stmt.limit(limit).offset(offset)))
    names = region_names([u.region_code for u in rows])
    return {"items": [user_dict(u, names) for u in rows], "total": total, "limit": limit, "offset": offset}


def page_filters(args) -> tuple[dict, int]:
    """The users page's filter form (``q``, ``role``, ``status``, ``region``, ``page``) as
    :func:`list_users`' filters and the page number: a role or a status the page does not
    offer is no filter."""
    role = args.get("role")
    filters = {"q": args.get("q") or None, "role": role if role in ROLES else None,
               "active": PAGE_STATUSES.get(args.get("status", "")), "region_code": args.get("region") or None}
    return filters, max(1, min(args.get("page", 1, type=int) or 1, 100_000))


def management(actor) -> dict:
    """What the users page offers beside the list: whether ``actor`` may create users there,
    and the regions of the new-user form's region list."""
    require(actor, "user.view")
    manage = can(actor, "user.manage")
    return {"can_manage": manage, "region_choices": region_choices(actor) if manage else []}


def get_user(actor, user_id: int, action: str = "user.view") -> User:
    """A user inside ``actor``'s jurisdiction that ``actor`` may take ``action`` on."""
    require(actor, action)
    user = db.session.get(User, user_id) if valid_id(user_id) else None
    if user is None:
        raise NotFound(t("用户不存在。"))
    require(actor, action, user.region_code)
    if action == "user.manage":
        refuse_peer_admin(actor, user.role, user.region_code, user.id)
    return user


def may_manage(actor, user: User) -> bool:
    """Whether ``actor`` may take the managing actions on ``user`` (to show the buttons)."""
    try:
        require(actor, "user.manage", user.region_code)
        refuse_peer_admin(actor, user.role, user.region_code, user.id)
    except Forbidden:
        return False
    return True


def user_page(actor, user_id: int) -> dict:
    """A user's page: the user, their region's name, live sessions and tokens, and whether
    ``actor`` may manage them."""
    user = get_user(actor, user_id)
    return {"user": user, "names": region_names([user.region_code]), "sessions": live_sessions(user.id),
            "tokens": live_tokens(user.id), "can_manage": may_manage(actor, user)}


def user_sessions(actor, user_id: int) -> list[UserSession]:
    return live_sessions(get_user(actor, user_id).id)


def user_tokens(actor, user_id: int) -> list[ApiToken]:
    return live_tokens(get_user(actor, user_id).id)


# --- Changing --------------------------------------------------------------------------------

def create_user(actor, data, *, must_change_password: bool | None = None) -> User:
    """Create a user from ``data`` (:data:`USER_BODY`: a JSON body or the page's form) inside
    ``actor``'s jurisdiction (``actor=None``: an operator on the command line). The region may
    be a code or a name. A user an admin makes must change the initial password at the first
    sign-in (by default); one an operator makes need not. Commits."""
    if actor is not None:
        require(actor, "user.manage")
    values, errors = validate(USER_BODY, data)
    region_code = region_errors(actor, values["region_code"], errors)
    errors = merged(errors, rule_errors("password", values["password"], values["username"]))
    if errors:
        raise Invalid(t("用户信息有误。"), errors)
    if actor is not None:
        require(actor, "user.manage", region_code)
        refuse_peer_admin(actor, values["role"], region_code)
    username = values["username"]
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(t("用户名 %(name)s 已存在。", name=username), [{"field": "username", "message": t("已存在")}])
    user = User(username=username, role=values["role"], region_code=region_code, full_name=values["full_name"] or "",
                active=True, password_changed_at=utcnow(),
                must_change_password=(actor is not None) if must_change_password is None else must_change_password)
    user.set_password(values["password"])
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", "user", user.id, after=user.to_dict(), region_code=region_code)
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
    """An admin resets a user's password (:func:`set_temporary_password`)."""
    user = get_user(actor, user_id, "user.manage")
    if user.id == actor.id:
        raise Conflict(t("不能重置自己的密码：请在「我的账户」中修改。"))
    return set_temporary_password(actor, user, "user.password_reset")


def set_temporary_password(actor, user: User, action: str) -> Reset:
    """A temporary password for ``user`` (an admin's reset, an operator's ``--generate``): a
    change forced at the next sign-in, every session and token ended, the account's failed
    sign-ins forgiven (an unlock); audited as ``action``. Commits."""
    password = generate_password()
    moment = utcnow()
    expires = moment + timedelta(hours=current_app.config["TEMPORARY_PASSWORD_HOURS"])
    user.set_password(password)
    user.must_change_password = True
    user.temporary_password_expires_at, user.temporary_password_used_at = expires, None
    user.password_changed_at = moment
    sessions = revoke_sessions(user.id, "password_reset")
    tokens = revoke_tokens(user.id, "password_reset")
    throttle.forgive_account(user.username)
    audit.record(actor, action, "user", user.id, region_code=user.region_code,
                 after={"must_change_password": True, "temporary_password_expires_at": expires,
                        "sessions_ended": sessions, "tokens_revoked": tokens})
    commit_keeping_loaded()
    return Reset(user, password, expires, sessions, tokens)


def set_active(actor, user_id: int, active: bool) -> User:
    """Deactivate (停用: every session and token ends at once) or reactivate a user."""
    user = get_user(actor, user_id, "user.manage")
    if user.id == actor.id:
        raise Conflict(t("不能停用或启用自己的账户。"))
    return switch_active(actor, user, active)


def switch_active(actor, user: User, active: bool) -> User:
    """Deactivate or reactivate ``user`` for ``actor`` (``None``: an operator), audited;
    nothing when already so. Commits."""
    if user.active == active:
        return user
    user.active = active
    after: dict = {"active": active}
    if not active:
        after["sessions_ended"] = revoke_sessions(user.id, "deactivated")
        after["tokens_revoked"] = revoke_tokens(user.id, "deactivated")
    audit.record(actor, "user.activate" if active else "user.deactivate", "user", user.id,
                 before={"active": not active}, after=after, region_code=user.region_code)
    commit_keeping_loaded()
    return user


def revoke_user_tokens(actor, user_id: int) -> int:
    return revoke_all_tokens(actor, get_user(actor, user_id, "user.manage"), "revoked_by_admin")


def revoke_all_tokens(actor, user: User, reason: str) -> int:
    """Revoke every token of ``user``, audited. Commits."""
    count = revoke_tokens(user.id, reason)
    audit.record(actor, "user.tokens_revoke", "user", user.id, region_code=user.region_code,
                 after={"tokens_revoked": count})
    db.session.commit()
    return count


def end_user_sessions(actor, user_id: int) -> int:
    user = get_user(actor, user_id, "user.manage")
    count = revoke_sessions(user.id, "ended_by_admin")
    audit.record(actor, "user.sessions_end", "user", user.id, region_code=user.region_code,
                 after={"sessions_ended": count})
    db.session.commit()
    return count
