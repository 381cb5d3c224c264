"""Drafting, previewing and approving releases (统一发布), as the staff see them.

A draft freezes the event's rolled-up figures for the drafter's jurisdiction and its counties
(:func:`app.reports.event_totals`, the same totals the event page shows) and the response levels
in force (:func:`app.responses.active_responses`) at the moment it is drafted. Approval needs
``release.approve`` and another user than the drafter (四眼原则: nobody publishes their own
draft, an admin neither). A later release of the same event and jurisdiction corrects the latest
approved one: it must say why (``change_note``) and lists what changed.
"""
from __future__ import annotations

import re

from sqlalchemy import func, select

from gis import codes

from .. import audit
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..models_common import utcnow
from ..permissions import can, require
from ..regions import Region
from ..reports import BY_FIELD, FIELDS, event_totals, get_event, total_for, visible_events
from ..responses import active_responses
from ..validation import Field, parse_datetime, validate
from .models import RELEASE_MACHINE, Release

DRAFT_FIELDS = {
    "event_id": Field("int", min=1, description="灾害过程"),
    "region_code": Field("code", required=False, description="发布范围（默认本人辖区）"),
    "title": Field("str", required=False, default="", max_length=200, description="标题（默认按灾害过程命名）"),
    "summary": Field("str", required=False, default="", max_length=4000, multiline=True, description="灾情概述"),
    "relief": Field("str", required=False, default="", max_length=4000, multiline=True,
                    description="救助开展情况（已下拨资金、调运物资等）"),
    "change_note": Field("str", required=False, default="", max_length=2000, multiline=True,
                         description="更正说明（更正已发布的通报时必填）"),
}
#: Personal data never goes into a public text: an identity number or a phone number.
PERSONAL = re.compile(r"(?<!\d)(\d{17}[\dXx]|1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")


def releases_page(user) -> dict:
    """The releases of the user's jurisdiction, newest first, and the events a draft may be for."""
    require(user, "release.view")
    rows = db.session.scalars(select(Release).order_by(Release.id.desc())).all()
    rows = [r for r in rows if codes.is_within(r.region_code, user.region_code)]
    events = db.session.scalars(visible_events(user)).all() if can(user, "release.draft") else []
    return {"rows": rows, "events": events, "can_draft": can(user, "release.draft", user.region_code),
            "scopes": scope_choices(user)}


def scope_choices(user) -> list[tuple[str, str]]:
    """The provinces, prefectures and counties a release of ``user`` may cover (own first)."""
    rows = db.session.scalars(select(Region).where(Region.level.in_(("province", "prefecture", "county")))
                              .order_by(Region.code)).all()
    inside = [(r.code, r.name) for r in rows if codes.is_within(r.code, user.region_code)]
    return sorted(inside, key=lambda pair: pair[0] != user.region_code)


def get_release(user, release_id: int, action: str = "release.view") -> Release:
    release = db.session.get(Release, release_id)
    if release is None:
        raise NotFound(f"发布 {release_id} 不存在。")
    require(user, action, release.region_code)
    return release


def snapshot(event_id: int, region_code: str) -> dict:
    """The event's totals for ``region_code`` and each county within it, and when they stand."""
    totals = event_totals(event_id)
    scope = total_for(region_code, totals)
    county_codes = sorted(code for code in totals if codes.level_of(code) == "county"
                          and codes.is_within(code, region_code))
    regions = {r.code: r for r in db.session.scalars(
        select(Region).where(Region.code.in_([region_code, *county_codes]))).all()}
    counties = []
    for code in county_codes:
        region = regions.get(code)
        counties.append({"code": code, "name": region.name if region else code,
                         "lon": region.lon if region else None, "lat": region.lat if region else None,
                         "figures": {f: totals[code].figures.get(f, 0) for f in FIELDS}})
    name = regions[region_code].name if region_code in regions else region_code
    return {"region_name": name, "total": {f: scope.figures.get(f, 0) for f in FIELDS},
            "reporting_units": scope.reporting_units, "counties": counties,
            "as_of": scope.as_of.isoformat() if scope.as_of else None}


def responses_in_force(event_id: int, region_code: str) -> list[dict]:
    """The response levels in force that cover the jurisdiction (its own, above or below it)."""
    rows = []
    for row in active_responses(event_id).values():
        if codes.is_within(row.region_code, region_code) or codes.is_within(region_code, row.region_code):
            region = db.session.get(Region, row.region_code)
            rows.append({"plan_id": row.plan_id, "region_code": row.region_code,
                         "region_name": region.name if region else row.region_code,
                         "level": row.level, "rank": row.rank, "since": row.at.isoformat()})
    return sorted(rows, key=lambda r: (r["region_code"], r["plan_id"]))


def changes_between(old: Release, figures: dict, responses: list[dict]) -> list[dict]:
    """What a correction changes: each figure of the total or of a county, and each response."""
    out = []
    before_total, after_total = old.figures.get("total", {}), figures.get("total", {})
    for f in FIELDS:
        if before_total.get(f, 0) != after_total.get(f, 0):
            out.append({"what": BY_FIELD[f].label, "where": figures.get("region_name", ""),
                        "before": before_total.get(f, 0), "after": after_total.get(f, 0)})
    old_counties = {c["code"]: c for c in old.figures.get("counties", [])}
    for county in figures.get("counties", []):
        previous = old_counties.get(county["code"], {"figures": {}})["figures"]
        for f in FIELDS:
            if previous.get(f, 0) != county["figures"].get(f, 0):
                out.append({"what": BY_FIELD[f].label, "where": county["name"],
                            "before": previous.get(f, 0), "after": county["figures"].get(f, 0)})
    levels = lambda rows: {(r["plan_id"], r["region_code"]): r for r in rows}  # noqa: E731
    old_levels, new_levels = levels(old.responses), levels(responses)
    for key in sorted(set(old_levels) | set(new_levels)):
        before, after = old_levels.get(key), new_levels.get(key)
        if (before or {}).get("level") != (after or {}).get("level"):
            where = (after or before)["region_name"]
            out.append({"what": "应急响应", "where": where, "before": before["level"] if before else "未启动",
                        "after": after["level"] if after else "已终止"})
    return out


def latest_approved(event_id: int, region_code: str) -> Release | None:
    return db.session.scalars(select(Release).where(
        Release.event_id == event_id, Release.region_code == region_code, Release.status == "approved")
        .order_by(Release.version.desc()).limit(1)).first()


def draft_release(user, data) -> Release:
    """Draft a bulletin for an event in the user's jurisdiction, freezing its figures now."""
    require(user, "release.draft", user.region_code)
    values, errors = validate(DRAFT_FIELDS, data)
    for name in ("title", "summary", "relief", "change_note"):
        if values.get(name) and PERSONAL.search(values[name]):
            errors.append({"field": name, "message": "公开文本不得包含身份证号或电话号码"})
    scope = values.get("region_code") or user.region_code
    if db.session.get(Region, scope) is None or not codes.is_within(scope, user.region_code):
        errors.append({"field": "region_code", "message": "请选择辖区内的省、市或县作为发布范围"})
        scope = None
    event = get_event(user, values["event_id"]) if values.get("event_id") else None
    previous = latest_approved(event.id, scope) if event and scope else None
    if previous is not None and not values.get("change_note"):
        errors.append({"field": "change_note", "message": "更正已发布的通报，请说明更正原因"})
    if errors:
        raise Invalid("发布内容有误。", errors)
    require(user, "release.draft", scope)
    figures = snapshot(event.id, scope)
    responses = responses_in_force(event.id, scope)
    version = (db.session.scalar(select(func.max(Release.version)).where(
        Release.event_id == event.id, Release.region_code == scope)) or 0) + 1
    now = utcnow()
    title = values["title"] or f"{event.name} 灾情通报（第 {version} 期）"
    release = Release(event_id=event.id, region_code=scope, version=version, title=title,
                      summary=values["summary"], relief=values["relief"], figures=figures,
                      responses=responses, as_of=_as_of(figures, now),
                      corrects_id=previous.id if previous else None,
                      changes=changes_between(previous, figures, responses) if previous else [],
                      change_note=values["change_note"], drafted_by_id=user.id, drafted_at=now)
    db.session.add(release)
    db.session.flush()
    audit.record(user, "release.draft", "public_release", release.id,
                 after={"event_id": event.id, "version": version}, region_code=scope)
    db.session.commit()
    return release


def _as_of(figures: dict, now):
    return parse_datetime(figures["as_of"]) if figures.get("as_of") else now


def approve_release(user, release_id: int) -> Release:
    """Publish a draft: another user than its drafter, with ``release.approve``."""
    release = get_release(user, release_id, "release.approve")
    if release.drafted_by_id == user.id:
        raise Forbidden("不能审核发布自己起草的通报，请由另一位协调员审核。")
    latest = latest_approved(release.event_id, release.region_code) if release.status == "draft" else None
    if release.status == "draft" and (latest.id if latest else None) != release.corrects_id:
        # another release was published since this draft: it would correct the wrong one
        raise Conflict("起草后已有通报发布，请放弃本草稿并重新起草（以更正方式）。")
    before, after = RELEASE_MACHINE.fire(release, "approve")
    release.approved_by_id, release.approved_at = user.id, utcnow()
    audit.record(user, "release.approve", "public_release", release.id, before={"status": before},
                 after={"status": after, "version": release.version}, region_code=release.region_code)
    db.session.commit()
    return release


def discard_release(user, release_id: int) -> Release:
    release = get_release(user, release_id, "release.draft")
    before, after = RELEASE_MACHINE.fire(release, "discard")
    audit.record(user, "release.discard", "public_release", release.id, before={"status": before},
                 after={"status": after}, region_code=release.region_code)
    db.session.commit()
    return release


def release_page(user, release_id: int) -> dict:
    """The staff preview of a release: the page the public will see, and what may be done."""
    release = get_release(user, release_id)
    corrected = db.session.get(Release, release.corrects_id) if release.corrects_id else None
    event = get_event(user, release.event_id)
    return {"release": release, "corrected": corrected, "event": event, "labels": BY_FIELD,
            "fields": FIELDS, "preview": release.status == "draft",
            "can_approve": release.status == "draft" and release.drafted_by_id != user.id
            and can(user, "release.approve", release.region_code),
            "can_discard": release.status == "draft" and can(user, "release.draft", release.region_code)}
