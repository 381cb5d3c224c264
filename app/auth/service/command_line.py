"""What operators do on the command line (``flask users …``; no signed-in actor, audited as the
system): create a user, set a password (chosen, or a temporary one), deactivate, reactivate,
revoke tokens, lift a sign-in lock-out, and list every user."""
from __future__ import annotations

from sqlalchemy import func, select

from ... import audit
from ...errors import Invalid, NotFound
from ...extensions import db
from ...models_common import utcnow
from ...validation import Field, merged, parse, validate
from .. import throttle
from ..models import User, UserSession
from .common import t
from .jurisdiction import region_names
from .passwords import password_field, rule_errors, store_password
from .sessions import revoke_sessions
from .signin import find_user
from .tokens import revoke_tokens
from .users import Reset, create_user, revoke_all_tokens, set_temporary_password, switch_active

#: A user named on the command line, read as a sign-in reads it.
_NAME = {"username": Field("str", max_length=80)}
_PASSWORD = {"password": password_field()}


def cli_create_user(username: str, role: str, region: str, password: str, full_name: str = "") -> User:
    """``users create``: the rules of :func:`~.users.create_user`; no change forced at the first
    sign-in."""
    return create_user(None, {"username": username, "role": role, "region_code": region,
                              "password": password, "full_name": full_name})


def _user_by_name(username: str) -> User:
    user = find_user(parse(_NAME, {"username": username})["username"])
    if user is None:
        raise NotFound(t("用户 %(name)s 不存在。", name=username))
    return user


def cli_set_password(username: str, password: str | None) -> Reset | User:
    """``users set-password``: a chosen password (rules apply), or with ``password=None`` a
    temporary one (returned once). Ends the user's sessions and tokens; forgives failed sign-ins."""
    user = _user_by_name(username)
    if password is None:
        return set_temporary_password(None, user, "user.password_set")
    values, errors = validate(_PASSWORD, {"password": password})
    errors = merged(errors, rule_errors("password", values["password"], user.username))
    if errors:
        raise Invalid(t("新密码不符合要求。"), errors)
    store_password(user, values["password"], utcnow())
    sessions = revoke_sessions(user.id, "password_set")
    tokens = revoke_tokens(user.id, "password_set")
    throttle.forgive_account(user.username)
    audit.record(None, "user.password_set", "user", user.id, region_code=user.region_code,
                 after={"sessions_ended": sessions, "tokens_revoked": tokens})
    db.session.commit()
    return user


def cli_set_active(username: str, active: bool) -> User:
    return switch_active(None, _user_by_name(username), active)


def cli_revoke_tokens(username: str) -> int:
    return revoke_all_tokens(None, _user_by_name(username), "revoked_by_operator")


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
