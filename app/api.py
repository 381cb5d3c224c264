"""The pieces every JSON API route uses.

- ``api_blueprint(name)``: a blueprint under ``/api/v1`` whose requests need a bearer token (or
  a signed-in session plus the CSRF header for unsafe methods).
- ``doc(...)``: OpenAPI annotations read by :mod:`app.openapi`.
- ``Field`` / ``parse``: validate a JSON body, gathering every bad field into one 422.
- ``idempotent``: honour the ``Idempotency-Key`` header on creating POSTs.
- ``page(query)``: ``?limit=&offset=`` lists as ``{"items", "total"}``.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field as dc_field
from datetime import datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

from flask import Blueprint, g, jsonify, request
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .errors import Conflict, Invalid, Unauthorized
from .extensions import csrf, db

SHANGHAI = ZoneInfo("Asia/Shanghai")
PUBLIC_ENDPOINT_ATTR = "_api_public"


def api_blueprint(name: str, import_name: str) -> Blueprint:
    bp = Blueprint(name, import_name, url_prefix="/api/v1")
    csrf.exempt(bp)
    bp.before_request(_authenticate)
    return bp


def public(view: Callable) -> Callable:
    """Mark an API view that needs no authentication (token issue, OpenAPI document)."""
    setattr(view, PUBLIC_ENDPOINT_ATTR, True)
    return view


def _authenticate():
    from flask import current_app

    view = current_app.view_functions.get(request.endpoint)
    if view is not None and getattr(view, PUBLIC_ENDPOINT_ATTR, False):
        return None
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        from .auth.service import user_for_token

        user = user_for_token(header[7:].strip())
        if user is None:
            raise Unauthorized("令牌无效或已过期，请重新获取 (POST /api/v1/auth/token)。")
        g.api_user = user
        return None
    if current_user.is_authenticated:
        # Pages call the API with their session; unsafe methods then need the CSRF header.
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()
        g.api_user = current_user._get_current_object()
        return None
    raise Unauthorized("缺少令牌：请在 Authorization 头中提供 Bearer 令牌。")


def api_user():
    """The authenticated user of this API request."""
    return g.api_user


# --- OpenAPI annotations ------------------------------------------------------------------

def doc(summary: str, *, tag: str, body: dict[str, "Field"] | None = None,
        responses: dict[int, str] | None = None, query: dict[str, str] | None = None):
    def wrap(view: Callable) -> Callable:
        view._openapi = {"summary": summary, "tag": tag, "body": body, "query": query or {},
                         "responses": responses or {200: "OK"}}
        return view

    return wrap


# --- Input validation ----------------------------------------------------------------------

_MISSING = object()


@dataclass
class Field:
    """One field of a JSON body: type ``str``, ``int``, ``number``, ``bool``, ``datetime``,
    ``date``, ``list``, ``dict`` or ``code`` (an administrative code)."""

    type: str = "str"
    required: bool = True
    choices: tuple | None = None
    min: float | None = None
    max_length: int | None = None
    default: Any = None
    description: str = ""
    items: str | None = None  # element type of a list
    extra: dict = dc_field(default_factory=dict)

    def openapi(self) -> dict:
        mapping = {"str": {"type": "string"}, "int": {"type": "integer"}, "number": {"type": "number"},
                   "bool": {"type": "boolean"}, "datetime": {"type": "string", "format": "date-time"},
                   "date": {"type": "string", "format": "date"}, "list": {"type": "array"},
                   "dict": {"type": "object"}, "code": {"type": "string", "pattern": r"^\d{6}(\d{3}){0,2}$"}}
        schema = dict(mapping[self.type])
        if self.choices:
            schema["enum"] = list(self.choices)
        if self.min is not None:
            schema["minimum"] = self.min
        if self.type == "list" and self.items:
            schema["items"] = Field(self.items).openapi()
        if self.description:
            schema["description"] = self.description
        return schema


def parse_datetime(value: Any) -> datetime:
    """ISO 8601 with an offset; naive input is Asia/Shanghai (API.md conventions)."""
    if isinstance(value, datetime):
        parsed = value
    else:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)


def _convert(name: str, spec: Field, value: Any, errors: list[dict]):
    from datetime import date

    from gis import codes

    def bad(message: str):
        errors.append({"field": name, "message": message})
        return None

    try:
        if spec.type == "str":
            if not isinstance(value, str):
                return bad("必须是字符串")
            value = value.strip()
            if spec.required and not value:
                return bad("不能为空")
            if spec.max_length and len(value) > spec.max_length:
                return bad(f"长度不能超过 {spec.max_length}")
        elif spec.type == "int":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
                return bad("必须是整数")
            value = int(value)
        elif spec.type == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return bad("必须是数字")
        elif spec.type == "bool":
            if not isinstance(value, bool):
                return bad("必须是 true 或 false")
        elif spec.type == "datetime":
            value = parse_datetime(value)
        elif spec.type == "date":
            value = date.fromisoformat(str(value))
        elif spec.type == "list":
            if not isinstance(value, list):
                return bad("必须是数组")
        elif spec.type == "dict":
            if not isinstance(value, dict):
                return bad("必须是对象")
        elif spec.type == "code":
            value = codes.normalise(value)
    except (ValueError, TypeError) as exc:
        return bad(f"格式不正确：{exc}" if spec.type == "code" else "格式不正确")
    if spec.choices and value not in spec.choices:
        return bad(f"必须是以下之一：{', '.join(map(str, spec.choices))}")
    if spec.min is not None and isinstance(value, (int, float)) and value < spec.min:
        return bad(f"不能小于 {spec.min}")
    return value


def parse(fields: dict[str, Field], data: Any = _MISSING) -> dict:
    """Validate a JSON object against ``fields``; raise one 422 naming every bad field."""
    if data is _MISSING:
        data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid("请求体必须是 JSON 对象。", [{"field": "", "message": "请求体必须是 JSON 对象"}])
    errors: list[dict] = []
    out: dict = {}
    for name, spec in fields.items():
        value = data.get(name, _MISSING)
        if value is _MISSING or value is None:
            if spec.required:
                errors.append({"field": name, "message": "必填"})
            else:
                out[name] = spec.default
            continue
        out[name] = _convert(name, spec, value, errors)
    if errors:
        raise Invalid("请求有 %d 处错误。" % len(errors), errors)
    return out


# --- Lists ----------------------------------------------------------------------------------

def page_args(default_limit: int = 100, max_limit: int = 1000) -> tuple[int, int]:
    errors = []
    values = {}
    for name, default in (("limit", default_limit), ("offset", 0)):
        raw = request.args.get(name, default)
        try:
            values[name] = int(raw)
            if values[name] < 0:
                raise ValueError
        except (TypeError, ValueError):
            errors.append({"field": name, "message": "必须是非负整数"})
    if errors:
        raise Invalid("分页参数有误。", errors)
    return min(values["limit"], max_limit), values["offset"]


def page(stmt, to_dict: Callable[[Any], dict], default_limit: int = 100) -> dict:
    """Run a ``select`` with ``?limit=&offset=``: ``{"items": [...], "total": N}``."""
    limit, offset = page_args(default_limit)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(limit).offset(offset)).all()
    return {"items": [to_dict(row) for row in rows], "total": total, "limit": limit, "offset": offset}


# --- Idempotency ----------------------------------------------------------------------------

def idempotent(view: Callable) -> Callable:
    """Honour ``Idempotency-Key`` on a creating POST (API.md conventions).

    The key is claimed in its own committed transaction before the work runs, so two concurrent
    requests with one key can never both create: the loser gets 409 while the winner runs. The
    response of the winner is stored and replayed for the same key and the same body; a
    different body under the same key is a 409. A failed run (5xx) releases the key.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if not key:
            return view(*args, **kwargs)
        from .models_common import IdempotencyRecord

        user = api_user()
        body_hash = hashlib.sha256(request.get_data() or b"").hexdigest()
        scope = f"{request.method} {request.path}"
        existing = db.session.scalar(select(IdempotencyRecord).filter_by(user_id=user.id, key=key))
        if existing is None:
            try:
                db.session.add(IdempotencyRecord(user_id=user.id, key=key, scope=scope,
                                                 body_hash=body_hash))
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                existing = db.session.scalar(
                    select(IdempotencyRecord).filter_by(user_id=user.id, key=key))
        if existing is not None:
            if existing.scope != scope or existing.body_hash != body_hash:
                raise Conflict("此 Idempotency-Key 已用于另一个请求体。",
                               [{"field": "Idempotency-Key", "message": "与首次请求的内容不同"}])
            if existing.status is None:
                raise Conflict("使用此 Idempotency-Key 的请求仍在处理中，请稍后重试。")
            response = jsonify(existing.response)
            response.status_code = existing.status
            response.headers["Idempotent-Replayed"] = "true"
            if existing.status >= 400:
                response.content_type = "application/problem+json"
            return response

        try:
            response = _to_response(view(*args, **kwargs))
        except Exception as exc:
            from .errors import ServiceError

            db.session.rollback()
            record = db.session.scalar(select(IdempotencyRecord).filter_by(user_id=user.id, key=key))
            if isinstance(exc, ServiceError) and exc.status < 500:
                from .errors import problem

                body, status, _ = problem(exc.status, exc.title, exc.detail, exc.errors, exc.type)
                record.status, record.response = status, body
            else:
                db.session.delete(record)
            db.session.commit()
            raise
        record = db.session.scalar(select(IdempotencyRecord).filter_by(user_id=user.id, key=key))
        if response.status_code < 500 and response.is_json:
            record.status, record.response = response.status_code, response.get_json()
        else:
            db.session.delete(record)
        db.session.commit()
        return response

    return wrapper


def _to_response(result):
    from flask import make_response

    return make_response(result)


def created(body: dict):
    return jsonify(body), 201
