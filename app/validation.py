"""The one path all input is checked by (JSON bodies, page forms, query arguments).

:class:`Field` is the one place that knows how a value is checked: types, column bounds, control
characters, lengths, choices. Services declare their input as ``{name: Field}`` and call
:func:`validate` (every error gathered, the service adds its rule errors and raises one 422, as
Superset's commands do) or :func:`parse` (raise at once). Page forms go the same way:
:func:`form_data` turns a posted form into the values a JSON body would hold, by the same fields,
so a page and the API refuse the same input with the same messages. The fields also feed the
OpenAPI document (:meth:`Field.openapi`).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field as dc_field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import request

from .errors import Invalid

SHANGHAI = ZoneInfo("Asia/Shanghai")

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


_REFUSED_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_REFUSED_IN_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def control_character(text: str, multiline: bool = False) -> str | None:
    """The first character of ``text`` that no text field accepts, as ``U+XXXX``: a control
    character (NUL, the C0 and C1 sets, DEL; tab, CR and LF only where ``multiline``) or half
    of a surrogate pair (invalid UTF-8 that no database stores). ``None`` when the text is clean.

    One regular-expression scan: a character loop cost a hand-out 0.5 ms on its signature."""
    found = (_REFUSED_IN_MULTILINE if multiline else _REFUSED_CHARACTERS).search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


@dataclass
class Field:
    """One input field, and the one place that knows how an input value is checked: JSON
    bodies, page forms (:meth:`from_form`, :func:`form_data`) and query arguments.

    ``type``: ``str``, ``int``, ``number``, ``bool``, ``datetime``, ``date``, ``list``, ``dict``
    or ``code`` (an administrative code, 6/9/12 digits, normalised).

    - text refuses control characters (``multiline`` allows tab, CR and LF) and is at most
      ``max_length`` (default :data:`TEXT_MAX_LENGTH`) once stripped; ``pattern`` is a regular
      expression it must match; ``strip=False`` keeps it exactly as given (a password: blank
      is still refused when required, and the length is the length as given);
    - an integer lies within its column (``bits`` 32 or 64) and ``min``/``max``; a number is
      finite and within ``min``/``max`` (default ±:data:`NUMBER_LIMIT`);
    - dates and times lie within :data:`YEAR_RANGE`;
    - a list has at most ``max_items`` elements, each checked as ``items`` (a type name or a
      ``Field``) and named ``field[i]``;
    - a value of the wrong JSON type is an error naming the field, never an exception;
    - ``extra`` may hold ``pattern_message`` (said when ``pattern`` does not match) and
      ``required_message`` (said, instead of "必填", when a required field is absent or blank).
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
    strip: bool = True

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
        try:
            value = _CHECKS[self.type](self, name, value, errors)
        except _Bad as bad:
            errors.append({"field": name, "message": bad.message})
            return None
        if value is None:  # a list whose elements were refused (each named already)
            return None
        if self.choices and value not in self.choices:
            return _refuse(errors, name, f"必须是以下之一：{', '.join(map(str, self.choices))}")
        if self.type in ("int", "number"):
            low, high = self.bounds()
            if low is not None and value < low:
                return _refuse(errors, name, f"不能小于 {_number(low)}")
            if high is not None and value > high:
                return _refuse(errors, name, f"不能大于 {_number(high)}")
        return value

    def from_form(self, raw: "str | list[str]"):
        """A posted form value as the JSON value :meth:`convert` takes: text stays text,
        integers and numbers are read from their digits, a checkbox is ``true`` when ticked,
        a list is the field's repeated values. Raises :class:`_Bad` for digits that do not read."""
        if self.type == "list":
            return [item for item in raw if item.strip()] if isinstance(raw, list) else [raw]
        text = raw.strip()
        if self.type == "int":
            return _read(int, text, "必须是整数")
        if self.type == "number":
            return _read(float, text, "必须是数字")
        if self.type == "bool":
            return text.lower() in ("1", "true", "on", "y", "yes")
        return raw

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


class _Bad(Exception):
    """A value refused by one of the checks below; ``message`` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _refuse(errors: list[dict], name: str, message: str):
    errors.append({"field": name, "message": message})
    return None


def _read(kind, text: str, message: str):
    try:
        return kind(text)
    except (ValueError, OverflowError):
        raise _Bad(message) from None


_TEXT_KINDS = {"code": "区划代码", "datetime": "ISO 8601 时间", "date": "YYYY-MM-DD 日期"}


def _text_of(field: Field, value: Any) -> str:
    """``value`` as text free of control characters (dates and times given as objects are
    taken in ISO form)."""
    if isinstance(value, datetime) and field.type == "datetime":
        value = value.isoformat()
    elif isinstance(value, date) and not isinstance(value, datetime) and field.type == "date":
        value = value.isoformat()
    if not isinstance(value, str):
        kind = _TEXT_KINDS.get(field.type)
        raise _Bad("必须是字符串" + (f"（{kind}）" if kind else ""))
    found = control_character(value, field.multiline and field.type == "str")
    if found:
        raise _Bad(f"不能包含控制字符（{found}）")
    return value


def _check_text(field: Field, name: str, value: Any, errors: list[dict]) -> str:
    given = _text_of(field, value)
    value = given.strip() if field.strip else given
    if field.required and not value.strip():
        raise _Bad(field.extra.get("required_message") or "不能为空")
    limit = field.max_length or TEXT_MAX_LENGTH
    if len(value) > limit:
        raise _Bad(f"长度不能超过 {limit}")
    if field.pattern and value and not re.fullmatch(field.pattern, value):
        raise _Bad(field.extra.get("pattern_message") or "格式不正确")
    return value


def _check_code(field: Field, name: str, value: Any, errors: list[dict]) -> str:
    from gis import codes

    try:
        return codes.normalise(_text_of(field, value))
    except codes.CodeError as exc:
        raise _Bad(f"格式不正确：{exc}") from None


def _check_int(field: Field, name: str, value: Any, errors: list[dict]) -> int:
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or (isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()))):
        raise _Bad("必须是整数")
    return int(value)


def _check_number(field: Field, name: str, value: Any, errors: list[dict]):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad("必须是数字")
    if isinstance(value, float) and not math.isfinite(value):
        raise _Bad("必须是有限的数字（不能是 NaN 或 Infinity）")
    return value


def _check_bool(field: Field, name: str, value: Any, errors: list[dict]) -> bool:
    if not isinstance(value, bool):
        raise _Bad("必须是 true 或 false")
    return value


def _in_years(value):
    if not YEAR_RANGE[0] <= value.year <= YEAR_RANGE[1]:
        raise _Bad(f"年份必须在 {YEAR_RANGE[0]}–{YEAR_RANGE[1]} 之间")
    return value


def _check_datetime(field: Field, name: str, value: Any, errors: list[dict]) -> datetime:
    text = _text_of(field, value)
    try:
        return _in_years(parse_datetime(text))
    except (ValueError, OverflowError):
        raise _Bad("格式不正确：应为 ISO 8601 时间，如 2026-07-06T08:00:00+08:00") from None


def _check_date(field: Field, name: str, value: Any, errors: list[dict]) -> date:
    text = _text_of(field, value)
    try:
        return _in_years(date.fromisoformat(text.strip()))
    except ValueError:
        raise _Bad("格式不正确：应为 YYYY-MM-DD") from None


def _check_list(field: Field, name: str, value: Any, errors: list[dict]) -> list | None:
    if not isinstance(value, list):
        raise _Bad("必须是数组")
    limit = field.max_items or LIST_MAX_ITEMS
    if len(value) > limit:
        raise _Bad(f"最多 {limit} 项")
    element = field.item_field()
    if element is None:
        return value
    before, converted = len(errors), []
    for index, item in enumerate(value):
        if item is None:
            errors.append({"field": f"{name}[{index}]", "message": "不能为 null"})
            continue
        converted.append(element.convert(f"{name}[{index}]", item, errors))
    return None if len(errors) > before else converted


def _check_dict(field: Field, name: str, value: Any, errors: list[dict]) -> dict:
    if not isinstance(value, dict):
        raise _Bad("必须是对象")
    return value


_CHECKS = {"str": _check_text, "code": _check_code, "int": _check_int, "number": _check_number,
           "bool": _check_bool, "datetime": _check_datetime, "date": _check_date, "list": _check_list,
           "dict": _check_dict}


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
    """Check input against ``fields`` without raising: the converted values (``None`` for a bad
    field) and the list of errors (one per field), to which a service adds its rule errors
    before it raises one 422 (:func:`parse` raises at once).

    ``data`` is a JSON object (the request's body by default) or a posted page form (a
    ``MultiDict``, read by :func:`form_data`), so a page and the API go through the same
    checks. A body that is not an object is a 422 here: nothing more can be said about it."""
    if data is _MISSING:
        data = request.get_json(silent=True)
    unreadable: list[dict] = []
    if hasattr(data, "getlist"):  # a posted form
        data, unreadable = form_data(fields, data)
    if not isinstance(data, dict):
        raise Invalid("请求体必须是 JSON 对象。", [{"field": "", "message": "请求体必须是 JSON 对象"}])
    errors: list[dict] = list(unreadable)
    out: dict = {}
    for name, spec in fields.items():
        value = data.get(name, _MISSING)
        if value is _MISSING or value is None:
            if spec.required and not any(e["field"] == name for e in unreadable):
                errors.append({"field": name, "message": spec.extra.get("required_message") or "必填"})
            out[name] = None if spec.required else spec.default
            continue
        out[name] = spec.convert(name, value, errors)
    return out, errors


def check(name: str, value: Any, spec: Field, errors: list[dict]):
    """One value checked by ``spec`` (for services that read a body field by field): ``None``
    when absent (an error if required) or bad (an error naming ``name``)."""
    if value is None or value is _MISSING:
        if spec.required:
            errors.append({"field": name, "message": spec.extra.get("required_message") or "必填"})
        return spec.default
    return spec.convert(name, value, errors)


def form_data(fields: dict[str, Field], form=None) -> tuple[dict, list[dict]]:
    """A posted page form (``request.form`` by default) read by ``fields`` into the JSON body
    the same service takes: blank inputs are absent (never 0), numbers are read from their
    digits, a list field takes every value posted under its name, an unticked checkbox is
    ``false``. Returns the body and the errors of values that could not even be read; the
    service then validates the body as it validates the API's (:func:`validate`)."""
    form = request.form if form is None else form
    body: dict = {}
    errors: list[dict] = []
    for name, spec in fields.items():
        raw = form.getlist(name) if spec.type == "list" else form.get(name)
        if spec.type == "bool":
            body[name] = spec.from_form(raw or "")
            continue
        if not raw or (isinstance(raw, str) and not raw.strip()):
            continue
        try:
            body[name] = spec.from_form(raw)
        except _Bad as bad:
            errors.append({"field": name, "message": bad.message})
    return body, errors


def merged(errors: list[dict], more: list[dict]) -> list[dict]:
    """``errors`` and ``more`` with one error per field at most (the first), so that a value
    that could not be read is not refused a second time for being absent."""
    named = {error["field"] for error in errors}
    return errors + [error for error in more if error["field"] not in named]


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


_QUERY_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def arg(name: str, spec: Field | None = None):
    """A query argument checked by ``spec`` (text by default): ``None`` when absent or empty,
    a 422 naming it when bad. Integers and numbers are parsed from the text first, booleans
    read from ``true``/``false`` (or ``1``/``0``)."""
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
    elif spec.type == "bool":  # other text stays text, which the field refuses by name
        value = _QUERY_BOOLEANS.get(raw.strip().lower(), raw)
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


def code_value(value, name: str = "region_code") -> str | None:
    """An optional region code given as ``value`` (a page's or a service's argument), normalised:
    ``None`` when blank, a 422 naming ``name`` when malformed."""
    from .i18n import translate

    if value in (None, ""):
        return None
    out, errors = validate({name: Field("code", required=False, description=QUERY_FIELDS["region_code"].description)},
                           {name: value})
    if errors:
        raise Invalid(translate("查询参数有误。"), errors)
    return out[name]


def int_arg(name: str, spec: Field | None = None) -> int | None:
    """An optional integer query argument (``?event_id=7``): ``None`` when absent or empty, a
    422 naming it when it is not an integer or lies beyond its column (32-bit by default)."""
    return arg(name, spec or QUERY_FIELDS.get(name) or Field("int", required=False))


