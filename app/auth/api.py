from __future__ import annotations

from flask import jsonify

from ..api import Field, api_blueprint, api_user, doc, parse, public
from ..extensions import limiter
from . import service

bp = api_blueprint("auth_api", __name__)

TOKEN_BODY = {"username": Field("str", max_length=80), "password": Field("str", max_length=1024)}


@bp.post("/auth/token")
@public
@limiter.limit(lambda: __import__("flask").current_app.config["LOGIN_RATE_LIMIT"])
@doc("换取访问令牌 (bearer token)", tag="auth", body=TOKEN_BODY,
     responses={200: "{token, expires_at}", 401: "用户名或密码错误", 422: "缺少字段"}, schema="Token")
def token():
    data = parse(TOKEN_BODY)
    token, expires = service.issue_token(data["username"], data["password"])
    return jsonify({"token": token, "expires_at": expires.isoformat()})


@bp.get("/me")
@doc("当前用户", tag="auth", schema="User")
def me():
    return jsonify(api_user().to_dict())
