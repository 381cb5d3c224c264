"""The pieces every JSON API route uses, and the one path all input is checked by.

- ``api_blueprint(name)``: a blueprint under ``/api/v1`` whose requests need a bearer token (or
  a signed-in session plus the CSRF header for unsafe methods).
- ``doc(...)``: OpenAPI annotations read by :mod:`app.openapi` (``page_of``, ``list_of``,
  ``items_of`` name the answer's schema in :mod:`app.schemas`).
- ``Field`` / ``parse`` / ``validate`` / ``check``: validate input (types, column bounds,
  control characters), gathering every bad field into one 422 (``validate`` hands the errors
  back so that a service can add its rule errors).
- ``arg`` / ``int_arg`` / ``code_arg`` / ``page``: query arguments through the same ``Field``;
  ``?limit=&offset=`` lists as ``{"items", "total"}``.
- ``init_app``: the input guard before every request (control characters anywhere, ids beyond
  their column) and the bounded ``<int:…>`` converter.
- ``idempotent``: honour the ``Idempotency-Key`` header on creating POSTs; only final answers
  are stored.
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from dataclasses import dataclass, field as dc_field
from datetime import datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

from flask import Blueprint, g, has_request_context, jsonify, request
from flask_login import current_user
from sqlalchemy import delete, func, select, update
from werkzeug.routing import IntegerConverter

from .errors import Conflict, Invalid, RetryableConflict, Unauthorized
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


#: ``app.extensions`` key of the function ``token -> user | None`` that the ``auth`` area
#: registers with :func:`token_loader` (the shell does not import an area).
TOKEN_LOADER = "jiuzai.token_loader"


def token_loader(app, loader: Callable[[str], Any]) -> None:
    """Register how a bearer token becomes a user (as Flask-Login's ``user_loader``)."""
    app.extensions[TOKEN_LOADER] = loader


def _authenticate():
    from flask import current_app

    view = current_app.view_functions.get(request.endpoint)
    if view is not None and getattr(view, PUBLIC_ENDPOINT_ATTR, False):
        return None
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        user = current_app.extensions[TOKEN_LOADER](header[7:].strip())
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
        responses: dict[int, str] | None = None, query: dict[str, "str | Field"] | None = None,
        schema: "str | dict | None" = None, path: dict[str, "Field"] | None = None,
        media_type: str | None = None):
    """Annotate a view for the OpenAPI document (:mod:`app.openapi`).

    ``query``: each argument's description, or the :class:`Field` it is read with (arguments
    named in :data:`QUERY_FIELDS` get theirs); ``path``: :class:`Field` s of path parameters that
    are not ids; ``schema``: the body of the success answer, a name in
    ``components/schemas`` or a JSON Schema (:func:`page_of`, :func:`list_of`); ``media_type``:
    its content type when not ``application/json``."""
    def wrap(view: Callable) -> Callable:
        view._openapi = {"summary": summary, "tag": tag, "body": body, "query": query or {},
                         "responses": responses or {200: "OK"}, "schema": schema, "path": path or {},
                         "media_type": media_type}
        return view

    return wrap


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def page_of(name: str) -> dict:
    """The schema of a ``{items, total, limit, offset}`` list of ``name``."""
    return {"allOf": [ref("Page"), {"type": "object", "properties": {"items": {"type": "array", "items": ref(name)}}}]}


def list_of(name: str) -> dict:
    return {"type": "array", "items": ref(name)}


def items_of(name: str) -> dict:
    """The schema of ``{"items": [...]}`` (an unpaged list)."""
    return {"type": "object", "required": ["items"],
            "properties": {"items": {"type": "array", "items": ref(name)}}}


# --- Input validation ----------------------------------------------------------------------

_MISSING = object()

#: Integer bounds by column type: ``Integer`` (32-bit) unless a field says ``bits=64``.
INT_BOUNDS = {32: (-(2**31), 2**31 - 1), 64: (-(2**63), 2**63 - 1)}
#: Any JSON number: finite and at most this in magnitude (a ``max`` narrows it further).
NUMBER_LIMIT = 1e15
#: Text without an explicit ``max_length`` (longer fields say so).
TEXT_MAX_LENGTH = 10_000
#: Elements of a list without an explicit ``max_items``.
LIST_MAX_ITEMS = 10_000
#: Dates and times outside these years are typing mistakes (and beyond them a time zone
#: conversion or a database column overflows).
YEAR_RANGE = (1900, 2199)
CODE_PATTERN = r"^\d{6}(\d{3}){0,2}$"


def control_character(text: str, multiline: bool = False) -> str | None:
    """The first character of ``text`` that no text field accepts, as ``U+XXXX``: a control
    character (NUL, the C0 and C1 sets, DEL; tab, CR and LF only where ``multiline``) or half
    of a surrogate pair (invalid UTF-8 that no database stores). ``None`` when the text is clean."""
    for char in text:
        code = ord(char)
        if code < 0x20 or 0x7F <= code <= 0x9F:
            if multiline and char in "\t\n\r":
                continue
            return f"U+{code:04X}"
        if 0xD800 <= code <= 0xDFFF:
            return f"U+{code:04X}"
    return None


@dataclass
class Field:
    """One input field, and the one place that knows how an input value is checked (JSON bodies
    now, page forms later).

    ``type``: ``str``, ``int``, ``number``, ``bool``, ``datetime``, ``date``, ``list``, ``dict``
    or ``code`` (an administrative code, 6/9/12 digits, normalised).

    - text refuses control characters (``multiline`` allows tab, CR and LF) and is at most
      ``max_length`` (default :data:`TEXT_MAX_LENGTH`) once stripped; ``pattern`` is a regular
      expression it must match;
    - an integer lies within its column (``bits`` 32 or 64) and ``min``/``max``; a number is
      finite and within ``min``/``max`` (default ±:data:`NUMBER_LIMIT`);
    - dates and times lie within :data:`YEAR_RANGE`;
    - a list has at most ``max_items`` elements, each checked as ``items`` (a type name or a
      ``Field``) and named ``field[i]``;
    - a value of the wrong JSON type is an error naming the field, never an exception.
    """

    type: str = "str"
    required: bool = True
    choices: tuple | None = None
    min: float | None = None
    max_length: int | None = None
    default: Any = None
    description: str = ""
    items: "str | Field | None" = None  # element type of a list
    extra: dict = dc_field(default_factory=dict)
    max: float | None = None
    multiline: bool = False
    bits: int = 32
    pattern: str | None = None
    max_items: int | None = None

    # -- bounds ---------------------------------------------------------------------------
    def bounds(self) -> tuple[float | None, float | None]:
        """``(lowest, highest)`` accepted value of an ``int`` or ``number`` field."""
        if self.type == "int":
            low, high = INT_BOUNDS[self.bits]
        elif self.type == "number":
            low, high = -NUMBER_LIMIT, NUMBER_LIMIT
        else:
            return self.min, self.max
        if self.min is not None:
            low = max(low, self.min)
        if self.max is not None:
            high = min(high, self.max)
        return low, high

    def item_field(self) -> "Field | None":
        if self.items is None:
            return None
        return self.items if isinstance(self.items, Field) else Field(self.items)

    # -- checking -------------------------------------------------------------------------
    def convert(self, name: str, value: Any, errors: list[dict]):
        """The checked (and converted) value, or ``None`` after appending an error naming
        ``name`` to ``errors``."""
        from datetime import date

        from gis import codes

        def bad(message: str):
            errors.append({"field": name, "message": message})
            return None

        kind = self.type
        if kind in ("str", "code", "datetime", "date"):
            if not isinstance(value, str):
                if kind == "date" and isinstance(value, date) and not isinstance(value, datetime):
                    value = value.isoformat()
                elif kind == "datetime" and isinstance(value, datetime):
                    value = value.isoformat()
                else:
                    return bad("必须是字符串" if kind == "str" else "必须是字符串（" + {
                        "code": "区划代码", "datetime": "ISO 8601 时间", "date": "YYYY-MM-DD 日期"}[kind] + "）")
            found = control_character(value, self.multiline and kind == "str")
            if found:
                return bad(f"不能包含控制字符（{found}）")
        if kind == "str":
            value = value.strip()
            if self.required and not value:
                return bad("不能为空")
            limit = self.max_length or TEXT_MAX_LENGTH
            if len(value) > limit:
                return bad(f"长度不能超过 {limit}")
            if self.pattern and value and not re.fullmatch(self.pattern, value):
                return bad(self.extra.get("pattern_message") or "格式不正确")
        elif kind == "code":
            try:
                value = codes.normalise(value)
            except codes.CodeError as exc:
                return bad(f"格式不正确：{exc}")
        elif kind == "int":
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or (isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()))):
                return bad("必须是整数")
            value = int(value)
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return bad("必须是数字")
            if isinstance(value, float) and not math.isfinite(value):
                return bad("必须是有限的数字（不能是 NaN 或 Infinity）")
        elif kind == "bool":
            if not isinstance(value, bool):
                return bad("必须是 true 或 false")
        elif kind == "datetime":
            try:
                value = parse_datetime(value)
            except (ValueError, OverflowError):
                return bad("格式不正确：应为 ISO 8601 时间，如 2026-07-06T08:00:00+08:00")
            if not YEAR_RANGE[0] <= value.year <= YEAR_RANGE[1]:
                return bad(f"年份必须在 {YEAR_RANGE[0]}–{YEAR_RANGE[1]} 之间")
        elif kind == "date":
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                return bad("格式不正确：应为 YYYY-MM-DD")
            if not YEAR_RANGE[0] <= value.year <= YEAR_RANGE[1]:
                return bad(f"年份必须在 {YEAR_RANGE[0]}–{YEAR_RANGE[1]} 之间")
        elif kind == "list":
            if not isinstance(value, list):
                return bad("必须是数组")
            limit = self.max_items or LIST_MAX_ITEMS
            if len(value) > limit:
                return bad(f"最多 {limit} 项")
            element = self.item_field()
            if element is not None:
                before = len(errors)
                converted = []
                for index, item in enumerate(value):
                    where = f"{name}[{index}]"
                    if item is None:
                        errors.append({"field": where, "message": "不能为 null"})
                        continue
                    converted.append(element.convert(where, item, errors))
                if len(errors) > before:
                    return None
                value = converted
        elif kind == "dict":
            if not isinstance(value, dict):
                return bad("必须是对象")
        if self.choices and value not in self.choices:
            return bad(f"必须是以下之一：{', '.join(map(str, self.choices))}")
        low, high = self.bounds()
        if kind in ("int", "number"):
            if low is not None and value < low:
                return bad(f"不能小于 {_number(low)}")
            if high is not None and value > high:
                return bad(f"不能大于 {_number(high)}")
        return value

    # -- documentation --------------------------------------------------------------------
    def openapi(self) -> dict:
        """The JSON Schema of what :meth:`convert` accepts (OpenAPI 3.0 dialect)."""
        mapping = {"str": {"type": "string"}, "int": {"type": "integer"}, "number": {"type": "number"},
                   "bool": {"type": "boolean"}, "datetime": {"type": "string", "format": "date-time"},
                   "date": {"type": "string", "format": "date"}, "list": {"type": "array"},
                   "dict": {"type": "object"}, "code": {"type": "string", "pattern": CODE_PATTERN}}
        schema = dict(mapping[self.type])
        if self.choices:
            schema["enum"] = list(self.choices)
        if self.type in ("int", "number"):
            low, high = self.bounds()
            schema["minimum"], schema["maximum"] = _number(low), _number(high)
        if self.type == "str" and not self.choices:
            schema["maxLength"] = self.max_length or TEXT_MAX_LENGTH
            schema["pattern"] = self.pattern or text_pattern(self.multiline, self.required)
        if self.type == "list":
            schema["maxItems"] = self.max_items or LIST_MAX_ITEMS
            element = self.item_field()
            if element is not None:
                schema["items"] = element.openapi()
        if not self.required:
            schema["nullable"] = True
        if self.description:
            schema["description"] = self.description
        schema.update(self.extra.get("schema", {}))
        return schema


def text_pattern(multiline: bool = False, required: bool = False) -> str:
    """The regular expression (JSON Schema) of text :meth:`Field.convert` accepts: no control
    character (tab, CR, LF only when ``multiline``) and, when ``required``, not blank."""
    allowed = r"[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]" if multiline \
        else r"[^\u0000-\u001f\u007f-\u009f]"
    if required:
        return rf"^{allowed}*[^\s\u0000-\u001f\u007f-\u009f]{allowed}*$"
    return rf"^{allowed}*$"


def _number(value):
    return int(value) if isinstance(value, float) and value.is_integer() and abs(value) < 2**63 else value


def parse_datetime(value: Any) -> datetime:
    """ISO 8601 with an offset; naive input is Asia/Shanghai (API.md conventions)."""
    if isinstance(value, datetime):
        parsed = value
    else:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)


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
        out[name] = spec.convert(name, value, errors)
    return out, errors


def check(name: str, value: Any, spec: Field, errors: list[dict]):
    """One value checked by ``spec`` (for services that read a body field by field): ``None``
    when absent (an error if required) or bad (an error naming ``name``)."""
    if value is None or value is _MISSING:
        if spec.required:
            errors.append({"field": name, "message": "必填"})
        return spec.default
    return spec.convert(name, value, errors)


# --- Query and path arguments -----------------------------------------------------------------

#: Query arguments that mean the same everywhere, read and documented with these fields.
QUERY_FIELDS: dict[str, Field] = {
    "limit": Field("int", required=False, min=0, description="每页条数（超过上限时取上限）"),
    "offset": Field("int", required=False, min=0, description="偏移"),
    "region_code": Field("code", required=False, description="区划代码（6、9 或 12 位）"),
    "within": Field("code", required=False, description="该区划及其下级"),
    "event_id": Field("int", required=False, min=1, description="灾害过程"),
    "cycle_id": Field("int", required=False, min=1, description="救助周期"),
    "household_id": Field("int", required=False, min=1, description="受灾户"),
    "year": Field("int", required=False, min=YEAR_RANGE[0], max=YEAR_RANGE[1], description="年度"),
}


def arg(name: str, spec: Field | None = None):
    """A query argument checked by ``spec`` (text by default): ``None`` when absent or empty,
    a 422 naming it when bad. Integers and numbers are parsed from the text first."""
    spec = spec or Field("str", required=False)
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        return None
    errors: list[dict] = []
    value: Any = raw
    if spec.type == "int":
        try:
            value = int(raw.strip())
        except ValueError:
            errors.append({"field": name, "message": "必须是整数"})
    elif spec.type == "number":
        try:
            value = float(raw.strip())
        except ValueError:
            errors.append({"field": name, "message": "必须是数字"})
    if not errors:
        value = spec.convert(name, value, errors)
    if errors:
        raise Invalid("查询参数有误。", errors)
    return value


def code_arg(name: str = "region_code", *, required: bool = False) -> str | None:
    """A region-code query argument, normalised (a 422 naming it when malformed)."""
    value = arg(name, Field("code", required=required, description=QUERY_FIELDS["region_code"].description))
    if value is None and required:
        raise Invalid(f"缺少 {name}。", [{"field": name, "message": "必填"}])
    return value


def int_arg(name: str, spec: Field | None = None) -> int | None:
    """An optional integer query argument (``?event_id=7``): ``None`` when absent or empty, a
    422 naming it when it is not an integer or lies beyond its column (32-bit by default)."""
    return arg(name, spec or QUERY_FIELDS.get(name) or Field("int", required=False))


#: Lists: at most this many rows per page, and an offset within a 32-bit integer.
PAGE_LIMIT_MAX = 1000


def page_args(default_limit: int = 100, max_limit: int = PAGE_LIMIT_MAX) -> tuple[int, int]:
    """``?limit=&offset=``: non-negative 32-bit integers (a 422 naming them otherwise); a
    limit above ``max_limit`` is cut to it."""
    limit = int_arg("limit", QUERY_FIELDS["limit"])
    offset = int_arg("offset", QUERY_FIELDS["offset"])
    return min(default_limit if limit is None else limit, max_limit), offset or 0


def page(stmt, to_dict: Callable[[Any], dict], default_limit: int = 100) -> dict:
    """Run a ``select`` with ``?limit=&offset=``: ``{"items": [...], "total": N}``."""
    limit, offset = page_args(default_limit)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(limit).offset(offset)).all()
    return {"items": [to_dict(row) for row in rows], "total": total, "limit": limit, "offset": offset}


# --- The input guard: what no view ever accepts ------------------------------------------------

class OutOfRange(int):
    """A path integer beyond its column, kept only so that the input guard answers 404."""


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` in every route: a non-negative integer within a 32-bit ``Integer`` column
    (``<int(max=…):…>`` widens or narrows it). Beyond it the request is a 404 (from
    :func:`guard_input`, so that the URL still matches its rule: a converter that
    refused it would make Werkzeug try the other rules and answer 405 for some), never a
    database overflow."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False):
        super().__init__(map, fixed_digits, min, None, signed)
        self.bound = INT_BOUNDS[32][1] if max is None else max

    def to_python(self, value: str):
        if len(value.lstrip("-")) > 20:  # beyond any column, and int() refuses very long digit strings
            return OutOfRange(INT_BOUNDS[64][1])
        number = super().to_python(value)
        return OutOfRange(number) if number > self.bound else number


#: How deep a JSON body may nest (arrays and objects) before it is refused.
JSON_MAX_DEPTH = 64


def _printable_name(name: str) -> str:
    return name.encode("unicode_escape").decode("ascii") if control_character(name) else name


def guard_input() -> None:
    """Before every request (API and pages), before any view, login or query sees the input:

    - a path integer beyond its column is a 404;
    - a query argument, path parameter, posted form field or JSON string (or key) with a
      control character is a 422 naming the field, in the user's language (tab, CR and LF are
      allowed in form fields and JSON strings, which may be multi-line; a field that may not is
      checked by its :class:`Field`);
    - a JSON body nested deeper than :data:`JSON_MAX_DEPTH` is refused the same way.

    Multipart forms are left to their views, which read them under their upload limits."""
    from flask_babel import gettext

    errors: list[dict] = []

    def refuse(name: str, text: str, multiline: bool = False) -> None:
        found = control_character(name) or control_character(text, multiline)
        if found:
            errors.append({"field": _printable_name(name),
                           "message": gettext("不能包含控制字符（%(char)s）", char=found)})

    for name, value in request.args.items(multi=True):
        refuse(name, value)
    for name, value in (request.view_args or {}).items():
        if isinstance(value, OutOfRange):
            from werkzeug.exceptions import NotFound

            raise NotFound(gettext("%(name)s 超出范围：不存在。", name=name))
        if isinstance(value, str):
            refuse(name, value)
    if request.mimetype == "application/x-www-form-urlencoded":
        for name, value in request.form.items(multi=True):
            refuse(name, value, multiline=True)
    if request.is_json and request.method not in ("GET", "HEAD", "OPTIONS"):
        try:
            body = request.get_json(silent=True)
        except RecursionError:
            body, errors = None, [{"field": "", "message": gettext("JSON 嵌套过深")}]
        stack = [("", body, 0)]
        while stack and len(errors) < 20:
            path, value, depth = stack.pop()
            if isinstance(value, str):
                refuse(path or "body", value, multiline=True)
            elif isinstance(value, (dict, list)):
                if depth >= JSON_MAX_DEPTH:
                    errors.append({"field": path or "body",
                                   "message": gettext("JSON 嵌套超过 %(depth)d 层", depth=JSON_MAX_DEPTH)})
                    break
                pairs = value.items() if isinstance(value, dict) else enumerate(value)
                for key, item in pairs:
                    if isinstance(key, str):
                        refuse(f"{path}.{key}" if path else key, "")
                        child = f"{path}.{key}" if path else key
                    else:
                        child = f"{path}[{key}]"
                    stack.append((_printable_name(child), item, depth + 1))
    if errors:
        raise Invalid(gettext("输入中有不允许的字符。"), errors[:20])


def init_app(app) -> None:
    """Register the bounded ``int`` converter (before any route is added) and the input guard."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(guard_input)


# --- Idempotency ----------------------------------------------------------------------------

#: 4xx answers that the same request may get differently when sent again: never stored.
RETRYABLE_STATUSES = frozenset({408, 423, 425, 429})
IDEMPOTENCY_KEY_MAX = 200


def is_final(status: int, exc: Exception | None = None) -> bool:
    """Whether an answer is final, so that ``Idempotency-Key`` may store and replay it: a 2xx,
    or a 4xx that retrying cannot change. Not a 5xx, a 429 or a retryable 409
    (:class:`~app.errors.RetryableConflict`)."""
    if exc is not None and getattr(exc, "retryable", False):
        return False
    return 200 <= status < 300 or (400 <= status < 500 and status not in RETRYABLE_STATUSES)


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None or key == "":
        return None
    if len(key) > IDEMPOTENCY_KEY_MAX or control_character(key) or not key.isprintable():
        raise Invalid("Idempotency-Key 无效。", [{"field": "Idempotency-Key",
                                               "message": f"须为不超过 {IDEMPOTENCY_KEY_MAX} 个可打印字符"}])
    return key


def idempotent(view: Callable | None = None, *, one_transaction: bool = False):
    """Honour ``Idempotency-Key`` on a creating POST (API.md conventions).

    The first request with a key claims it (a row unique per user and key); the final answer
    of that request (:func:`is_final`: a 2xx, or a 4xx that retrying cannot change) is stored
    and replayed for the same key and the same body, and a different body under the same key is
    a 409. Anything else releases the key, so that a retry with it runs afresh: a retryable 409
    (:class:`~app.errors.RetryableConflict`, e.g. "submitted concurrently, retry"), a 429, a
    5xx, or a request that died half-way.

    Two concurrent requests with one key never both create. By default the claim is committed
    on its own before the work runs, so a second request finds it and gets a retryable 409 (in
    progress) until the first has answered.

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
        key = _idempotency_key()
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
        except BaseException as exc:
            from .errors import ServiceError

            staged = g.idempotency_claim["staged"]
            db.session.rollback()
            if isinstance(exc, ServiceError) and is_final(exc.status, exc):
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
        if is_final(response.status_code) and response.is_json:
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
        raise RetryableConflict("使用此 Idempotency-Key 的请求仍在处理中，请稍后重试。")
    if existing.scope != scope or existing.body_hash != body_hash:
        raise Conflict("此 Idempotency-Key 已用于另一个请求体。",
                       [{"field": "Idempotency-Key", "message": "与首次请求的内容不同"}])
    if existing.status is None:
        raise RetryableConflict("使用此 Idempotency-Key 的请求仍在处理中，请稍后重试。")
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
