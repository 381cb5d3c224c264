"""The pieces every JSON API route uses.

- ``api_blueprint(name)``: a blueprint under ``/api/v1`` whose requests need a bearer token (or
  a signed-in session plus the CSRF header for unsafe methods).
- ``doc(...)``: OpenAPI annotations read by :mod:`app.openapi`.
- ``Field`` / ``parse`` / ``validate``: validate a JSON body, gathering every bad field into
  one 422 (``validate`` hands the errors back so that a service can add its rule errors).
- ``idempotent``: honour the ``Idempotency-Key`` header on creating POSTs.
- ``page(query)``: ``?limit=&offset=`` lists as ``{"items", "total"}``; ``int_arg``: an
  optional integer query argument.
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
from dataclasses import dataclass, field as dc_field
from datetime import datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

from flask import Blueprint, g, has_request_context, jsonify, request
from flask_login import current_user
from sqlalchemy import delete, func, select, update

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
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not math.isfinite(value) or int(value) != value):
                return bad("必须是整数")
            value = int(value)
        elif spec.type == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return bad("必须是数字")
            if not math.isfinite(value):
                return bad("必须是有限的数字（不能是 NaN 或 Infinity）")
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
    out, errors = validate(fields, data)
    if errors:
        raise Invalid("请求有 %d 处错误。" % len(errors), errors)
    return out


def validate(fields: dict[str, Field], data: Any = _MISSING) -> tuple[dict, list[dict]]:
    """Check a JSON object against ``fields`` without raising: the converted values (``None``
    for a bad field) and the list of errors, to which a service adds its rule errors before it
    raises one 422 (:func:`parse` raises at once). A body that is not an object is a 422 here:
    nothing more can be said about it."""
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
            out[name] = None if spec.required else spec.default
            continue
        out[name] = _convert(name, spec, value, errors)
    return out, errors


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


def int_arg(name: str) -> int | None:
    """An optional integer query argument (``?event_id=7``): ``None`` when absent or empty, a
    422 naming it when it is not an integer."""
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise Invalid("查询参数有误。", [{"field": name, "message": "必须是整数"}]) from None


def page(stmt, to_dict: Callable[[Any], dict], default_limit: int = 100) -> dict:
    """Run a ``select`` with ``?limit=&offset=``: ``{"items": [...], "total": N}``."""
    limit, offset = page_args(default_limit)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(limit).offset(offset)).all()
    return {"items": [to_dict(row) for row in rows], "total": total, "limit": limit, "offset": offset}


# --- Idempotency ----------------------------------------------------------------------------

def idempotent(view: Callable | None = None, *, one_transaction: bool = False):
    """Honour ``Idempotency-Key`` on a creating POST (API.md conventions).

    The first request with a key claims it (a row unique per user and key); the response of
    that request is stored and replayed for the same key and the same body, and a different
    body under the same key is a 409. A 4xx answer is stored and replayed too; a failed run
    (5xx) releases the key.

    Two concurrent requests with one key never both create. By default the claim is committed
    on its own before the work runs, so a second request finds it and gets 409 (in progress)
    until the first has answered.

    ``@idempotent(one_transaction=True)`` is for views whose service takes the claim into its
    own transaction: the view hands the service :func:`idempotency_response` as the callback to
    run just before its commit, so the claim, the work and the stored response commit together
    (one commit in all) or not at all. A concurrent request with the same key then waits on the
    uncommitted claim (PostgreSQL; SQLite serialises writers anyway) and replays the answer of
    the first. Such a service must never roll back the whole transaction and carry on (a
    savepoint is fine): that would drop the claim. If the view commits without calling
    :func:`idempotency_response`, its response is stored afterwards as in the default mode.
    """
    if view is None:
        return functools.partial(idempotent, one_transaction=one_transaction)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if not key:
            return view(*args, **kwargs)
        from .database import commit_keeping_loaded

        user_id = api_user().id
        scope = f"{request.method} {request.path}"
        body_hash = request_fingerprint(scope)
        claim_id = _claim(user_id, key, scope, body_hash)
        if claim_id is None:
            return _replay(user_id, key, scope, body_hash)
        if not one_transaction:
            commit_keeping_loaded()
        g.idempotency_claim = {"id": claim_id, "staged": False}
        try:
            response = _to_response(view(*args, **kwargs))
        except Exception as exc:
            from .errors import ServiceError

            staged = g.idempotency_claim["staged"]
            db.session.rollback()
            if isinstance(exc, ServiceError) and exc.status < 500:
                _store_failure(claim_id, user_id, key, scope, body_hash, exc)
            elif not (one_transaction and staged and _claim_exists(claim_id)):
                # released; a one-transaction view whose work (and answer) did commit before
                # the failure keeps its key, so that a retry replays instead of repeating it
                _release(claim_id)
            raise
        finally:
            claim = g.pop("idempotency_claim", None)
        if claim["staged"]:  # the answer was committed together with the work
            return response
        if response.status_code < 500 and response.is_json:
            _store(claim_id, user_id, key, scope, body_hash, response.status_code, response.get_json())
            db.session.commit()
        else:
            _release(claim_id)
        return response

    return wrapper


def request_fingerprint(scope: str) -> str:
    """The fingerprint an ``Idempotency-Key`` is bound to: ``scope`` (method and path) and the
    body. A JSON body counts by its canonical form (parsed, keys sorted, compact separators), so
    key order and whitespace do not matter; a multipart form by its fields and its files'
    contents (not its boundary); any other body by its bytes.

    The JSON body is parsed with ``request.get_json``, whose cached result the view then reuses,
    so this costs no second parse and no query."""
    body = request.get_json(silent=True) if request.is_json else None
    if body is not None:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        payload = b"json\n" + canonical.encode()
    elif request.mimetype == "multipart/form-data":
        # the boundary differs on every upload: count the fields and the files' contents
        parts = {"form": sorted(request.form.items(multi=True)), "files": []}
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            digest = hashlib.sha256()
            for chunk in iter(lambda: upload.stream.read(1 << 16), b""):
                digest.update(chunk)
            upload.stream.seek(0)
            parts["files"].append([name, upload.filename or "", digest.hexdigest()])
        payload = b"multipart\n" + json.dumps(parts, ensure_ascii=False).encode()
    else:
        payload = b"raw\n" + (request.get_data() or b"")
    return hashlib.sha256(scope.encode() + b"\n" + payload).hexdigest()


def idempotency_response(status: int, body: dict) -> None:
    """Store the answer of the running ``@idempotent`` request on its claim, inside the
    transaction that is about to commit the work, so that both commit together. Outside such a
    request (no key, pages, imports) it does nothing."""
    claim = g.get("idempotency_claim") if has_request_context() else None
    if claim is None:
        return
    _set_answer(claim["id"], status, body)
    claim["staged"] = True


@functools.lru_cache(maxsize=1)
def _answer_statement():
    from sqlalchemy import bindparam

    from .models_common import IdempotencyRecord

    table = IdempotencyRecord.__table__
    return (update(table).where(table.c.id == bindparam("claim_id"))
            .values(status=bindparam("status", type_=table.c.status.type),
                    response=bindparam("response", type_=table.c.response.type)))


def _set_answer(claim_id: int, status: int, body: dict) -> int:
    """Put the answer on the claim row (no autoflush); how many rows that updated."""
    return db.session.connection().execute(
        _answer_statement(), {"claim_id": claim_id, "status": status, "response": body}).rowcount


def _claim(user_id: int, key: str, scope: str, body_hash: str) -> int | None:
    from .database import insert_unless_exists
    from .models_common import IdempotencyRecord

    table = IdempotencyRecord.__table__
    return insert_unless_exists(table, ["user_id", "key"],
                                {"user_id": user_id, "key": key, "scope": scope, "body_hash": body_hash},
                                table.c.id)


def _replay(user_id: int, key: str, scope: str, body_hash: str):
    from .models_common import IdempotencyRecord

    existing = db.session.scalar(select(IdempotencyRecord).filter_by(user_id=user_id, key=key))
    if existing is None:  # released between our claim attempt and this read: ask for a retry
        raise Conflict("使用此 Idempotency-Key 的请求仍在处理中，请稍后重试。")
    if existing.scope != scope or existing.body_hash != body_hash:
        raise Conflict("此 Idempotency-Key 已用于另一个请求体。",
                       [{"field": "Idempotency-Key", "message": "与首次请求的内容不同"}])
    if existing.status is None:
        raise Conflict("使用此 Idempotency-Key 的请求仍在处理中，请稍后重试。")
    from .database import commit_keeping_loaded

    # ends the read here (nothing was written): a ROLLBACK at the teardown would make psycopg
    # drop its prepared statements, and retries come in bursts
    commit_keeping_loaded()
    response = jsonify(existing.response)
    response.status_code = existing.status
    response.headers["Idempotent-Replayed"] = "true"
    if existing.status >= 400:
        response.content_type = "application/problem+json"
    return response


def _claim_exists(claim_id: int) -> bool:
    """Whether the claim row is in the database (after a rollback: whether it was committed)."""
    from .models_common import IdempotencyRecord

    table = IdempotencyRecord.__table__
    return db.session.execute(select(table.c.id).where(table.c.id == claim_id)).first() is not None


def _store(claim_id: int, user_id: int, key: str, scope: str, body_hash: str, status: int,
           body: dict) -> None:
    """Put the answer on the claim; if the view rolled the claim back, write it afresh (unless
    another request has claimed the key meanwhile: that one answers for itself)."""
    from .database import insert_unless_exists
    from .models_common import IdempotencyRecord

    table = IdempotencyRecord.__table__
    db.session.flush()  # the view's pending work first, as a commit would
    if not _set_answer(claim_id, status, body):
        insert_unless_exists(table, ["user_id", "key"],
                             {"user_id": user_id, "key": key, "scope": scope, "body_hash": body_hash,
                              "status": status, "response": body}, table.c.id)


def _store_failure(claim_id: int, user_id: int, key: str, scope: str, body_hash: str, exc) -> None:
    from .errors import problem

    body, status, _ = problem(exc.status, exc.title, exc.detail, exc.errors, exc.type)
    _store(claim_id, user_id, key, scope, body_hash, status, body)
    db.session.commit()


def _release(claim_id: int) -> None:
    from .models_common import IdempotencyRecord

    table = IdempotencyRecord.__table__
    db.session.execute(delete(table).where(table.c.id == claim_id))
    db.session.commit()


def _to_response(result):
    from flask import make_response

    return make_response(result)


def created(body: dict):
    return jsonify(body), 201
