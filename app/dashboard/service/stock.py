"""Where the stock is: depots with their available stock, the nearest stocked depot of each
affected village, the villages no stocked depot reaches (保障盲区) and dispatches in transit.

The stock comes from the depots area's public read helpers; the distances are the pure
:mod:`gis` library's great-circle kilometres, identical on SQLite and PostgreSQL. Depots and
dispatches are reference data (``depot.view``); the village answers need ``dashboard.view`` and
the event's jurisdiction.
"""
from __future__ import annotations

import pandas as pd
from flask import current_app

import gis

from ...api import Field
from ...depots import TIERS, depot_stock_table, dispatches_in_transit
from ...permissions import require
from .common import (EVENT_ID, get_event, item_field, known_item, number, point, raise_if, read_args,
                     severity_props)
from .snapshot import affected_villages

DEPOT_ARGS = {
    "item": item_field(False, "物资品种代码：另给出该品种的 available"),
    "region_code": Field("code", required=False, description="只列该区划内的储备库"),
}
NEAREST_ARGS = {"item": item_field(True, "物资品种代码（必填，如 tent）")}
GAP_ARGS = {
    "item": item_field(True, "物资品种代码（必填）"),
    "max_km": Field("number", required=False, description="服务半径（公里，正数），默认 GIS_COVERAGE_KM"),
}
DISPATCH_ARGS = {"event_id": EVENT_ID}


def _stock_frame(item: str) -> pd.DataFrame:
    rows = depot_stock_table(item=item)
    frame = pd.DataFrame.from_records(
        [{"code": d["code"], "name": d["name"], "tier": d["tier"], "lon": d["lon"], "lat": d["lat"],
          "available": int((d.get("stock") or {}).get(item, 0) or 0)} for d in rows],
        columns=["code", "name", "tier", "lon", "lat", "available"])
    return frame.sort_values("code", kind="stable").reset_index(drop=True)


def _depot_feature(depot: dict, item: str | None) -> dict:
    # every item's stock, whatever ``item`` is: the popup lists them all
    stock = {code: number(qty) for code, qty in sorted((depot.get("stock") or {}).items())}
    properties = {"code": depot["code"], "name": depot["name"], "tier": depot["tier"],
                  "tier_label": TIERS.get(depot["tier"], depot["tier"]),
                  "region_code": depot["region_code"], "stock": stock}
    if item is not None:
        properties["available"] = int(stock.get(item, 0) or 0)
    return {"type": "Feature", "id": depot["code"],
            "geometry": point(depot["lon"], depot["lat"]), "properties": properties}


def depots_geojson(user, args=None) -> dict:
    """``GET /depots.geojson``: every depot with its available stock per item (``stock``); with
    ``item``, also ``available`` of that item; with ``region_code``, the depots inside it
    (:data:`DEPOT_ARGS`)."""
    require(user, "depot.view")
    values, errors = read_args(DEPOT_ARGS, args)
    item = known_item(values["item"], errors)
    raise_if(errors)
    depots = sorted(depot_stock_table(region_code=values["region_code"]), key=lambda d: d["code"])
    return {"type": "FeatureCollection", "item": item,
            "features": [_depot_feature(depot, item) for depot in depots]}


def nearest_depots(user, event_id: int, args=None) -> list[dict]:
    """``GET /events/{id}/nearest-depots?item=``: for each affected village, the nearest depot
    with ``item`` available (great-circle km, :func:`gis.nearest_depots`). A village that no
    depot can serve has ``depot_code``, ``distance_km`` and ``available`` null."""
    require(user, "dashboard.view")
    event = get_event(user, event_id)
    values, errors = read_args(NEAREST_ARGS, args)
    item = known_item(values["item"], errors)
    raise_if(errors)
    affected = affected_villages(user, event)
    if not len(affected.frame):
        return []
    villages = affected.frame[["code", "lon", "lat"]].astype({"lon": float, "lat": float})
    found = gis.nearest_depots(villages, _stock_frame(item), available="available")
    out = []
    for row in found.itertuples(index=False):
        matched = row.depot_code is not None and not pd.isna(row.depot_code)
        out.append({"village_code": row.village_code,
                    "depot_code": row.depot_code if matched else None,
                    "distance_km": round(float(row.distance_km), 3) if matched else None,
                    "available": int(row.available) if matched else None})
    return out


def _gap_args(args) -> tuple[str, float]:
    """The item (required, catalogued) and the radius (positive; ``GIS_COVERAGE_KM`` when
    absent), every error in one 422."""
    values, errors = read_args(GAP_ARGS, args)
    item = known_item(values["item"], errors)
    max_km = values["max_km"]
    if max_km is not None and max_km <= 0:
        errors.append({"field": "max_km", "message": "必须是正数（公里）"})
    raise_if(errors)
    return item, float(current_app.config["GIS_COVERAGE_KM"] if max_km is None else max_km)


def _gap_feature(row: dict) -> dict:
    nearest = row["nearest_depot_code"]
    has_nearest = nearest is not None and not pd.isna(nearest)
    properties = {"code": row["code"], "name": row["name"], "township": row["township"],
                  **severity_props(row["severity"]),
                  "affected_population": number(row["affected_population"]),
                  "nearest_depot_code": nearest if has_nearest else None,
                  "nearest_km": round(float(row["nearest_km"]), 3) if has_nearest else None}
    return {"type": "Feature", "id": row["code"], "geometry": point(row["lon"], row["lat"]),
            "properties": properties}


def coverage_gaps_geojson(user, event_id: int, args=None) -> dict:
    """``GET /events/{id}/coverage-gaps.geojson?item=&max_km=``: affected villages farther than
    ``max_km`` (default ``GIS_COVERAGE_KM``) from every depot that has the item available."""
    require(user, "dashboard.view")
    event = get_event(user, event_id)
    item, max_km = _gap_args(args)
    affected = affected_villages(user, event)
    frame = affected.frame
    features = []
    if len(frame):
        gaps = gis.coverage_gaps(frame, _stock_frame(item), "available", max_km=max_km)
        features = [_gap_feature(row) for row in gaps.to_dict("records")]
    return {"type": "FeatureCollection", "event_id": affected.event.id, "item": item,
            "max_km": number(max_km), "affected_villages": int(len(frame)),
            "uncovered": len(features), "features": features}


def _dispatch_feature(d: dict) -> dict:
    start, end = point(d["from_lon"], d["from_lat"]), point(d["to_lon"], d["to_lat"])
    geometry = ({"type": "LineString", "coordinates": [start["coordinates"], end["coordinates"]]}
                if start and end else None)
    properties = {"id": d["id"], "from_depot": d["from_depot"],
                  "to_region_code": d["to_region_code"], "status": d["status"],
                  "lines": [{"item": line["item"], "quantity": number(line["quantity"])}
                            for line in d["lines"]]}
    return {"type": "Feature", "id": d["id"], "geometry": geometry, "properties": properties}


def dispatches_geojson(user, args=None) -> dict:
    """``GET /dispatches.geojson?event_id=``: dispatches in transit as lines from the depot to
    the receiving region (:data:`DISPATCH_ARGS`)."""
    require(user, "depot.view")
    values, errors = read_args(DISPATCH_ARGS, args)
    raise_if(errors)
    event = get_event(user, values["event_id"]) if values["event_id"] is not None else None
    features = [_dispatch_feature(d) for d in
                sorted(dispatches_in_transit(event.id if event else None), key=lambda d: d["id"])]
    return {"type": "FeatureCollection", "event_id": event.id if event else None,
            "features": features}
