"""JSON API: tokens, my account (``/me``) and user management (``/users``). Thin: each body goes
as it is to the service, which reads it by the ``Field`` s documented here."""
from __future__ import annotations

from flask import jsonify, request

from ..api import api_blueprint, api_user, arg, created, doc, idempotent, page_args, public
from . import service

bp = api_blueprint("auth_api", __name__)

THROTTLED = "登录失败次数过多：Retry-After 头与 retry_at 说明何时再试"


def _body():
    return request.get_json(silent=True)


def _list(rows, to_dict) -> dict:
    items = [to_dict(row) for row in rows]
    return {"items": items, "total": len(items)}


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


# --- Tokens and my account -----------------------------------------------------------------

@bp.post("/auth/token")
@public
@doc("换取访问令牌 (bearer token)；登录失败按账户和地址限制", tag="auth", body=service.TOKEN_BODY,
     responses={200: "{token, expires_at, must_change_password}", 401: "用户名或密码错误、账户停用或临时密码已用过",
                422: "缺少字段", 429: THROTTLED}, schema="Token")
def token():
    token, expires, user = service.issue_token(_body())
    return _no_store(jsonify({"token": token, "expires_at": expires.isoformat(),
                              "must_change_password": bool(user.must_change_password)}))


@bp.get("/me")
@doc("当前用户", tag="auth", schema="User")
def me():
    return jsonify(service.my_account(api_user()))


@bp.post("/me/password")
@doc("修改我的密码（须提供当前密码）；我的其他会话和全部令牌随即作废", tag="auth", body=service.PASSWORD_BODY,
     responses={200: "{sessions_ended, tokens_revoked}", 422: "当前密码不正确或新密码不符合要求",
                429: THROTTLED})
def change_my_password():
    return jsonify(service.change_password(api_user(), _body()))


@bp.get("/me/sessions")
@doc("我的有效登录会话（页面登录）", tag="auth", responses={200: "{items: [{id, created_at, last_seen_at, ip, user_agent, current}], total}"})
def my_sessions():
    me = api_user()
    return jsonify(_list(service.my_sessions(me), lambda s: s.to_dict(getattr(me, "session_id", None))))


@bp.delete("/me/sessions/<int:session_id>")
@doc("退出我的一个会话", tag="auth", responses={204: "已退出", 404: "没有这个有效会话"})
def end_my_session(session_id: int):
    service.end_my_session(api_user(), session_id)
    return "", 204


@bp.get("/me/tokens")
@doc("我的有效令牌", tag="auth", responses={200: "{items: [{id, label, created_at, expires_at, created_ip, last_used_at}], total}"})
def my_tokens():
    return jsonify(_list(service.my_tokens(api_user()), lambda t: t.to_dict()))


@bp.delete("/me/tokens/<int:token_id>")
@doc("作废我的一个令牌", tag="auth", responses={204: "已作废", 404: "没有这个有效令牌"})
def revoke_my_token(token_id: int):
    service.revoke_my_token(api_user(), token_id)
    return "", 204


# --- Users ----------------------------------------------------------------------------------

@bp.get("/users")
@doc("用户列表（本管辖范围内）", tag="users",
     query={**service.USER_FILTERS, "limit": "每页条数", "offset": "偏移"},
     responses={200: "{items: [user], total}", 403: "无权查看用户"})
def list_users():
    limit, offset = page_args()
    filters = {name: arg(name, field) for name, field in service.USER_FILTERS.items()}
    return jsonify(service.list_users(api_user(), filters, limit=limit, offset=offset))


@bp.post("/users")
@idempotent
@doc("新建用户（本管辖范围内）；初始密码在首次登录时必须修改", tag="users", body=service.USER_BODY,
     responses={201: "user", 403: "无权或区划不在管辖范围内", 409: "用户名已存在", 422: "输入有误"})
def create_user():
    return created(service.user_dict(service.create_user(api_user(), _body())))


@bp.get("/users/<int:user_id>")
@doc("一个用户", tag="users", responses={200: "user", 403: "不在管辖范围内", 404: "用户不存在"})
def get_user(user_id: int):
    return jsonify(service.user_dict(service.get_user(api_user(), user_id)))


@bp.post("/users/<int:user_id>/reset-password")
@doc("重置用户密码：返回一次性临时密码（只返回这一次），用户下次登录须修改；其会话和令牌全部作废", tag="users",
     responses={200: "{user, temporary_password, expires_at, sessions_ended, tokens_revoked}",
                403: "无权或不在管辖范围内", 404: "用户不存在", 409: "不能重置自己的密码"})
def reset_password(user_id: int):
    reset = service.reset_password(api_user(), user_id)
    return _no_store(jsonify({"user": service.user_dict(reset.user), "temporary_password": reset.password,
                              "expires_at": reset.expires_at.isoformat(),
                              "sessions_ended": reset.sessions_ended, "tokens_revoked": reset.tokens_revoked}))


@bp.post("/users/<int:user_id>/deactivate")
@doc("停用用户：其会话和令牌立即作废", tag="users",
     responses={200: "user", 403: "无权或不在管辖范围内", 404: "用户不存在", 409: "不能停用自己"})
def deactivate_user(user_id: int):
    return jsonify(service.user_dict(service.set_active(api_user(), user_id, False)))


@bp.post("/users/<int:user_id>/activate")
@doc("启用用户", tag="users", responses={200: "user", 403: "无权或不在管辖范围内", 404: "用户不存在", 409: "不能启用自己"})
def activate_user(user_id: int):
    return jsonify(service.user_dict(service.set_active(api_user(), user_id, True)))


@bp.post("/users/<int:user_id>/revoke-tokens")
@doc("作废用户的全部令牌", tag="users", responses={200: "{tokens_revoked}", 403: "无权或不在管辖范围内", 404: "用户不存在"})
def revoke_user_tokens(user_id: int):
    return jsonify({"tokens_revoked": service.revoke_user_tokens(api_user(), user_id)})


@bp.post("/users/<int:user_id>/end-sessions")
@doc("退出用户的全部页面会话", tag="users", responses={200: "{sessions_ended}", 403: "无权或不在管辖范围内", 404: "用户不存在"})
def end_user_sessions(user_id: int):
    return jsonify({"sessions_ended": service.end_user_sessions(api_user(), user_id)})


@bp.get("/users/<int:user_id>/sessions")
@doc("用户的有效登录会话", tag="users", responses={200: "{items, total}", 403: "不在管辖范围内", 404: "用户不存在"})
def user_sessions(user_id: int):
    return jsonify(_list(service.user_sessions(api_user(), user_id), lambda s: s.to_dict()))


@bp.get("/users/<int:user_id>/tokens")
@doc("用户的有效令牌", tag="users", responses={200: "{items, total}", 403: "不在管辖范围内", 404: "用户不存在"})
def user_tokens(user_id: int):
    return jsonify(_list(service.user_tokens(api_user(), user_id), lambda t: t.to_dict()))
