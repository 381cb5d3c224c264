"""Each unit's clocks (``domain.md`` §3, per unit): adding an affected region to an open event
(its counties' initial reports are due from when it was added, or from the first impact the
clerk gives), withdrawing one added by mistake (with a reason), declaring one county stable (灾情
稳定: its verified report falls due while the others still owe updates), what the deadlines read
of them (:func:`unit_clocks`), and the candidates the event page offers in its pickers. Each
change is one transaction with its audit line.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from gis import codes

from ... import audit
from ...errors import Conflict, Invalid, NotFound
from ...extensions import db
from ...models_common import utcnow
from ...permissions import can, require
from ...regions import Region
from ...validation import Field, validate
from ..models import Event, EventUnit, LossReport
from ..totals import within_clause
from ._common import region_arg
from .events import affected_counties, get_event

ADD_REGION_FIELDS = {
    "region_code": Field("code", description="新增的受灾区划代码（县、地市或乡镇、村）"),
    "impact_at": Field("datetime", required=False,
                       description="该地首次受灾时间（北京时间）；初报时限自此起算，缺省为加入时"),
}
WITHDRAW_FIELDS = {"reason": Field("str", max_length=500, description="撤回原因（误加等）")}
UNIT_AT_FIELDS = {"at": Field("datetime", required=False, description="该县灾情稳定的时间；缺省为现在")}
#: A path parameter naming a region of the event.
REGION_PATH = {"region_code": Field("code", description="区划代码")}


def _unit(event: Event, code: str) -> EventUnit:
    row = db.session.scalar(select(EventUnit).filter_by(event_id=event.id, region_code=code))
    if row is None:
        row = EventUnit(event_id=event.id, region_code=code)
        db.session.add(row)
    return row


def _open_event(user, event_id: int) -> Event:
    event = get_event(user, event_id)
    if event.status == "closed":
        raise Conflict("灾害过程已结束，不能再更改受灾区划或宣布稳定。")
    return event


# --- Adding and withdrawing a region -----------------------------------------------------------

def add_region(user, event_id: int, data: Any) -> EventUnit:
    """Add an affected region to an open event: its counties owe their initial report
    ``REPORT_INITIAL_HOURS`` after ``impact_at`` (when given) or after now."""
    require(user, "event.create")
    event = _open_event(user, event_id)
    if event.status != "active":
        raise Conflict("灾害过程已宣布灾情稳定，不能再新增受灾区划。")
    values, errors = validate(ADD_REGION_FIELDS, data if data is not None else {})
    code, now = values.get("region_code"), utcnow()
    region = db.session.get(Region, code) if code else None
    if code and region is None:
        errors.append({"field": "region_code", "message": f"区划 {code} 不存在"})
    impact = values.get("impact_at")
    if impact is not None and impact > now:
        errors.append({"field": "impact_at", "message": "首次受灾时间不能晚于现在"})
    elif impact is not None and impact < event.started_at:
        errors.append({"field": "impact_at", "message": "首次受灾时间不能早于灾害开始时间"})
    if errors:
        raise Invalid(f"新增受灾区划有 {len(errors)} 处错误。", errors)
    require(user, "event.create", code)
    covering = [c for c in event.region_codes if codes.is_within(code, c)]
    if covering:
        raise Conflict(f"区划 {code} 已在受灾范围内（{covering[0]}）。",
                       [{"field": "region_code", "message": f"已在受灾范围内（{covering[0]}）"}])
    unit = _unit(event, code)
    unit.added_at, unit.impact_at, unit.added_by_id = now, impact, user.id
    # a region withdrawn earlier and added again starts afresh
    unit.withdrawn_at = unit.withdrawn_by_id = unit.withdraw_reason = unit.stabilised_at = None
    event.regions.append(region)
    db.session.flush()
    audit.record(user, "event.add_region", "event", event.id, after=unit.to_dict(), region_code=code)
    db.session.commit()
    return unit


def withdraw_region(user, event_id: int, region_code: str, data: Any) -> EventUnit:
    """Withdraw a region added by mistake, with its reason. Refused for the event's last region
    and for a region beneath which reports were filed (they stay the event's)."""
    require(user, "event.create")
    event = _open_event(user, event_id)
    code = region_arg(region_code)
    if code not in event.region_codes:
        raise NotFound(f"区划 {code} 不是该灾害过程的受灾区划。")
    require(user, "event.create", code)
    values, errors = validate(WITHDRAW_FIELDS, data if data is not None else {})
    if errors:
        raise Invalid("请说明撤回原因。", errors)
    if len(event.region_codes) == 1:
        raise Conflict("这是该灾害过程唯一的受灾区划，不能撤回。")
    filed = db.session.scalar(select(LossReport.id).where(
        LossReport.event_id == event.id, within_clause(LossReport.region_code, code)).limit(1))
    if filed is not None:
        raise Conflict(f"区划 {code} 及其下级已有报告，不能撤回。")
    unit = _unit(event, code)
    before = {"region_codes": event.region_codes}
    unit.withdrawn_at, unit.withdrawn_by_id, unit.withdraw_reason = utcnow(), user.id, values["reason"]
    event.regions = [r for r in event.regions if r.code != code]
    db.session.flush()
    audit.record(user, "event.withdraw_region", "event", event.id, before=before,
                 after={"region_codes": event.region_codes, **unit.to_dict()}, region_code=code,
                 note=values["reason"])
    db.session.commit()
    return unit


# --- Stabilisation county by county ------------------------------------------------------------

def stabilise_unit(user, event_id: int, region_code: str, data: Any) -> EventUnit:
    """Declare one county's situation stable (灾情稳定) at ``at`` (default now): its daily
    updates stop and its verified report falls due ``REPORT_VERIFIED_WORKING_DAYS`` working days
    later; the other counties go on. The whole event is declared stable by
    :func:`app.reports.service.events.stabilise`."""
    event = _open_event(user, event_id)
    code = region_arg(region_code)
    if code not in affected_counties(event):
        raise NotFound(f"区划 {code} 不是该灾害过程须报送的县。")
    require(user, "event.stabilise", code)
    if event.status != "active":
        raise Conflict("灾害过程已宣布灾情稳定。")
    values, errors = validate(UNIT_AT_FIELDS, data if data is not None else {})
    now = utcnow()
    at = values.get("at") or now
    start = unit_clocks(event)[0].get(code, event.started_at)
    if not errors and at > now:
        errors.append({"field": "at", "message": "稳定时间不能晚于现在"})
    elif not errors and at < start:
        errors.append({"field": "at", "message": "稳定时间不能早于该县开始报送的时间"})
    if errors:
        raise Invalid("稳定时间有误。", errors)
    unit = _unit(event, code)
    if unit.stabilised_at is not None:
        raise Conflict(f"区划 {code} 已宣布灾情稳定。")
    unit.stabilised_at, unit.stabilised_by_id = at, user.id
    db.session.flush()
    audit.record(user, "event.stabilise_unit", "event", event.id, after=unit.to_dict(), region_code=code)
    db.session.commit()
    return unit


# --- What the deadlines and the pages read -----------------------------------------------------

def unit_clocks(event: Event) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """``(county → when its clock starts, county → its own stabilisation)``: a county covered by a
    region added later starts at that region's first impact or addition (the earliest, when
    several cover it); counties of the regions opened with the event start with the event."""
    rows = db.session.scalars(select(EventUnit).where(EventUnit.event_id == event.id)).all()
    added = {r.region_code: r.clock_from for r in rows if r.withdrawn_at is None and r.clock_from}
    starts: dict[str, datetime] = {}
    for county in affected_counties(event):
        covering = [c for c in event.region_codes if codes.is_within(county, c) or codes.is_within(c, county)]
        moments = [added.get(c, event.started_at) for c in covering] or [event.started_at]
        if min(moments) != event.started_at:
            starts[county] = min(moments)
    stables = {r.region_code: r.stabilised_at for r in rows if r.stabilised_at is not None}
    return starts, stables


def event_units(user, event_id: int) -> list[dict]:
    """Each affected region (and withdrawn one) and each county declared stable, with its clocks;
    ``affected``: the region is one of the event's or lies beneath one."""
    event = get_event(user, event_id)
    rows = {r.region_code: r for r in db.session.scalars(select(EventUnit).where(EventUnit.event_id == event.id))}
    out = []
    for code in sorted(set(event.region_codes) | set(rows)):
        item = rows[code].to_dict() if code in rows else EventUnit(event_id=event.id, region_code=code).to_dict()
        item["affected"] = any(codes.is_within(code, c) for c in event.region_codes)
        out.append(item)
    return out


def unit_panel(user, event: Event) -> dict:
    """The event page's panel of regions: the affected regions with their clocks, the regions
    the user may add (picked, never typed), the counties they may declare stable."""
    require(user, "event.view")
    rows = {r.region_code: r for r in db.session.scalars(select(EventUnit).where(EventUnit.event_id == event.id))}
    counties = affected_counties(event)
    starts, stables = unit_clocks(event)
    names = dict(db.session.execute(select(Region.code, Region.name).where(
        Region.code.in_(set(counties) | set(rows) | set(event.region_codes)))).all())
    open_ = event.status != "closed"
    return {
        "units": rows, "names": names, "starts": starts, "stables": stables,
        "counties": [c for c in counties if codes.is_within(c, user.region_code)
                     or codes.is_within(user.region_code, c)],
        "withdrawn": [r for r in rows.values() if r.withdrawn_at is not None],
        "candidates": addable(user, event) if event.status == "active" and can(user, "event.create") else [],
        "stabilisable": [c for c in counties if c not in stables and event.status == "active"
                         and can(user, "event.stabilise", c)],
        "withdrawable": [c for c in event.region_codes if open_ and len(event.region_codes) > 1
                         and can(user, "event.create", c)],
    }


def addable(user, event: Event) -> list[dict]:
    """The prefectures and counties the user may add, grouped by prefecture: beneath the
    provinces the event touches, inside the user's jurisdiction, not already covered."""
    scope = {code[:2] + "0000" for code in event.region_codes}
    if user.region_code != codes.NATIONAL:
        scope = {user.region_code} if any(codes.is_within(user.region_code, p) for p in scope) else set()
    groups: list[dict] = []
    for top in sorted(scope):
        rows = db.session.execute(select(Region.code, Region.name, Region.level, Region.parent_code).where(
            within_clause(Region.code, top), Region.level.in_(("prefecture", "county"))).order_by(Region.code)).all()
        by_parent: dict[str, dict] = {}
        for code, name, level, parent in rows:
            if any(codes.is_within(code, c) for c in event.region_codes):
                continue
            if level == "prefecture":
                by_parent.setdefault(code, {"code": code, "name": name, "options": []})
                by_parent[code]["options"].insert(0, {"code": code, "name": name, "whole": True})
            else:
                group = by_parent.setdefault(parent, {"code": parent, "name": parent, "options": []})
                group["options"].append({"code": code, "name": name, "whole": False})
        groups.extend(g for g in by_parent.values() if g["options"])
    unnamed = {g["code"] for g in groups if g["name"] == g["code"]}
    if unnamed:
        names = dict(db.session.execute(select(Region.code, Region.name).where(Region.code.in_(unnamed))).all())
        for group in groups:
            group["name"] = names.get(group["code"], group["name"])
    return groups
