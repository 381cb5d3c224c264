"""My account (我的账户): what every signed-in user does for themselves: see their account,
change their password (the current one is required, and checked as a throttled sign-in), and
end their own sessions and tokens (another device, a lost tablet)."""
from __future__ import annotations

from ... import audit
from ...database import commit_keeping_loaded
from ...errors import Invalid, NotFound
from ...extensions import db
from ...models_common import utcnow
from ...permissions import require
from ...validation import merged, validate
from ..models import ApiToken, UserSession
from .common import t, valid_id
from .jurisdiction import region_names
from .passwords import password_field, rule_errors, store_password
from .sessions import live_sessions, revoke_sessions
from .signin import verify_own_password
from .tokens import live_tokens, revoke_tokens
from .users import user_dict

PASSWORD_BODY = {"old_password": password_field("当前密码（管理员重置后为临时密码）"),
                 "new_password": password_field("至少 8 位，含字母、数字、符号中的至少两类，不含用户名")}
#: The page asks for the new password twice.
CONFIRMED_PASSWORD_BODY = {**PASSWORD_BODY, "confirm": password_field("再次输入新密码")}


def my_account(actor) -> dict:
    """What the API says of me (``GET /me``)."""
    require(actor, "account.view")
    return user_dict(actor)


def account_page(actor) -> dict:
    """My account page: me, the name of my region, my live sessions and tokens."""
    require(actor, "account.view")
    return {"me": actor, "region_name": region_names([actor.region_code]).get(actor.region_code),
            "sessions": live_sessions(actor.id), "tokens": live_tokens(actor.id)}


def change_password(actor, data, *, confirm: bool = False) -> dict:
    """Change my own password with ``data`` (:data:`PASSWORD_BODY`, or with ``confirm`` the
    page's :data:`CONFIRMED_PASSWORD_BODY`): the current one is required (and throttled like a
    sign-in), the new one follows the rules (:func:`~.passwords.password_problems`). Every
    other session of mine and every token of mine end (a token used for this very call too);
    the session of this request stays."""
    require(actor, "account.view")
    values, errors = validate(CONFIRMED_PASSWORD_BODY if confirm else PASSWORD_BODY, data)
    if confirm and not errors and values["confirm"] != values["new_password"]:
        errors.append({"field": "confirm", "message": t("两次输入的新密码不一致")})
    new = values["new_password"]
    if errors:  # nothing to check the current password against: no sign-in attempt
        raise Invalid(t("密码未修改。"), merged(errors, rule_errors("new_password", new, actor.username)))
    errors = rule_errors("new_password", new, actor.username, old=values["old_password"])
    user = verify_own_password(actor, values["old_password"])
    if user is None:
        errors.insert(0, {"field": "old_password", "message": t("当前密码不正确")})
    if errors:
        raise Invalid(t("密码未修改。") if user is None else t("新密码不符合要求。"), errors)
    store_password(user, new, utcnow())
    sessions = revoke_sessions(user.id, "password_change", keep=getattr(actor, "session_id", None))
    tokens = revoke_tokens(user.id, "password_change")
    audit.record(actor, "user.password_change", "user", user.id, region_code=user.region_code,
                 after={"sessions_ended": sessions, "tokens_revoked": tokens})
    commit_keeping_loaded()
    return {"sessions_ended": sessions, "tokens_revoked": tokens}


def my_sessions(actor) -> list[UserSession]:
    require(actor, "account.view")
    return live_sessions(actor.id)


def my_tokens(actor) -> list[ApiToken]:
    require(actor, "account.view")
    return live_tokens(actor.id)


def end_my_session(actor, session_id: int) -> bool:
    """Sign out one of my sessions (another device); whether it was the one of this request
    (then this is a logout)."""
    require(actor, "account.view")
    if not valid_id(session_id) or not revoke_sessions(actor.id, "ended_by_user", only=session_id):
        raise NotFound(t("没有这个有效会话。"))
    audit.record(actor, "session.end", "user", actor.id, region_code=actor.region_code,
                 note=f"session {session_id}")
    db.session.commit()
    return session_id == getattr(actor, "session_id", None)


def end_my_other_sessions(actor) -> int:
    require(actor, "account.view")
    count = revoke_sessions(actor.id, "ended_by_user", keep=getattr(actor, "session_id", None))
    audit.record(actor, "session.end_others", "user", actor.id, region_code=actor.region_code,
                 after={"sessions_ended": count})
    db.session.commit()
    return count


def revoke_my_token(actor, token_id: int) -> None:
    require(actor, "account.view")
    if not valid_id(token_id) or not revoke_tokens(actor.id, "revoked_by_user", only=token_id):
        raise NotFound(t("没有这个有效令牌。"))
    audit.record(actor, "token.revoke", "user", actor.id, region_code=actor.region_code,
                 note=f"token {token_id}")
    db.session.commit()
