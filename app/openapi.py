"""``GET /api/v1/openapi.json``: the OpenAPI 3 document, built from the routes' ``@doc``.

Request bodies, query and path parameters are documented from the :class:`~app.api.Field` s
the server reads them with (types, enums, bounds, lengths, code patterns); answers from the
schemas of :mod:`app.schemas` (``components/schemas``). Every operation documents the refusals
any request can meet: 401 (no or bad token), 403, 422 (a bad argument, a control character),
404 where it has path parameters, 400/413 where it takes a body.
"""
from __future__ import annotations

import re

from flask import Flask, current_app, jsonify

from .api import public
from .validation import INT_BOUNDS, QUERY_FIELDS, Field, text_pattern

_PARAM = re.compile(r"<(?:([a-z]+)(?:\([^)]*\))?:)?([a-z_]+)>")
_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_PATH_TEXT = {"type": "string", "minLength": 1, "maxLength": 200,
              "pattern": r"^[^/\u0000-\u001f\u007f-\u009f]+$"}
_COMMON_ERRORS = {401: "未登录或令牌无效", 403: "无权或不在管辖范围内", 422: "参数或输入有误（逐项列出字段）"}
_BODY_ERRORS = {400: "请求体格式不正确", 413: "请求体过大"}


def _path_schema(rule: str, converter: str | None, name: str, declared: dict[str, Field]) -> dict:
    if name in declared:
        return declared[name].openapi()
    if converter == "int":
        return {"type": "integer", "minimum": 0, "maximum": INT_BOUNDS[32][1]}
    if name == "region_code" or (name == "code" and rule.startswith("/api/v1/regions/")):
        return Field("code").openapi()
    return dict(_PATH_TEXT)


def _query_schema(name: str, value) -> tuple[dict, str]:
    if isinstance(value, Field):
        return _not_null(value.openapi()), value.description
    if name in QUERY_FIELDS:
        field = QUERY_FIELDS[name]
        return _not_null(field.openapi()), value or field.description
    return {"type": "string", "maxLength": 200, "pattern": text_pattern()}, value


def _not_null(schema: dict) -> dict:
    """A query argument is absent or a value: never ``null``."""
    schema.pop("nullable", None)
    return schema


def _success_code(responses: dict) -> int:
    codes = sorted(code for code in responses if 200 <= code < 300)
    return codes[0] if codes else 200


def _operation(app: Flask, rule, view, meta: dict, method: str) -> dict:
    responses: dict = {}
    success = _success_code(meta["responses"])
    params = [(conv, name) for conv, name in _PARAM.findall(rule.rule)]
    errors = dict(_COMMON_ERRORS)
    if params:
        errors[404] = "不存在"
    if meta["body"] is not None or method in ("POST", "PUT", "PATCH"):
        errors.update(_BODY_ERRORS)
    for code, text in {**errors, **meta["responses"]}.items():
        entry = {"description": text}
        if code >= 400:
            entry["content"] = _PROBLEM
        elif code == success and code != 204:
            schema, media_type = meta.get("schema"), meta.get("media_type")
            if schema is not None:
                schema = {"$ref": f"#/components/schemas/{schema}"} if isinstance(schema, str) else schema
                entry["content"] = {media_type or "application/json": {"schema": schema}}
            elif media_type:
                entry["content"] = {media_type: {"schema": {"type": "string", "format": "binary"}}}
        responses[str(code)] = entry
    op = {"summary": meta["summary"], "tags": [meta["tag"]],
          "operationId": f"{rule.endpoint}.{method.lower()}", "responses": responses}
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": _path_schema(rule.rule, conv or None, name, meta.get("path") or {})}
                  for conv, name in params]
    for name, value in meta["query"].items():
        schema, text = _query_schema(name, value)
        parameters.append({"name": name, "in": "query", "required": False, "description": text,
                           "schema": schema})
    if parameters:
        op["parameters"] = parameters
    if meta["body"]:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {
            "type": "object",
            "required": [n for n, f in meta["body"].items() if f.required],
            "properties": {n: f.openapi() for n, f in meta["body"].items()}}}}}
    if getattr(view, "_api_public", False):
        op["security"] = []
        op["responses"].pop("403", None)
    return op


def build_document(app: Flask) -> dict:
    from .schemas import SCHEMAS

    paths: dict = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = app.view_functions[rule.endpoint]
        meta = getattr(view, "_openapi", None)
        if meta is None:
            continue
        path = _PARAM.sub(r"{\2}", rule.rule[len("/api/v1"):])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(app, rule, view, meta, method)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Jiuzai 救灾 API", "version": "1",
                 "description": "自然灾害救助应急响应系统。错误为 application/problem+json (RFC 9457)；"
                                "创建类 POST 支持 Idempotency-Key。"},
        "servers": [{"url": "/api/v1"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": SCHEMAS},
        "security": [{"bearer": []}],
        "paths": paths,
    }


def init_app(app: Flask) -> None:
    from .api import api_blueprint

    bp = api_blueprint("openapi_api", __name__)

    @bp.get("/openapi.json")
    @public
    def openapi_json():
        return jsonify(build_document(current_app))

    app.register_blueprint(bp)
