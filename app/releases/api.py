"""JSON API of releases: the staff's list, a release, drafting and approval; and the published
releases for anyone (no token). Thin: one service call per route, the user first."""
from __future__ import annotations

from flask import jsonify, request

from ..api import api_blueprint, api_user, created, doc, list_of, public as no_token
from ..validation import Field, int_arg
from . import public, service

PUBLISHED_LIMIT = Field("int", required=False, min=1, max=100, description="最多条数（默认 100）")

bp = api_blueprint("releases_api", __name__)


@bp.get("/releases")
@doc("本辖区的灾情通报（含草稿），新者在前", tag="releases", schema=list_of("Release"))
def releases():
    return jsonify([row.to_dict() for row in service.releases_page(api_user())["rows"]])


@bp.get("/releases/<int:release_id>")
@doc("一期通报（含草稿，供预览）", tag="releases", responses={200: "通报", 403: "无权", 404: "不存在"},
     schema="Release")
def release(release_id: int):
    return jsonify(service.get_release(api_user(), release_id).to_dict())


@bp.post("/releases")
@doc("起草通报：冻结本辖区该灾害过程此刻的汇总灾情和生效的应急响应（协调员）", tag="releases",
     body=service.DRAFT_FIELDS, responses={201: "已起草", 403: "无权", 404: "灾害过程不存在", 422: "输入有误"},
     schema="Release")
def draft():
    return created(service.draft_release(api_user(), request.get_json(silent=True)).to_dict())


@bp.post("/releases/<int:release_id>/approval")
@doc("审核发布（另一位协调员；不能审核自己起草的通报）", tag="releases",
     responses={200: "已发布", 403: "无权或本人起草", 404: "不存在", 409: "状态冲突"}, schema="Release")
def approval(release_id: int):
    return jsonify(service.approve_release(api_user(), release_id).to_dict())


@bp.get("/public/releases")
@no_token
@doc("已发布的灾情通报（公开，无需令牌），新者在前", tag="releases", query={"limit": PUBLISHED_LIMIT},
     responses={200: "通报", 422: "参数有误"}, schema=list_of("Release"))
def published():
    return jsonify([row.to_dict() for row in public.published(int_arg("limit", PUBLISHED_LIMIT) or 100)])
