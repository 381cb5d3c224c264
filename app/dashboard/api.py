"""The map's JSON API (API.md, GIS): GeoJSON layers, the nearest stocked depot and coverage gaps.

Thin: each route hands its query arguments to one service function, the user first (which
checks permission and reads the arguments by its ``Field`` s, which also document them).
Responses are compact JSON, gzip-compressed when the client accepts it, with an ETag so an
unchanged layer costs a 304: the dashboard of 20,000 villages stays well under its payload
budget.
"""
from __future__ import annotations

from flask import current_app, request

from ..api import api_blueprint, api_user, doc, list_of
from . import service
from .encoding import Encoded, encode

bp = api_blueprint("dashboard_api", __name__)

GEOJSON = "application/geo+json"
_GZIP_MIN_BYTES = 1024


def json_response(body, mimetype: str = "application/json"):
    """Serialise (unless the service already did: :class:`Encoded`); answer 304 to a matching
    ``If-None-Match``; gzip when the client accepts it."""
    encoded = body if isinstance(body, Encoded) else encode(body)
    response = current_app.response_class(mimetype=mimetype)
    response.set_etag(encoded.etag)
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("Accept-Encoding")
    if encoded.etag in request.if_none_match:
        response.status_code = 304
        return response
    payload = encoded.payload
    if len(payload) >= _GZIP_MIN_BYTES and request.accept_encodings.quality("gzip") > 0:
        payload = encoded.gzipped()
        response.headers["Content-Encoding"] = "gzip"
    response.set_data(payload)
    return response


_EVENT_ERRORS = {401: "未登录", 403: "灾害过程不在管辖范围内", 404: "灾害过程不存在"}


@bp.get("/events/<int:event_id>/villages.geojson")
@doc("受灾村庄（GeoJSON FeatureCollection：最新灾情数字与灾情等级 severity）", tag="gis",
     query=service.VILLAGE_ARGS,
     responses={200: "FeatureCollection", 422: "参数有误", **_EVENT_ERRORS}, schema="FeatureCollection", media_type=GEOJSON)
def villages(event_id: int):
    body = service.villages_geojson(api_user(), event_id, request.args)
    return json_response(body, GEOJSON)


@bp.get("/events/<int:event_id>/nearest-depots")
@doc("每个受灾村庄最近的有该物资库存的储备库（大圆距离，公里）", tag="gis",
     query=service.NEAREST_ARGS,
     responses={200: "[{village_code, depot_code, distance_km, available}]", 422: "缺少或未知的物资品种",
                **_EVENT_ERRORS}, schema=list_of("NearestDepot"))
def nearest_depots(event_id: int):
    return json_response(service.nearest_depots(api_user(), event_id, request.args))


@bp.get("/events/<int:event_id>/coverage-gaps.geojson")
@doc("保障盲区：距所有有该物资库存的储备库都超过 max_km 的受灾村庄", tag="gis",
     query=service.GAP_ARGS,
     responses={200: "FeatureCollection", 422: "参数有误", **_EVENT_ERRORS}, schema="FeatureCollection", media_type=GEOJSON)
def coverage_gaps(event_id: int):
    body = service.coverage_gaps_geojson(api_user(), event_id, request.args)
    return json_response(body, GEOJSON)


@bp.get("/events/<int:event_id>/counties.geojson")
@doc("灾害过程涉及的县级区划（分级设色）：按缩放级别简化的边界、汇总数字、灾情等级与正在实施的应急响应",
     tag="gis", query=service.COUNTY_ARGS,
     responses={200: "FeatureCollection", 422: "参数有误", **_EVENT_ERRORS}, schema="FeatureCollection", media_type=GEOJSON)
def counties(event_id: int):
    body = service.counties_geojson(api_user(), event_id, request.args)
    return json_response(body, GEOJSON)


@bp.get("/depots.geojson")
@doc("储备库及其各品种可用库存（GeoJSON）", tag="gis",
     query=service.DEPOT_ARGS,
     responses={200: "FeatureCollection", 422: "参数有误"}, schema="FeatureCollection", media_type=GEOJSON)
def depots():
    body = service.depots_geojson(api_user(), request.args)
    return json_response(body, GEOJSON)


@bp.get("/dispatches.geojson")
@doc("在途调拨（已审批或已发运、尚未签收）：从储备库到接收区划的连线", tag="gis",
     query=service.DISPATCH_ARGS,
     responses={200: "FeatureCollection", 403: "灾害过程不在管辖范围内", 404: "灾害过程不存在",
                422: "参数有误"}, schema="FeatureCollection", media_type=GEOJSON)
def dispatches():
    body = service.dispatches_geojson(api_user(), request.args)
    return json_response(body, GEOJSON)


@bp.get("/regions/<code>/boundaries.geojson")
@doc("区划边界（按缩放级别简化，相邻边界保持一致）；code 为 000000 表示全国", tag="gis",
     query=service.BOUNDARY_ARGS,
     responses={200: "FeatureCollection", 404: "区划不存在", 422: "参数有误"}, schema="FeatureCollection", media_type=GEOJSON)
def boundaries(code: str):
    body = service.boundaries_geojson(api_user(), code, request.args)
    return json_response(body, GEOJSON)
