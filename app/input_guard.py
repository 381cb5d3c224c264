"""The input guard: what no view ever accepts, refused before any view, login or query sees it
(control characters anywhere, ids beyond their column, JSON nested too deep)."""
from __future__ import annotations

from flask import request
from werkzeug.routing import IntegerConverter

from .errors import Invalid
from .validation import INT_BOUNDS, control_character

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


