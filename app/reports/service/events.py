"""Disaster events (灾害过程): which events a user sees (those touching their jurisdiction),
opening one over its affected regions, declaring it stable (灾情稳定) and closing it (结束) along
:data:`EVENT_MACHINE`, and the counties that owe reports for it. Each function checks
permission first; a change is one transaction with its audit line.
"""
from __future__ import annotations

from functools import lru_cache

import re
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import or_, select

from gis import codes

from ... import audit
from ...errors import Forbidden, Invalid, NotFound
from ...extensions import db
from ...i18n import translate
from ...models_common import utcnow
from ...permissions import can, require
from ...regions import Region, descendant_codes
from ...validation import Field, code_value, merged, validate
from ..models import EVENT_MACHINE, HAZARDS, Event, event_region
from ..totals import within_clause
from ._common import body_of

EVENT_STATUSES = tuple(EVENT_MACHINE.labels)
_SEPARATORS = re.compile(r"[,，、\s]+")


class CodeList(Field):
    """A list of region codes; a page form names them in one box, separated by commas (，), 、
    or spaces (the JSON body gives a list)."""

    def from_form(self, raw):
        values = raw if isinstance(raw, list) else [raw]
        return [code for value in values for code in _SEPARATORS.split(value) if code]


EVENT_FIELDS = {
    "name": Field("str", max_length=200, description="灾害过程名称"),
    "hazard": Field("str", choices=tuple(HAZARDS), description="灾种"),
    "started_at": Field("datetime", description="开始时间；无时区时按北京时间"),
    "region_codes": CodeList("list", items="code", description="受灾区划代码"),
    "major": Field("bool", required=False, default=False,
                   description="重大灾害：每份报告须至少附 REPORT_MAJOR_MIN_PHOTOS 张照片"),
}
AT_FIELDS = {"at": Field("datetime", required=False, description="时间；缺省为现在")}
_STATUS_ARG = {"status": Field("str", required=False, choices=EVENT_STATUSES, description="状态")}


# --- Who sees which ----------------------------------------------------------------------------

def overlaps(code: str, jurisdiction: str) -> bool:
    return codes.is_within(code, jurisdiction) or codes.is_within(jurisdiction, code)


def event_visible(user, event: Event) -> bool:
    """A user sees an event that touches their jurisdiction (above, at or below it)."""
    if not can(user, "event.view"):
        return False
    return any(overlaps(code, user.region_code) for code in event.region_codes)


def visible_events(user, status: str | None = None):
    """A ``select`` of the events touching the user's jurisdiction, newest start first."""
    require(user, "event.view")
    status = _checked_status(status)
    stmt = select(Event).order_by(Event.started_at.desc(), Event.id.desc())
    if status:
        stmt = stmt.where(Event.status == status)
    if user.region_code != codes.NATIONAL:
        above = [user.region_code, *codes.ancestors(user.region_code)]
        touching = select(event_region.c.event_id).where(or_(
            within_clause(event_region.c.region_code, user.region_code),
            event_region.c.region_code.in_(above)))
        stmt = stmt.where(Event.id.in_(touching))
    return stmt


def _checked_status(status: str | None) -> str | None:
    out, errors = validate(_STATUS_ARG, {"status": status})
    if errors:
        raise Invalid("status 取值有误。", errors)
    return out["status"]


def get_event(user, event_id: int) -> Event:
    require(user, "event.view")
    event = db.session.get(Event, event_id)
    if event is None:
        raise NotFound(f"灾害过程 {event_id} 不存在。")
    if not event_visible(user, event):
        raise Forbidden(f"灾害过程 {event_id} 不在当前用户的管辖范围内。")
    return event


def top_regions(user, event: Event) -> list[str]:
    """The event's affected regions as the user may see them (clipped to the jurisdiction)."""
    out: list[str] = []
    for code in event.region_codes:
        if codes.is_within(code, user.region_code):
            out.append(code)
        elif codes.is_within(user.region_code, code):
            out.append(user.region_code)
    return sorted(set(out))


# --- Opening an event --------------------------------------------------------------------------

def create_event(user, data: Any) -> Event:
    """Open a disaster process (灾害过程) over the given regions; status ``active``.

    ``data`` is the JSON body or the posted page form (its codes in one box)."""
    require(user, "event.create")
    body, unreadable = body_of(EVENT_FIELDS, data)
    values, errors = validate(EVENT_FIELDS, body)
    errors = merged(unreadable, errors)
    regions = _event_regions(user, body, values, errors)
    if values.get("started_at") and values["started_at"] > utcnow():
        errors.append({"field": "started_at", "message": "开始时间不能晚于现在"})
    if errors:
        raise Invalid(f"灾害过程有 {len(errors)} 处错误。", errors)
    return _open(user, values, regions)


def _event_regions(user, body: dict, values: dict, errors: list[dict]) -> list[Region]:
    """The affected regions, each code checked on its own (``region_codes[i]``): outside the
    jurisdiction is a 403 naming each, an unknown code an error."""
    if values.get("region_codes") is not None and not values["region_codes"]:
        errors.append({"field": "region_codes", "message": "至少需要一个受灾区划"})
    raw_codes = body.get("region_codes")
    element = EVENT_FIELDS["region_codes"].item_field()
    regions: list[Region] = []
    outside: list[dict] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_codes if isinstance(raw_codes, list) else []):
        path = f"region_codes[{index}]"
        code = element.convert(path, raw, []) if raw is not None else None
        if code is None or code in seen:  # a bad code is named already by the list's own check
            continue
        seen.add(code)
        if not can(user, "event.create", code):
            outside.append({"field": path, "message": f"区划 {code} 不在管辖范围内"})
            continue
        region = db.session.get(Region, code)
        if region is None:
            errors.append({"field": path, "message": f"区划 {code} 不存在"})
            continue
        regions.append(region)
    if outside:
        raise Forbidden("受灾区划超出当前用户的管辖范围。", outside)
    return regions


def _open(user, values: dict, regions: list[Region]) -> Event:
    event = Event(name=values["name"], hazard=values["hazard"], started_at=values["started_at"],
                  status="active", created_by_id=user.id, major=bool(values["major"]))
    event.regions = regions
    db.session.add(event)
    db.session.flush()
    audit.record(user, "event.create", "event", event.id, after=event.to_dict(),
                 region_code=regions[0].code)
    db.session.commit()
    return event


# --- Its life: stable, closed ------------------------------------------------------------------

def _require_all_regions(user, action: str, event: Event) -> None:
    for code in event.region_codes:
        require(user, action, code)


def may_stabilise(user, event: Event) -> bool:
    """Whether the user may declare the event stable or close it (every affected region is theirs)."""
    return all(can(user, "event.stabilise", code) for code in event.region_codes)


def stabilise(user, event_id: int, data: Any) -> Event:
    """Declare the situation stable (灾情稳定) at ``at``: daily updates stop, verified reports
    fall due ``REPORT_VERIFIED_WORKING_DAYS`` working days later."""
    return _declare(user, event_id, data, "stabilise", "stabilised_at", "稳定时间",
                    lambda event: (event.started_at, "灾害开始时间"))


def close(user, event_id: int, data: Any) -> Event:
    """Close the process (结束): no more reports are accepted."""
    return _declare(user, event_id, data, "close", "closed_at", "结束时间",
                    lambda event: (event.stabilised_at or event.started_at, "开始或稳定时间"))


def _declare(user, event_id: int, data: Any, transition: str, column: str, label: str,
             not_before: Callable[[Event], tuple[datetime, str]]) -> Event:
    """Move the event along ``transition`` at ``data["at"]`` (default now), stored in ``column``;
    the time may be neither in the future nor before ``not_before``. ``data``: the JSON body or
    the posted page form."""
    event = get_event(user, event_id)
    _require_all_regions(user, f"event.{transition}", event)
    values, errors = validate(AT_FIELDS, data if data is not None else {})
    now = utcnow()
    at = values.get("at") or now
    if not errors:
        earliest, earliest_label = not_before(event)
        if at > now:
            errors.append({"field": "at", "message": f"{label}不能晚于现在"})
        elif at < earliest:
            errors.append({"field": "at", "message": f"{label}不能早于{earliest_label}"})
    if errors:
        raise Invalid(f"{label}有误。", errors)
    before, after = EVENT_MACHINE.fire(event, transition)
    setattr(event, column, at)
    audit.record(user, f"event.{transition}", "event", event.id, before={"status": before},
                 after={"status": after, column: at}, region_code=event.region_codes[0])
    db.session.commit()
    return event


def affected_counties(event: Event) -> list[str]:
    """The counties that owe reports: affected counties, the counties beneath affected
    prefectures and provinces, and the county above an affected township or village."""
    out: set[str] = set()
    for region in event.regions:
        if region.level == "county":
            out.add(region.code)
        elif region.level in ("province", "prefecture"):
            out.update(descendant_codes(region.code, level="county"))
        else:
            county = db.session.get(Region, region.code[:6])
            if county is not None:
                out.add(county.code)
    return sorted(out)


def event_covers(event, code: str, strict: bool = False) -> bool:
    """``code`` lies in one of the event's affected regions (or, unless ``strict``, contains one:
    a prefecture over an affected county)."""
    return _covers(tuple(event.region_codes), code, strict)


@lru_cache(maxsize=8192)
def _covers(regions: tuple[str, ...], code: str, strict: bool) -> bool:
    for region in regions:
        try:
            if codes.is_within(code, region) or (not strict and codes.is_within(region, code)):
                return True
        except codes.CodeError:
            return False
    return False


def event_unit(user, event, region_code, action: str) -> str:
    """The unit a page or query about ``event`` is for: ``region_code`` (it exists and ``user`` may
    do ``action`` there) or, absent, the user's jurisdiction when it lies in the event, else the
    event's first affected region inside the jurisdiction."""
    code = code_value(region_code)
    if code is None:
        mine = user.region_code
        if mine != codes.NATIONAL and event_covers(event, mine):
            code = mine
        else:
            inside = [c for c in event.region_codes if codes.is_within(c, mine)]
            code = (inside or event.region_codes or [mine])[0]
    require(user, action, code)
    if db.session.get(Region, code) is None:
        raise NotFound(translate("区划 %(code)s 不存在。", code=code))
    return code
