"""What the public reads, without signing in: approved releases only (a draft, a discarded
release or anything of who drafted it never reaches a public URL), as pages, an Atom feed, the
GeoJSON of a release's county figures and a CAP 1.2 alert of its response level changes."""
from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from ..errors import NotFound
from ..extensions import db
from ..reports import BY_FIELD, FIELDS, HAZARDS, Event
from .models import Release

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
#: The CAP category of each hazard (CAP 1.2 §3.2.2: Geo, Met, Fire, Env, Other …).
CAP_CATEGORY = {"flood": "Met", "typhoon": "Met", "drought": "Met", "hail": "Met", "snow": "Met",
                "low_temperature": "Met", "sandstorm": "Met", "earthquake": "Geo", "landslide": "Geo",
                "forest_fire": "Fire"}
#: Response ranks (1 = Ⅰ级, the highest) as CAP severity.
CAP_SEVERITY = {1: "Extreme", 2: "Severe", 3: "Moderate", 4: "Minor"}


def published(limit: int = 100) -> list[Release]:
    return db.session.scalars(select(Release).where(Release.status == "approved")
                              .order_by(Release.approved_at.desc(), Release.id.desc()).limit(limit)).all()


def published_release(release_id: int) -> Release:
    release = db.session.get(Release, release_id)
    if release is None or release.status != "approved":
        raise NotFound(f"通报 {release_id} 不存在或尚未发布。")
    return release


def index_page() -> dict:
    rows = published()
    events = {e.id: e for e in db.session.scalars(
        select(Event).where(Event.id.in_({r.event_id for r in rows}))).all()}
    return {"rows": rows, "events": events, "corrected": {r.corrects_id for r in rows if r.corrects_id}}


def release_view(release_id: int) -> dict:
    """A published release with the one it corrects and the one that corrected it, if any."""
    release = published_release(release_id)
    corrected = db.session.get(Release, release.corrects_id) if release.corrects_id else None
    superseded_by = db.session.scalars(select(Release).where(
        Release.corrects_id == release.id, Release.status == "approved")).first()
    return {"release": release, "corrected": corrected, "superseded_by": superseded_by,
            "event": db.session.get(Event, release.event_id), "labels": BY_FIELD, "fields": FIELDS,
            "hazards": HAZARDS, "preview": False}


def geojson(release_id: int) -> dict:
    """The release's county figures as a GeoJSON FeatureCollection (points at the county seats)."""
    release = published_release(release_id)
    features = []
    for county in release.figures.get("counties", []):
        geometry = None
        if county.get("lon") is not None and county.get("lat") is not None:
            geometry = {"type": "Point", "coordinates": [county["lon"], county["lat"]]}
        features.append({"type": "Feature", "id": county["code"], "geometry": geometry,
                         "properties": {"code": county["code"], "name": county["name"],
                                        "as_of": release.as_of.isoformat(), **county["figures"]}})
    return {"type": "FeatureCollection", "release": {"id": release.id, "title": release.title,
                                                     "version": release.version,
                                                     "as_of": release.as_of.isoformat()},
            "features": features}


def _cap_time(value: datetime) -> str:
    """CAP's dateTime: seconds, an explicit offset, never "Z" (CAP 1.2 §3.3.2)."""
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).replace(microsecond=0).isoformat()


def _sub(parent, tag: str, text: str | None = None):
    element = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


def response_changed(release: Release) -> bool:
    previous = db.session.get(Release, release.corrects_id) if release.corrects_id else None
    levels = lambda rows: {(r["plan_id"], r["region_code"], r["level"]) for r in rows}  # noqa: E731
    if previous is None:
        return bool(release.responses)
    return levels(previous.responses) != levels(release.responses)


def cap_alert(release_id: int) -> bytes:
    """The CAP 1.2 alert of a release whose response levels changed (404 when none did): an
    ``Alert`` for the first, an ``Update`` referencing the release it corrects."""
    release = published_release(release_id)
    if not response_changed(release):
        raise NotFound("本期通报的应急响应等级没有变化，无 CAP 预警。")
    sender = current_app.config["RELEASE_CAP_SENDER"]
    event = db.session.get(Event, release.event_id)
    ET.register_namespace("", CAP_NS)
    alert = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(alert, "identifier", f"jiuzai-release-{release.id}")
    _sub(alert, "sender", sender)
    _sub(alert, "sent", _cap_time(release.approved_at))
    _sub(alert, "status", "Actual")
    previous = db.session.get(Release, release.corrects_id) if release.corrects_id else None
    _sub(alert, "msgType", "Update" if previous else "Alert")
    _sub(alert, "scope", "Public")
    if previous:
        _sub(alert, "references", f"{sender},jiuzai-release-{previous.id},{_cap_time(previous.approved_at)}")
    _sub(alert, "incidents", f"jiuzai-event-{release.event_id}")
    info = _sub(alert, "info")
    _sub(info, "language", "zh-CN")
    _sub(info, "category", CAP_CATEGORY.get(event.hazard, "Other"))
    _sub(info, "event", f"{event.name} 应急响应")
    _sub(info, "responseType", "Prepare" if release.responses else "AllClear")
    _sub(info, "urgency", "Immediate" if release.responses else "Past")
    best = min((r["rank"] for r in release.responses), default=None)
    _sub(info, "severity", CAP_SEVERITY.get(best, "Unknown") if best else "Unknown")
    _sub(info, "certainty", "Observed")
    _sub(info, "senderName", current_app.config["RELEASE_PUBLISHER"])
    _sub(info, "headline", release.title[:160])
    lines = [f"{r['region_name']}：{r['level']}（{r['plan_id']}）" for r in release.responses]
    _sub(info, "description", "；".join(lines) if lines else "应急响应已全部终止。")
    for r in release.responses:
        parameter = _sub(info, "parameter")
        _sub(parameter, "valueName", f"response:{r['region_code']}:{r['plan_id']}")
        _sub(parameter, "value", r["level"])
    regions = {r["region_code"]: r["region_name"] for r in (release.responses or (previous.responses if previous else []))}
    for code, name in sorted(regions.items()) or [(release.region_code, release.figures.get("region_name", ""))]:
        area = _sub(info, "area")
        _sub(area, "areaDesc", name or code)
        geocode = _sub(area, "geocode")
        _sub(geocode, "valueName", "GB/T 2260")
        _sub(geocode, "value", code)
    return ET.tostring(alert, encoding="utf-8", xml_declaration=True)
