"""JSON API of notifications: my notifications, mark one or all as read."""
from __future__ import annotations

from flask import jsonify, request

from ..api import Field, api_blueprint, api_user, arg, doc, page, page_of
from . import service

bp = api_blueprint("notifications_api", __name__)


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes")


@bp.get("/notifications")
@doc("当前用户的通知（新近在前）", tag="notifications",
     query={"unread": "true：只列未读", "kind": "类别，如 response_tier（响应等级提醒）",
            "limit": "每页条数", "offset": "偏移"}, schema=page_of("Notification"))
def notifications():
    kind = arg("kind", Field("str", required=False, max_length=40))
    return jsonify(page(service.notifications_query(api_user(), _flag("unread"), kind),
                        lambda row: row.to_dict()))


@bp.post("/notifications/<int:notification_id>/read")
@doc("标记通知为已读", tag="notifications", responses={200: "通知", 404: "不存在"}, schema="Notification")
def read(notification_id: int):
    return jsonify(service.mark_read(api_user(), notification_id).to_dict())


@bp.post("/notifications/read-all")
@doc("全部标记为已读", tag="notifications", schema="Marked")
def read_all():
    return jsonify({"marked": service.mark_all_read(api_user())})
