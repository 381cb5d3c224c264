"""JSON API of the forecast (预判): footprints, the exposure estimate with the plans evaluated on
it, the pre-positioning proposal, and the map layer. Every answer carries ``forecast: true``."""
from __future__ import annotations

from flask import jsonify, request

from ..api import api_blueprint, api_user, created, doc, idempotent
from ..depots import PLAN_FIELDS
from ..schemas import BOOL, INT, NSTRING, OBJECT, STRING, array, obj
from ..uploads import upload_limit
from . import service

bp = api_blueprint("forecast_api", __name__)

FOOTPRINT = obj({"id": INT, "event_id": INT, "hazard": STRING, "filename": STRING, "polygons": INT,
                 "uploaded_by": STRING, "uploaded_at": STRING}, {"intensity_field": NSTRING, "note": NSTRING})
ESTIMATE = obj({"event_id": INT, "forecast": BOOL, "footprint": FOOTPRINT, "villages": INT,
                "counties": array(OBJECT), "townships": array(OBJECT), "evaluations": array(OBJECT),
                "rates": array(OBJECT)})


@bp.post("/events/<int:event_id>/footprints")
@upload_limit("FOOTPRINT_MAX_BYTES")
@doc("上传灾害影响范围（multipart：file 为 GeoJSON、GeoPackage 或 .zip 压缩的 Shapefile；可选 hazard、"
     "intensity_field、datum=wgs84|gcj02、note）", tag="forecast",
     responses={201: "影响范围", 404: "灾害过程不存在", 413: "文件超过 FOOTPRINT_MAX_BYTES",
                422: "缺少文件、无法读取或不是面"}, schema=FOOTPRINT)
@idempotent
def upload_footprint(event_id: int):
    row = service.upload_footprint(api_user(), event_id, request.form, request.files.get("file"))
    return created(row.to_dict())


@bp.get("/events/<int:event_id>/footprints")
@doc("该灾害过程上传过的影响范围（新者在前）", tag="forecast", schema=array(FOOTPRINT))
def footprints(event_id: int):
    return jsonify([row.to_dict() for row in service.footprint_history(api_user(), event_id)])


@bp.get("/events/<int:event_id>/forecast")
@doc("预判：按最新影响范围估算的暴露人口、户数、房屋（按县、乡镇），以及各预案在估算上的评估；均标为预判",
     tag="forecast", responses={404: "灾害过程不存在或尚无影响范围"}, schema=ESTIMATE)
def forecast(event_id: int):
    return jsonify(service.estimate(api_user(), event_id))


@bp.post("/events/<int:event_id>/forecast/prepositioning")
@doc("预置方案：按估算需求从各库可用库存提出的调拨方案（不动库存；调拨单照常审批）", tag="forecast",
     body=PLAN_FIELDS, responses={404: "灾害过程不存在或尚无影响范围"}, schema=obj({"forecast": BOOL, "lines": array(OBJECT)}))
def prepositioning(event_id: int):
    return jsonify(service.prepositioning(api_user(), event_id, request.get_json(silent=True) or {}))


@bp.get("/events/<int:event_id>/forecast/features.geojson")
@doc("地图图层：影响范围（面，含强度）与范围内的村（点，含估算受灾人口）", tag="forecast",
     responses={404: "灾害过程不存在或尚无影响范围"}, media_type="application/geo+json")
def features(event_id: int):
    response = jsonify(service.footprint_features(api_user(), event_id))
    response.mimetype = "application/geo+json"
    return response
