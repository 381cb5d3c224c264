"""JSON API of the audit log (auditors and admins), and the filters its page shares."""
from __future__ import annotations

from datetime import date

from flask import jsonify, request

from ..api import api_blueprint, api_user, code_arg, doc, page, page_of
from ..errors import Invalid
from . import service

bp = api_blueprint("audit_api", __name__)


def filters_from_args() -> dict:
    out = {k: request.args.get(k) or None for k in ("entity_type", "action", "username")}
    out["region_code"] = code_arg()
    for name in ("since", "until"):
        raw = request.args.get(name)
        try:
            out[name] = date.fromisoformat(raw) if raw else None
        except ValueError as exc:
            raise Invalid("日期格式应为 YYYY-MM-DD。", [{"field": name, "message": "日期格式应为 YYYY-MM-DD"}]) from exc
    return out


@bp.get("/audit")
@doc("审计日志（审计员、管理员）", tag="audit",
     query={"entity_type": "对象类型", "action": "操作", "username": "用户", "region_code": "区划",
            "since": "起始日期", "until": "截止日期"}, schema=page_of("AuditEntry"))
def audit_log():
    stmt = service.search(api_user(), **filters_from_args())
    return jsonify(page(stmt, lambda e: e.to_dict()))
