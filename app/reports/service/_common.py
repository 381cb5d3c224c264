"""What the modules of the loss-reporting service share: the configuration they read, the county
a region's reports count towards, query arguments checked by ``Field`` s, and a posted page form
read as the JSON body the API takes (by the same ``Field`` s, :func:`app.validation.form_data`).
"""
from __future__ import annotations

from typing import Any

from flask import current_app

from gis import codes

from ...errors import Invalid
from ...validation import Field, form_data, validate

#: A region-code query argument (``region_code``, ``within``).
CODE_ARG = Field("code", required=False, description="区划代码（6、9 或 12 位）")


def config(name: str):
    return current_app.config[name]


def county_of(code: str) -> str | None:
    """The county a report counts towards (``None`` above county level)."""
    level = codes.level_of(code)
    if level == "county":
        return code
    if level in ("township", "village"):
        return code[:6]
    return None


def body_of(fields: dict[str, Field], data: Any) -> tuple[Any, list[dict]]:
    """``data`` as a JSON body: a posted page form read by ``fields``, anything else as it is;
    with the errors of form values that could not even be read."""
    if hasattr(data, "getlist"):
        return form_data(fields, data)
    return data, []


def query(fields: dict[str, Field], values: dict[str, Any]) -> dict:
    """Query arguments (``None`` when absent) checked by ``fields``: one 422 naming every bad one."""
    out, errors = validate(fields, values)
    if errors:
        raise Invalid("查询参数有误。", errors)
    return out


def region_arg(value: str | None, name: str = "region_code") -> str:
    """A required region-code argument, normalised: 422 ``缺少 …`` when absent or empty."""
    if not value:
        raise Invalid(f"缺少 {name}。", [{"field": name, "message": "必填"}])
    return query({name: CODE_ARG}, {name: value})[name]
