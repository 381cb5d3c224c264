"""``GET /api/v1/openapi.json``: the OpenAPI 3 document, built from the routes' ``@doc``."""
from __future__ import annotations

import re

from flask import Flask, current_app, jsonify

from .api import public

_PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def build_document(app: Flask) -> dict:
    paths: dict = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = app.view_functions[rule.endpoint]
        meta = getattr(view, "_openapi", None)
        if meta is None:
            continue
        path = _PARAM.sub(r"{\1}", rule.rule[len("/api/v1"):])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op = {"summary": meta["summary"], "tags": [meta["tag"]],
                  "operationId": f"{rule.endpoint}.{method.lower()}",
                  "responses": {str(code): {"description": text} for code, text in meta["responses"].items()}}
            params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                      for name in _PARAM.findall(rule.rule)]
            params += [{"name": name, "in": "query", "required": False, "description": text,
                        "schema": {"type": "string"}} for name, text in meta["query"].items()]
            if params:
                op["parameters"] = params
            if meta["body"]:
                op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": [n for n, f in meta["body"].items() if f.required],
                    "properties": {n: f.openapi() for n, f in meta["body"].items()}}}}}
            if getattr(view, "_api_public", False):
                op["security"] = []
            op["responses"].setdefault("401", {"description": "未登录或令牌无效 (problem+json)"})
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "Jiuzai 救灾 API", "version": "1",
                 "description": "自然灾害救助应急响应系统。错误为 application/problem+json (RFC 9457)；"
                                "创建类 POST 支持 Idempotency-Key。"},
        "servers": [{"url": "/api/v1"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": {"Problem": {"type": "object", "properties": {
                           "type": {"type": "string"}, "title": {"type": "string"},
                           "status": {"type": "integer"}, "detail": {"type": "string"},
                           "errors": {"type": "array", "items": {"type": "object", "properties": {
                               "field": {"type": "string"}, "message": {"type": "string"}}}}}}}},
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
