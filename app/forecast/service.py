"""Forecast (预判): a hazard footprint over the villages before their reports arrive.

A coordinator uploads the footprint of an event (a flood's extent, a typhoon's wind field, an
earthquake's intensity map). The pure :mod:`gis` estimates, per village, the people, households
and houses exposed and the affected, relocated, collapsed and damaged, from configured rates
(``FORECAST_EXPOSURE_RATES``; the library's documented defaults otherwise). The estimate rolls up
the region tree like reports do, every plan is evaluated on it (by the responses area) and the
depots area proposes a pre-positioning allocation (预置) from it. Everything here is marked
forecast (预判) and never mixed with reported figures: nothing is written to the reports.
"""
from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import geopandas as gpd
import pandas as pd
from flask import current_app
from flask_babel import gettext as t
from sqlalchemy import select

import gis
from gis import codes

from .. import audit
from ..depots import needs_allocation
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models_common import utcnow
from ..permissions import can, require
from ..regions import Region
from ..reports import BY_FIELD, HAZARDS, get_event, parent_lookup, visible_events
from ..responses import evaluate_event
from ..validation import Field, validate
from .models import HazardFootprint

FOOTPRINT_FIELDS = {
    "hazard": Field("str", required=False, choices=tuple(HAZARDS), description="灾种（默认：灾害过程的灾种）"),
    "intensity_field": Field("str", required=False, max_length=60, description="强度字段名（水深、烈度、风力；可空）"),
    "datum": Field("str", required=False, choices=("wgs84", "gcj02"), default="wgs84",
                   description="坐标系：wgs84（GPS）或 gcj02（国内地图）"),
    "note": Field("str", required=False, max_length=500, multiline=True, description="说明（来源、时间）"),
}

#: The levels plans are evaluated at (villages and townships only feed their sums).
PLAN_UNIT_LEVELS = ("county", "prefecture", "province")

#: Estimated figures as the loss indicators they stand for (the plans read these fields).
ESTIMATE_INDICATORS = {"affected_est": "affected_population", "relocated_est": "relocated_population",
                       "collapsed_est": "collapsed_rooms", "damaged_est": "severely_damaged_rooms"}


@dataclass
class EstimatedTotal:
    """A unit's estimated figures, shaped as the reports area's totals so the plans read them."""

    region_code: str
    figures: dict[str, float] = field(default_factory=dict)
    reporting_units: int = 0  # villages the estimate covers
    as_of: datetime | None = None
    direct: bool = False


# -- footprints --------------------------------------------------------------------------------

def upload_footprint(user, event_id: int, data, upload) -> HazardFootprint:
    """Store a footprint file for the event (GeoJSON, GeoPackage or zipped Shapefile), checked
    and converted to WGS-84 polygons by :func:`gis.read_footprint`. Commits, with audit."""
    event = get_event(user, event_id)
    require(user, "forecast.manage", event.region_codes[0] if event.region_codes else codes.NATIONAL)
    values, errors = validate(FOOTPRINT_FIELDS, data)
    if upload is None or not getattr(upload, "filename", ""):
        errors.append({"field": "file", "message": t("请选择影响范围文件（GeoJSON、GeoPackage 或 .zip 压缩的 Shapefile）")})
    if errors:
        raise Invalid(t("影响范围信息有误。"), errors)
    footprint = _read_upload(upload, values)
    row = HazardFootprint(
        event_id=event.id, hazard=values["hazard"] or event.hazard, filename=os.path.basename(upload.filename)[:200],
        intensity_field=values["intensity_field"], from_gcj02=values["datum"] == "gcj02",
        polygons=len(footprint), geojson=footprint.to_frame().to_json(drop_id=True), note=values["note"],
        uploaded_by_id=user.id, uploaded_by=user.username, uploaded_at=utcnow())
    db.session.add(row)
    db.session.flush()
    audit.record(user, "forecast.footprint", "hazard_footprint", row.id, after=row.to_dict(),
                 region_code=event.region_codes[0] if event.region_codes else None)
    db.session.commit()
    return row


def _read_upload(upload, values: dict) -> gis.Footprint:
    suffix = os.path.splitext(upload.filename)[1].lower()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, f"footprint{suffix}")
        upload.save(path)
        try:
            return gis.read_footprint(path, intensity_field=values["intensity_field"],
                                      from_gcj02=values["datum"] == "gcj02")
        except gis.FootprintError as exc:
            # the library's reasons are Chinese; the catalogue translates the fixed ones
            raise Invalid(t("影响范围文件无法使用。"), [{"field": "file", "message": t(str(exc))}]) from exc


def latest_footprint(event_id: int) -> HazardFootprint | None:
    return db.session.scalars(select(HazardFootprint).where(HazardFootprint.event_id == event_id)
                              .order_by(HazardFootprint.id.desc()).limit(1)).first()


def has_footprint(user, event_id: int) -> bool:
    """Whether the map may show the event's forecast layer: a footprint exists and the user may
    read forecasts (no refusal: the map simply goes without it)."""
    return can(user, "forecast.view") and latest_footprint(event_id) is not None


def footprint_history(user, event_id: int) -> list[HazardFootprint]:
    """Every footprint uploaded for the event, newest first."""
    get_event(user, event_id)
    require(user, "forecast.view")
    return list(db.session.scalars(select(HazardFootprint).where(HazardFootprint.event_id == event_id)
                                   .order_by(HazardFootprint.id.desc())))


def _footprint_of(row: HazardFootprint) -> gis.Footprint:
    frame = gpd.GeoDataFrame.from_features(json.loads(row.geojson)["features"], crs="EPSG:4326")
    return gis.footprint_from_frame(frame, intensity_field="intensity")


# -- the estimate -----------------------------------------------------------------------------

def _villages_under(footprint: gis.Footprint) -> pd.DataFrame:
    """Villages inside the footprint's bounds (the exact test is the library's)."""
    minx, miny, maxx, maxy = gpd.GeoSeries(list(footprint.polygons)).total_bounds
    rows = db.session.execute(select(Region.code, Region.name, Region.lon, Region.lat, Region.population,
                                     Region.households).where(Region.level == "village",
                                                              Region.lon.between(minx, maxx),
                                                              Region.lat.between(miny, maxy))).all()
    return pd.DataFrame(rows, columns=["code", "name", "lon", "lat", "population", "households"])


def _exposed(row: HazardFootprint) -> pd.DataFrame:
    footprint = _footprint_of(row)
    villages = _villages_under(footprint)
    config = current_app.config
    result = gis.village_exposure(villages, footprint, hazard=row.hazard,
                                  rates=config.get("FORECAST_EXPOSURE_RATES"),
                                  houses_per_household=config["FORECAST_ROOMS_PER_HOUSEHOLD"])
    return result.merge(villages[["code", "name", "lon", "lat"]], on="code", how="left")


def estimated_totals(exposed: pd.DataFrame, as_of: datetime) -> dict[str, EstimatedTotal]:
    """The estimate rolled up the region tree (village → … → province), as the plans read it."""
    parents = parent_lookup(exposed["code"].tolist())
    totals: dict[str, EstimatedTotal] = {}
    for record in exposed.to_dict("records"):
        figures = {indicator: int(record[column]) for column, indicator in ESTIMATE_INDICATORS.items()
                   if pd.notna(record[column])}
        figures["needing_aid_population"] = figures.get("relocated_population", 0)
        code = record["code"]
        while code is not None:
            total = totals.setdefault(code, EstimatedTotal(code, as_of=as_of))
            for key, value in figures.items():
                total.figures[key] = total.figures.get(key, 0) + value
            total.reporting_units += 1
            code = parents.get(code)
    return totals


def _forecast_context(user, event_id: int):
    event = get_event(user, event_id)
    require(user, "forecast.view")
    row = latest_footprint(event.id)
    if row is None:
        raise NotFound(t("该灾害过程尚未上传影响范围，无法预判。"))
    return event, row, _exposed(row)


def estimate(user, event_id: int) -> dict:
    """``GET /events/{id}/forecast``: the exposure estimate by county and township (the units the
    user may see), the plans evaluated on it, all marked ``forecast``."""
    event, row, exposed = _forecast_context(user, event_id)
    visible = exposed[[can(user, "forecast.view", code) for code in exposed["code"]]] if len(exposed) else exposed
    totals = {code: total for code, total in estimated_totals(exposed, row.uploaded_at).items()
              if codes.level_of(code) in PLAN_UNIT_LEVELS}
    evaluations = [e for e in evaluate_event(event, totals=totals)
                   if can(user, "forecast.view", e["region_code"])]
    for item in evaluations:
        item["forecast"] = True
        for trigger in item.get("triggers") or ():
            trigger["label"] = indicator_label(trigger["indicator"])
    return {"event_id": event.id, "forecast": True, "footprint": row.to_dict(),
            "rates": gis.exposure_rate_classes(row.hazard, current_app.config.get("FORECAST_EXPOSURE_RATES")),
            "villages": int(len(visible)),
            "counties": _units(visible, "county"), "townships": _units(visible, "township"),
            "evaluations": evaluations}


def indicator_label(indicator: str) -> str:
    """``"deaths+missing"`` → ``"因灾死亡人口+因灾失踪人口"`` (a neighbour's figure keeps its mark)."""
    parts = indicator.removeprefix("adjacent:").split("+")
    text = "+".join(t(BY_FIELD[p].label) if p in BY_FIELD else p for p in parts)
    return t("相邻省 %(text)s", text=text) if indicator.startswith("adjacent:") else text


def _units(exposed: pd.DataFrame, level: str) -> list[dict]:
    table = gis.rollup_exposure(exposed, level)
    if table.empty:
        return []
    names = dict(db.session.execute(select(Region.code, Region.name).where(Region.code.in_(table["code"].tolist()))).all())
    out = []
    for record in table.to_dict("records"):
        item = {key: (None if pd.isna(value) else (int(value) if key != "code" else value))
                for key, value in record.items()}
        item["name"] = names.get(record["code"], record["code"])
        out.append(item)
    return sorted(out, key=lambda item: -(item["affected_est"] or 0))


def prepositioning(user, event_id: int, data) -> dict:
    """``POST /events/{id}/forecast/prepositioning``: a pre-positioning allocation (预置方案) of
    the estimated needs of each county from the depots' usable stock, marked ``forecast``. It
    moves no stock; dispatches are made, and approved, as usual."""
    event, row, exposed = _forecast_context(user, event_id)
    counties: dict[str, dict] = defaultdict(dict)
    totals = estimated_totals(exposed, row.uploaded_at)
    for code, total in totals.items():
        if codes.level_of(code) == "county" and can(user, "forecast.view", code):
            counties[code] = dict(total.figures)
    body = needs_allocation(dict(counties), data)
    body.update(event_id=event.id, forecast=True, footprint_id=row.id)
    return body


def footprint_features(user, event_id: int) -> dict:
    """The latest footprint and the exposed villages as one GeoJSON FeatureCollection (the map)."""
    _event, row, exposed = _forecast_context(user, event_id)
    features = json.loads(row.geojson)["features"]
    for feature in features:
        feature["properties"] = {"kind": "footprint", "intensity": feature["properties"].get("intensity")}
    for record in exposed.to_dict("records"):
        if not can(user, "forecast.view", record["code"]):
            continue
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [record["lon"], record["lat"]]},
                         "properties": {"kind": "village", "code": record["code"], "name": record["name"],
                                        "affected_est": None if pd.isna(record["affected_est"]) else int(record["affected_est"])}})
    return {"type": "FeatureCollection", "features": features}


# -- pages ------------------------------------------------------------------------------------

def index_page(user) -> dict:
    """The forecast page's list: the events the user may see, each with its latest footprint."""
    require(user, "forecast.view")
    events = list(db.session.scalars(visible_events(user).limit(100)))
    latest = {}
    if events:
        rows = db.session.scalars(select(HazardFootprint).where(
            HazardFootprint.event_id.in_([e.id for e in events])).order_by(HazardFootprint.id)).all()
        latest = {row.event_id: row for row in rows}
    return {"events": events, "latest": latest, "hazards": HAZARDS}


def event_page(user, event_id: int, args) -> dict:
    """One event's forecast page: upload form, footprint history, estimate, plans, proposal."""
    event = get_event(user, event_id)
    require(user, "forecast.view")
    page = {"event": event, "hazards": HAZARDS, "history": footprint_history(user, event_id),
            "may_upload": can(user, "forecast.manage", event.region_codes[0] if event.region_codes else codes.NATIONAL),
            "estimate": None, "plan": None, "plan_error": None}
    if page["history"]:
        page["estimate"] = estimate(user, event_id)
        if args.get("prepositioning") == "1":
            page["plan"] = prepositioning(user, event_id, {})
            page["plan_summary"] = plan_summary(page["plan"])
    return page


def plan_summary(plan: dict) -> list[dict]:
    """A proposal's lines by destination and item (how much, from how many depots, how far at
    most): hundreds of depot-by-depot lines read as a few dozen."""
    grouped: dict[tuple[str, str], dict] = {}
    for line in plan["lines"]:
        row = grouped.setdefault((line["region_code"], line["item"]), {
            "region_name": line["region_name"], "item_name": line["item_name"], "quantity": 0,
            "depots": [], "farthest_km": 0.0})
        row["quantity"] += line["quantity"]
        row["depots"].append(line["depot_name"])
        row["farthest_km"] = max(row["farthest_km"], line["distance_km"] or 0.0)
    return [grouped[key] for key in sorted(grouped)]
