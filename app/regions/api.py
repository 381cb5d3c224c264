"""JSON API of regions (API.md, Regions): a region and its children."""
from __future__ import annotations

from flask import jsonify

from ..api import api_blueprint, api_user, doc, page, page_of
from . import service

bp = api_blueprint("regions_api", __name__)


@bp.get("/regions/<code>")
@doc("区划详情", tag="regions", responses={200: "区划", 404: "不存在"}, schema="Region")
def region(code: str):
    return jsonify(service.region_for(api_user(), code).to_dict())


@bp.get("/regions/<code>/children")
@doc("下级区划（分页 {items, total}）", tag="regions", query={"limit": "每页条数", "offset": "偏移"}, schema=page_of("Region"))
def children(code: str):
    return jsonify(page(service.children_for(api_user(), code), lambda r: r.to_dict(), default_limit=1000))
