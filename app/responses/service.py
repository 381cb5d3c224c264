"""Response levels in the app (应急响应): plan versions, assessments on the latest totals, the
decisions of coordinators, 上下级衔接 and the notifications of a new or higher tier.

Every public function that acts for a user checks permission first, validates everything and
gathers every error, then runs one transaction that it commits, with an audit line. The pure
evaluation is :mod:`response_levels`; this module only feeds it the event's figures.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import json
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

import response_levels as rl
from gis import codes

from .. import audit
from ..api import Field, validate
from ..database import commit_keeping_loaded, is_postgres, lock_for_update
from ..errors import Conflict, Forbidden, Invalid, NotFound, RetryableConflict
from ..extensions import db
from ..models_common import utcnow
from ..notifications import Notification, coordinators_covering, notify
from ..permissions import can, require
from ..regions import Region
from ..reports import Event
from ..reports import total_for
from ..reports import event_totals, parent_lookup
from . import adjacency
from .models import ACTIONS, RESPONSE_MACHINE, Assessment, ContingencyPlan, ResponseAction

#: Depth of each level of the region tree, the nation at the top.
DEPTH = {"nation": 0, "province": 1, "prefecture": 2, "county": 3, "township": 4, "village": 5}
UNIT_LABELS = {"province": "省级", "prefecture": "市级", "county": "县级"}
STATUS_LABELS = {"checked": "已核对原文", "secondary": "二手来源", "default": "默认解读",
                 "sample": "示例数据"}
NOTIFICATION_KIND = "response_tier"


# --- Plans ------------------------------------------------------------------------------------

@lru_cache(maxsize=256)
def _plan_from_json(text: str) -> rl.Plan:
    return rl.load_plan(json.loads(text))


def plan_of(row: ContingencyPlan) -> rl.Plan:
    """The :class:`response_levels.Plan` of a stored plan version."""
    return _plan_from_json(json.dumps(row.document, sort_keys=True, ensure_ascii=False))


def plan_to_dict(row: ContingencyPlan, versions: list[ContingencyPlan] | None = None) -> dict:
    """A plan in the shape of ``GET /plans`` (``plan_summary``) plus its upload details."""
    data = rl.plan_summary(plan_of(row))
    data.update(active=row.active, uploaded_by=row.uploaded_by,
                uploaded_at=row.uploaded_at.isoformat())
    if versions is not None:
        data["versions"] = [v.version_dict() for v in versions]
    return data


def plan_versions(plan_id: str) -> list[ContingencyPlan]:
    """Every stored version of a plan, oldest first."""
    return list(db.session.scalars(select(ContingencyPlan).filter_by(plan_id=plan_id)
                                   .order_by(ContingencyPlan.uploaded_at, ContingencyPlan.id)))


def active_plan_rows() -> list[ContingencyPlan]:
    return list(db.session.scalars(select(ContingencyPlan).filter_by(active=True)
                                   .order_by(ContingencyPlan.plan_id)))


def list_plans(user, include_inactive: bool = False) -> list[ContingencyPlan]:
    """The plans in force (the active version of each); with ``include_inactive`` also the
    latest version of each retired plan."""
    require(user, "plan.view")
    if not include_inactive:
        return active_plan_rows()
    rows = db.session.scalars(select(ContingencyPlan).order_by(
        ContingencyPlan.plan_id, ContingencyPlan.uploaded_at, ContingencyPlan.id)).all()
    chosen: dict[str, ContingencyPlan] = {}
    for row in rows:
        held = chosen.get(row.plan_id)
        if held is None or not held.active:
            chosen[row.plan_id] = row
    return [chosen[k] for k in sorted(chosen)]


def get_plan(user, plan_id: str, version: str | None = None) -> tuple[ContingencyPlan, list]:
    """A plan's version (the active one, else the latest) and every version of it."""
    require(user, "plan.view")
    versions = plan_versions(plan_id)
    if not versions:
        raise NotFound(f"预案 {plan_id} 不存在。")
    if version is not None:
        row = next((v for v in versions if v.version == version), None)
        if row is None:
            raise NotFound(f"预案 {plan_id} 没有版本 {version}。")
    else:
        row = next((v for v in versions if v.active), versions[-1])
    return row, versions


def _parse_upload(text: str | None, data: dict | None) -> rl.Plan:
    try:
        if data is not None:
            return rl.load_plan(data)
        if text is not None and text.strip():
            return rl.parse_plan_text(text)
    except rl.PlanError as exc:
        raise Invalid(f"预案不符合格式要求，共 {len(exc.errors)} 处问题。", exc.to_list()) from None
    raise Invalid("请提供预案内容（YAML 或 JSON）。", [{"field": "text", "message": "不能为空"}])


def _check_plan_geography(plan: rl.Plan) -> list[dict]:
    """The plan's jurisdiction exists, and its unit level is not above its jurisdiction."""
    errors = []
    jurisdiction = plan.jurisdiction_code
    if jurisdiction == codes.NATIONAL:
        level = "nation"
    else:
        region = db.session.get(Region, jurisdiction)
        if region is None:
            errors.append({"field": "jurisdiction_code",
                           "message": f"区划 {jurisdiction} 不在系统中（请先导入区划）"})
            return errors
        level = region.level
    if DEPTH[plan.unit_level] < DEPTH.get(level, 0):
        errors.append({"field": "unit_level",
                       "message": f"{plan.unit_level} 高于预案的管辖层级 {level}：预案只能评估本辖区或其下级单元"})
    return errors


def upload_plan(user, *, text: str | None = None, data: dict | None = None) -> ContingencyPlan:
    """Store a new version of a plan from YAML/JSON ``text`` or a parsed mapping ``data``.

    The new version becomes the active one; older versions are kept, inactive, so decisions
    keep the version they were made under. The same plan id and version twice is a 409.
    """
    require(user, "plan.upload")
    plan = _parse_upload(text, data)
    errors = [{"field": name, "message": f"长度不能超过 {limit}"}
              for name, value, limit in (("id", plan.id, 80), ("version", plan.version, 40), ("name", plan.name, 200))
              if len(str(value)) > limit]
    if errors:
        raise Invalid("预案的编号、版本或名称过长。", errors)
    errors = _check_plan_geography(plan)
    if errors:
        raise Invalid("预案的管辖区划有误。", errors)
    require(user, "plan.upload", plan.jurisdiction_code)
    existing = db.session.scalars(lock_for_update(
        select(ContingencyPlan).filter_by(plan_id=plan.id))).all()
    if any(row.version == plan.version for row in existing):
        raise Conflict(f"预案 {plan.id} 的版本 {plan.version} 已存在：上传新版本时请修改 version。",
                       [{"field": "version", "message": "该版本已存在"}])
    previous = next((row.version for row in existing if row.active), None)
    for row in existing:
        row.active = False
    row = ContingencyPlan(plan_id=plan.id, version=plan.version, name=plan.name,
                          jurisdiction_code=plan.jurisdiction_code, unit_level=plan.unit_level,
                          document=rl.dump_plan(plan), source_text=text,
                          uploaded_by_id=getattr(user, "id", None),
                          uploaded_by=getattr(user, "username", None) or "system",
                          uploaded_at=utcnow(), active=True)
    db.session.add(row)
    audit.record(user, "plan.upload", "contingency_plan", f"{plan.id}@{plan.version}",
                 before={"active_version": previous} if previous else None,
                 after={"plan_id": plan.id, "version": plan.version, "name": plan.name},
                 region_code=plan.jurisdiction_code)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(f"预案 {plan.id} 的版本 {plan.version} 已由他人同时上传。") from None
    return row


def set_plan_activation(user, plan_id: str, active: bool, version: str | None = None
                        ) -> ContingencyPlan:
    """Put a version of a plan in force (``active``), or retire the plan (no version active)."""
    require(user, "plan.upload")
    versions = db.session.scalars(lock_for_update(
        select(ContingencyPlan).filter_by(plan_id=plan_id)
        .order_by(ContingencyPlan.uploaded_at, ContingencyPlan.id))).all()
    if not versions:
        raise NotFound(f"预案 {plan_id} 不存在。")
    require(user, "plan.upload", versions[-1].jurisdiction_code)
    target = versions[-1]
    if version is not None:
        target = next((v for v in versions if v.version == version), None)
        if target is None:
            raise Invalid(f"预案 {plan_id} 没有版本 {version}。",
                          [{"field": "version", "message": "版本不存在"}])
    before = next((v.version for v in versions if v.active), None)
    for row in versions:
        row.active = active and row is target
    audit.record(user, "plan.activate" if active else "plan.retire", "contingency_plan", plan_id,
                 before={"active_version": before},
                 after={"active_version": target.version if active else None},
                 region_code=target.jurisdiction_code)
    db.session.commit()
    return target


# --- Events, units and evaluations -------------------------------------------------------------

def get_event(user, event_id: int, action: str = "response.view") -> Event:
    """The event, when the user may see its responses: one of its regions is inside the user's
    jurisdiction, or the user's jurisdiction lies inside one of its regions."""
    event = db.session.get(Event, event_id)
    if event is None:
        raise NotFound(f"灾害过程 {event_id} 不存在。")
    require(user, action)
    if not event_visible(user, event):
        raise Forbidden(f"灾害过程 {event_id} 不在当前用户的管辖范围内。")
    return event


def event_visible(user, event: Event) -> bool:
    mine = user.region_code
    return any(codes.is_within(code, mine) or codes.is_within(mine, code)
               for code in event.region_codes)


@dataclass
class _Geography:
    """The regions an event touches, with their levels, names and populations."""

    regions: dict[str, Region]
    units_by_level: dict[str, set[str]]


def _geography(event: Event, totals: dict) -> _Geography:
    affected = set(event.region_codes) | set(totals)
    parents = parent_lookup(affected)
    regions = {r.code: r for r in db.session.scalars(
        select(Region).where(Region.code.in_(list(set(parents) | affected))))}
    units: dict[str, set[str]] = defaultdict(set)
    for code in affected:
        while code is not None and code in regions:
            units[regions[code].level].add(code)
            code = parents.get(code)
    return _Geography(regions, units)


def _plan_units(row: ContingencyPlan, event: Event, geo: _Geography) -> list[str]:
    """The units a plan evaluates for an event: affected regions at the plan's unit level inside
    its jurisdiction (the national plans: each affected province), and the plan's own
    jurisdiction when that is a unit and lies inside one of the event's regions."""
    found = {code for code in geo.units_by_level.get(row.unit_level, ())
             if codes.is_within(code, row.jurisdiction_code)}
    own = row.jurisdiction_code
    if own != codes.NATIONAL and own not in found and any(
            codes.is_within(own, code) for code in event.region_codes):
        region = geo.regions.get(own) or db.session.get(Region, own)
        if region is not None and region.level == row.unit_level:
            geo.regions[own] = region
            found.add(own)
    return sorted(found)


def evaluate_event(event: Event, rows: list[ContingencyPlan] | None = None) -> list[dict]:
    """Evaluate every active plan (or ``rows``) on the latest totals of each unit it covers.

    Each result is :meth:`response_levels.Evaluation.to_dict` plus the plan's name and
    jurisdiction, the unit's name, the figures' ``as_of`` and the 农牧业人口 used.
    """
    rows = active_plan_rows() if rows is None else rows
    totals = event_totals(event.id)
    geo = _geography(event, totals)
    provinces = sorted(geo.units_by_level.get("province", ()))
    out = []
    for row in rows:
        plan = plan_of(row)
        for unit in _plan_units(row, event, geo):
            region = geo.regions[unit]
            total = total_for(unit, totals)
            neighbours = []
            if row.unit_level == "province":
                neighbours = [dict(total_for(p, totals).figures) for p in provinces
                              if p != unit and adjacency.adjacent(unit, p)]
            context = rl.Context(region_code=unit,
                                 agricultural_population=region.agricultural_population or None,
                                 adjacent=neighbours)
            result = rl.evaluate(plan, dict(total.figures), context).to_dict()
            result["criteria"] = result.pop("criteria_values")
            result.update(plan_name=plan.name, jurisdiction_code=plan.jurisdiction_code,
                          unit_level=plan.unit_level, region_name=region.name,
                          as_of=total.as_of.isoformat() if total.as_of else None,
                          reporting_units=total.reporting_units,
                          agricultural_population=region.agricultural_population,
                          adjacent_regions=[p for p in provinces if p != unit
                                            and adjacency.adjacent(unit, p)]
                          if row.unit_level == "province" else [])
            out.append(result)
    return out


def assessment(user, event_id: int) -> dict:
    """``GET /events/{id}/assessment``: every plan covering the event, on the latest totals,
    for the units the user may see (:func:`unit_visible`)."""
    event = get_event(user, event_id)
    return {"event_id": event.id, "computed_at": utcnow().isoformat(),
            "evaluations": [e for e in evaluate_event(event) if unit_visible(user, e["region_code"])]}


def unit_visible(user, unit_code: str) -> bool:
    """A unit's evaluation shows its rolled-up figures: visible to users whose jurisdiction
    contains the unit, and to users inside the unit (a county sees its province's tier, which
    its own response must not fall below), never to another province."""
    return codes.is_within(unit_code, user.region_code) or codes.is_within(user.region_code, unit_code)


# --- Responses ---------------------------------------------------------------------------------

def latest_actions(event_id: int) -> dict[tuple[str, str], ResponseAction]:
    """The last decision on each (plan, unit) of the event."""
    rows = db.session.scalars(select(ResponseAction).filter_by(event_id=event_id)
                              .order_by(ResponseAction.sequence, ResponseAction.id))
    latest: dict[tuple[str, str], ResponseAction] = {}
    for row in rows:
        latest[(row.plan_id, row.region_code)] = row
    return latest


def active_responses(event_id: int) -> dict[tuple[str, str], ResponseAction]:
    """Responses in force: the (plan, unit) pairs whose last decision is not an end."""
    return {key: row for key, row in latest_actions(event_id).items() if row.action != "end"}


def history_query(user, event_id: int, plan_id: str | None = None, region_code: str | None = None):
    event = get_event(user, event_id)
    stmt = select(ResponseAction).filter_by(event_id=event.id)
    if plan_id:
        stmt = stmt.filter_by(plan_id=plan_id)
    if region_code:
        stmt = stmt.filter_by(region_code=region_code)
    return stmt.order_by(ResponseAction.at, ResponseAction.id)


def _level_by_label(plan: rl.Plan, label: str | None) -> rl.Level | None:
    if label is None:
        return None
    for level in plan.levels:
        if level.label == label.strip():
            return level
    return None


RESPONSE_FIELDS = {
    "plan_id": Field("str", max_length=80, description="预案编号，如 national-2016"),
    "region_code": Field("code", description="预案评估的单元（国家预案：受灾省份）"),
    "level": Field("str", required=False, max_length=20,
                   description="预案自己的等级名称（Ⅳ、四级）；终止时可省略"),
    "action": Field("str", choices=("start", "adjust", "end")),
    "reason": Field("str", required=False, default="", max_length=4000, multiline=True,
                    description="理由：调整、终止必填；未达到启动条件（预测启动）时必填"),
}


def record_action(user, event_id: int, data) -> ResponseAction:
    """Start, adjust or end a response (启动 / 调整 / 终止响应).

    ``data`` (the request body, :data:`RESPONSE_FIELDS`) has ``plan_id``, ``region_code`` (the
    unit the plan evaluates), ``level`` (the plan's own label; optional for ``end``), ``action``
    and ``reason``. A start with no threshold of that level met (a forecast, 经会商研判可能出现)
    needs a reason; an adjustment and an end always do. The decision records the plan version
    in force.

    One pass names every problem in one 422: the type errors of the fields and the rule errors,
    a rule being skipped when a field it needs is itself bad. Permission on the plan and the unit
    is checked (403) before any rule reads their figures.
    """
    event = get_event(user, event_id, "response.manage")
    fields, errors = validate(RESPONSE_FIELDS, data)
    bad = {error["field"] for error in errors}
    action = None if "action" in bad else fields["action"]
    plan_id = None if "plan_id" in bad else fields["plan_id"]
    region_code = None if "region_code" in bad else fields["region_code"]
    reason = None if "reason" in bad else (fields["reason"] or "")
    label = None if "level" in bad else (fields["level"] or None)

    row = None
    if plan_id is not None:
        row = db.session.scalar(select(ContingencyPlan).filter_by(plan_id=plan_id, active=True))
        if row is None:
            errors.append({"field": "plan_id", "message": "预案不存在或未启用"})
        else:
            require(user, "response.manage", row.jurisdiction_code)
    if region_code is not None:
        require(user, "response.manage", region_code)

    plan = plan_of(row) if row is not None else None
    evaluated = plan is not None and region_code is not None
    evaluation = None
    if evaluated:
        evaluation = next((e for e in evaluate_event(event, [row]) if e["region_code"] == region_code),
                          None)
        if evaluation is None:
            errors.append({"field": "region_code",
                           "message": f"预案 {plan_id} 不评估此区划：应为本次灾害过程中该预案评估的单元"
                                      f"（{UNIT_LABELS.get(row.unit_level, row.unit_level)}，"
                                      f"在 {row.jurisdiction_code} 辖区内）"})
    labels = "、".join(level.label for level in plan.levels) if plan is not None else ""
    level = _level_by_label(plan, label) if plan is not None else None
    if label is not None and plan is not None and level is None:
        errors.append({"field": "level", "message": f"必须是该预案的等级之一：{labels}"})
    elif label is None and "level" not in bad and action in ("start", "adjust"):
        errors.append({"field": "level",
                       "message": f"必填，为该预案的等级之一：{labels}" if labels else "必填"})
    recommended = evaluation["rank"] if evaluation else None
    forecast = bool(level is not None and action != "end"
                    and (recommended is None or recommended > level.rank))
    if action in ("adjust", "end") and reason == "":
        errors.append({"field": "reason", "message": f"{ACTIONS[action]}响应必须说明理由"})
    elif action == "start" and evaluated and forecast and reason == "":
        errors.append({"field": "reason",
                       "message": "当前灾情未达到该等级的启动条件：按预测或会商研判启动必须说明理由"})
    if errors:
        raise Invalid("请求有 %d 处错误。" % len(errors), errors)

    latest = db.session.scalar(lock_for_update(
        select(ResponseAction).filter_by(event_id=event.id, plan_id=plan_id, region_code=region_code)
        .order_by(ResponseAction.sequence.desc()).limit(1)))
    state = "none" if latest is None else ("ended" if latest.action == "end" else "active")
    RESPONSE_MACHINE.next_state(state, action)
    if action in ("start", "adjust") and event.status == "closed":
        raise Conflict("灾害过程已结束，不能启动或调整响应。")
    if action == "adjust" and latest.rank == level.rank:
        raise Conflict(f"当前已是{latest.level}响应，无需调整。",
                       [{"field": "level", "message": "与当前响应等级相同"}])
    if action == "end":
        level = None  # an end closes the response at the level it was in
    decision = ResponseAction(
        event_id=event.id, plan_id=plan_id, plan_version=row.version, contingency_plan_id=row.id,
        jurisdiction_code=row.jurisdiction_code, region_code=region_code,
        sequence=(latest.sequence + 1) if latest else 1, action=action,
        level=level.label if level else latest.level, rank=level.rank if level else latest.rank,
        recommended_rank=recommended, forecast=forecast, reason=reason,
        user_id=getattr(user, "id", None), username=user.username, at=utcnow())
    db.session.add(decision)
    audit.record(user, f"response.{action}", "response", f"{event.id}:{plan_id}:{region_code}",
                 before={"level": latest.level, "state": state} if latest else {"state": state},
                 after={"level": decision.level, "plan_version": row.version,
                        "forecast": forecast, "reason": reason},
                 region_code=region_code)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise RetryableConflict("该响应刚被他人更新，请刷新后重试。") from None
    return decision


# --- 上下级衔接 --------------------------------------------------------------------------------

def alignment_flags(event: Event, evaluations: list[dict] | None = None) -> list[dict]:
    """Every unit whose response is below a covering response (or missing while a covering
    government responds and a plan of its own covers it).

    Responses are grouped by the unit they concern: a response for a unit is compared with the
    responses for that unit and for the regions containing it, by the plans' jurisdictions, with
    :func:`response_levels.misaligned_responses` and :func:`gis.codes.ancestors`.
    """
    active = list(active_responses(event.id).values())
    if not active:
        return []
    evaluations = evaluate_event(event) if evaluations is None else evaluations
    expected: dict[str, set[str]] = defaultdict(set)
    scope_plan: dict[tuple[str, str], str] = {}
    for ev in evaluations:
        expected[ev["region_code"]].add(ev["jurisdiction_code"])
        scope_plan.setdefault((ev["region_code"], ev["jurisdiction_code"]), ev["plan_id"])
    for row in active:
        expected[row.region_code].add(row.jurisdiction_code)
    plans = {row.plan_id: plan_of(row) for row in active_plan_rows()}
    plans.update({row.plan_id: plan_of(db.session.get(ContingencyPlan, row.contingency_plan_id))
                  for row in active})
    wanted = set(expected) | {row.jurisdiction_code for row in active}
    names = dict(db.session.execute(select(Region.code, Region.name)
                                    .where(Region.code.in_(list(wanted)))).all())
    names[codes.NATIONAL] = "国家"
    flags = []
    for scope in sorted(expected):
        chain = [row for row in active if codes.is_within(scope, row.region_code)]
        if not chain:
            continue
        responses = [rl.ActiveResponse(row.jurisdiction_code, row.plan_id, row.rank) for row in chain]
        for flag in rl.misaligned_responses(responses, codes.ancestors, sorted(expected[scope])):
            if flag.jurisdiction_code not in expected[scope]:
                continue
            parent = next((row for row in chain
                           if row.jurisdiction_code == flag.parent_jurisdiction_code
                           and row.plan_id == flag.parent_plan_id
                           and row.rank == flag.required_rank), None)
            own_plan_id = flag.plan_id or scope_plan.get((scope, flag.jurisdiction_code))
            own_plan = plans.get(own_plan_id) if own_plan_id else None
            data = flag.to_dict()
            data.update(
                expected_plan_id=own_plan_id, region_code=scope, region_name=names.get(scope, scope),
                level=_label(own_plan, flag.rank) if flag.rank else None,
                required_level=_label(own_plan, flag.required_rank),
                parent_region_code=parent.region_code if parent else None,
                parent_level=parent.level if parent else rl.rank_zh(flag.required_rank))
            data["message"] = _flag_message(data, names, plans)
            flags.append(data)
    return flags


def _flag_message(flag: dict, names: dict[str, str], plans: dict[str, rl.Plan]) -> str:
    """The flag in words, with region and plan names (the library's text names codes)."""
    def plan_name(plan_id):
        plan = plans.get(plan_id)
        return f"《{plan.name}》" if plan else plan_id

    unit = f"{flag['region_name']}（{flag['region_code']}）"
    parent = (f"上级{names.get(flag['parent_jurisdiction_code'], flag['parent_jurisdiction_code'])}"
              f"已按{plan_name(flag['parent_plan_id'])}启动{level_name(flag['parent_level'])}")
    required = level_name(flag["required_level"])
    if flag["kind"] == "below_parent":
        return (f"{unit}按{plan_name(flag['plan_id'])}启动的{level_name(flag['level'])}低于上级："
                f"{parent}；按上下级衔接，应不低于{required}。")
    return (f"{unit}尚未按{plan_name(flag['expected_plan_id'])}启动响应，而{parent}；"
            f"按上下级衔接，应启动不低于{required}的响应。")


def _label(plan: rl.Plan | None, rank: int) -> str:
    if plan is not None:
        for level in plan.levels:
            if level.rank == rank:
                return level.label
    return rl.rank_zh(rank)


def alignment(user, event_id: int) -> dict:
    event = get_event(user, event_id)
    return {"event_id": event.id,
            "flags": [f for f in alignment_flags(event) if unit_visible(user, f["region_code"])]}


# --- Recompute on every report, and notify -----------------------------------------------------

def _snapshot(evaluations: list[dict]) -> list[dict]:
    return [{"plan_id": e["plan_id"], "plan_version": e["plan_version"],
             "region_code": e["region_code"], "level": e["level"], "rank": e["rank"],
             "triggers": [{k: t[k] for k in ("indicator", "value", "threshold", "level")}
                          for t in e["triggers"]]}
            for e in evaluations]


def event_link(event_id: int) -> str:
    """The path of the event page's response panel (the event page of loss reporting when it
    is there, else this area's own page), built without a request: signals run anywhere."""
    from werkzeug.routing import BuildError

    adapter = current_app.url_map.bind("localhost")
    try:
        return adapter.build("reports.event", {"event_id": event_id}) + "#responses"
    except BuildError:
        return adapter.build("responses.event_page", {"event_id": event_id})


def refresh_assessment(event_id: int) -> list[Notification]:
    """Recompute an event's assessment, store it, and notify the coordinators concerned of each
    plan × unit whose recommended tier is new or higher than both the previous assessment and
    any response in force. One notification per user, event, plan, unit and tier.

    Two reports of one event arriving together may both try to create its first snapshot; the
    loser's transaction is rolled back and run again against the winner's snapshot.
    """
    for _attempt in range(2):
        try:
            return _refresh(event_id)
        except IntegrityError:
            db.session.rollback()
    return _refresh(event_id)


def _refresh(event_id: int) -> list[Notification]:
    event = db.session.get(Event, event_id)
    if event is None:
        return []
    evaluations = evaluate_event(event)
    snapshot = db.session.scalar(lock_for_update(select(Assessment).filter_by(event_id=event_id)))
    previous = {(e["plan_id"], e["region_code"]): e["rank"]
                for e in (snapshot.evaluations if snapshot else [])}
    active = active_responses(event_id)
    made: list[Notification] = []
    for ev in evaluations:
        rank = ev["rank"]
        if rank is None:
            continue
        key = (ev["plan_id"], ev["region_code"])
        if previous.get(key) is not None and previous[key] <= rank:
            continue
        if key in active and active[key].rank <= rank:
            continue
        triggers = "；".join(f"{t['description']}（当前 {_number(t['value'])}）" for t in ev["triggers"])
        made += notify(
            coordinators_covering(ev["region_code"]), NOTIFICATION_KIND,
            f"{ev['region_name']}达到《{ev['plan_name']}》{level_name(ev['level'])}启动条件",
            f"灾害过程「{event.name}」：{triggers}。请会商研判是否启动或调整响应。",
            event_link(event_id),
            dedupe_key=f"response:{event_id}:{ev['plan_id']}:{ev['region_code']}:{rank}")
    if snapshot is None:
        snapshot = Assessment(event_id=event_id)
        db.session.add(snapshot)
    snapshot.evaluations = _snapshot(evaluations)
    snapshot.computed_at = utcnow()
    snapshot.stale = False
    db.session.commit()
    return made


def refresh_stale_assessments(now: datetime | None = None) -> int:
    """The ``responses.refresh`` sweep: recompute every assessment that may be behind its
    reports, once its coalescing window (``ASSESSMENT_MIN_INTERVAL_SECONDS`` after it was
    computed) has passed; return how many.

    An assessment may be behind when a burst of reports marked it stale, or — the safety net —
    when a report was submitted after it was computed, less ``ASSESSMENT_SWEEP_MARGIN_SECONDS``
    (a report is stamped before its transaction commits, so one stamped just before a
    recompute may still have been missed by it). The net makes the outcome depend on the data
    alone: a recompute that ran inside a window anyway (another process with another clock or
    interval) or that cleared a newer stale mark is caught here, at most one sweep later.
    """
    from ..reports import LossReport

    now = now or utcnow()
    interval = timedelta(seconds=current_app.config["ASSESSMENT_MIN_INTERVAL_SECONDS"])
    margin = timedelta(seconds=current_app.config["ASSESSMENT_SWEEP_MARGIN_SECONDS"])
    due = []
    for event_id, computed_at, stale in db.session.execute(
            select(Assessment.event_id, Assessment.computed_at, Assessment.stale)
            .where(Assessment.computed_at <= now - interval).order_by(Assessment.event_id)).all():
        # (one indexed lookup per event: the newest report's stamp)
        newest = db.session.scalar(select(func.max(LossReport.submitted_at))
                                   .where(LossReport.event_id == event_id))
        if stale or (newest is not None and newest > computed_at - margin):
            due.append(event_id)
    for event_id in due:
        refresh_assessment(event_id)
    return len(due)


def level_name(label: str) -> str:
    """``Ⅳ`` → ``Ⅳ级响应``, ``四级`` → ``四级响应``."""
    return f"{label}{'' if label.endswith('级') else '级'}响应"


def _number(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


_SNAPSHOT_AGE = (select(Assessment.__table__.c.computed_at, Assessment.__table__.c.stale)
                 .where(Assessment.__table__.c.event_id == bindparam("event_id")))


def _snapshot_age(event_id: int):
    """``(computed_at, stale)`` of the event's stored assessment, or ``None``: only the two
    columns the coalescing needs, not the evaluations.

    On PostgreSQL, outside a transaction, the single read runs in autocommit: no BEGIN and
    COMMIT round trips for it on every report.
    """
    params = {"event_id": event_id}
    if is_postgres() and not db.session().in_transaction():
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            return connection.execute(_SNAPSHOT_AGE, params).first()
    return db.session.connection().execute(_SNAPSHOT_AGE, params).first()


def _known_stale() -> dict:
    """This process's memo: event id → ``computed_at`` of a snapshot known to be marked stale
    (per application, so that test apps with their own databases never share it)."""
    return current_app.extensions.setdefault("jiuzai.assessment_known_stale", {})


def on_report_submitted(_sender, report=None, **_extra) -> None:
    """``report_submitted`` receiver: the report is committed; recompute its event.

    Recomputing reads every latest report of the event, so during a burst of reports it is
    coalesced: when the snapshot is younger than ``ASSESSMENT_MIN_INTERVAL_SECONDS`` it is only
    marked stale, and the ``responses.refresh`` job (every minute) recomputes it once that
    window has passed and sends the notifications. The assessment endpoint always evaluates the
    latest totals.

    Once this process knows the snapshot is marked stale it reads nothing more for the rest of
    the window: nothing here or in the job recomputes a snapshot inside its window, so the
    report is in the next recompute; should one run inside it anyway, the sweep's safety net
    (a report newer than the snapshot) catches the report a minute later.

    A failure here is logged and rolled back rather than raised: the report stands.
    """
    if report is None:
        return
    try:
        interval = current_app.config["ASSESSMENT_MIN_INTERVAL_SECONDS"]
        window_start = utcnow() - timedelta(seconds=interval)
        known = _known_stale()
        marked = known.get(report.event_id)
        if interval and marked is not None and marked > window_start:
            return
        table = Assessment.__table__
        snapshot = _snapshot_age(report.event_id)
        if interval and snapshot is not None and snapshot.computed_at > window_start:
            if not snapshot.stale:  # one write per burst, not one per report
                db.session.execute(update(table).where(table.c.event_id == report.event_id)
                                   .values(stale=True))
            if db.session().in_transaction():
                # (also ends a read: left open it would end in the teardown's ROLLBACK, and
                # psycopg forgets its prepared statements on every ROLLBACK)
                commit_keeping_loaded()
            known[report.event_id] = snapshot.computed_at
            return
        known.pop(report.event_id, None)
        refresh_assessment(report.event_id)
    except Exception:  # the report is already saved: never turn it into a 500
        db.session.rollback()
        current_app.logger.exception("response assessment failed for event %s", report.event_id)


# --- The event page's panel ---------------------------------------------------------------------

def _bar(term: dict) -> dict:
    threshold = term["threshold"] or 0
    share = 100.0 if threshold <= 0 else min(100.0, 100.0 * term["value"] / threshold)
    return {**term, "percent": round(share, 1)}


def event_panel(user, event: Event) -> dict:
    """What the event page's response panel shows: one card per plan × unit with the tier,
    every criterion against its threshold, the gaps to the next tier, the response in force,
    whether the user may act, and the 衔接 warnings."""
    if not can(user, "response.view"):
        return {"cards": [], "flags": [], "visible": False}
    evaluations = evaluate_event(event)
    active = active_responses(event.id)
    flags = alignment_flags(event, evaluations) if active else []
    evaluations = [e for e in evaluations if unit_visible(user, e["region_code"])]
    flags = [f for f in flags if unit_visible(user, f["region_code"])]
    rows = {row.plan_id: row for row in active_plan_rows()}
    cards = []
    for ev in evaluations:
        key = (ev["plan_id"], ev["region_code"])
        plan = plan_of(rows[ev["plan_id"]])
        current = active.get(key)
        focus = {ev["rank"], ev["next_rank"], current.rank if current else None}
        levels = []
        for level in plan.levels:
            terms = [_bar(t) for t in ev["criteria"] if t["rank"] == level.rank]
            levels.append({"label": level.label, "rank": level.rank, "status": level.status,
                           "status_label": STATUS_LABELS.get(level.status, level.status),
                           "terms": terms, "open": level.rank in focus})
        cards.append({
            "evaluation": ev, "levels": levels, "gaps": list(ev["gaps"])[:4],
            "options": [(lv.label, lv.rank) for lv in plan.levels],
            "active": current.to_dict() if current else None,
            "can_manage": (can(user, "response.manage", ev["jurisdiction_code"])
                           and can(user, "response.manage", ev["region_code"])),
            "flags": [f for f in flags if f["region_code"] == ev["region_code"]
                      and f["jurisdiction_code"] == ev["jurisdiction_code"]],
            "anchor": f"resp-{ev['plan_id']}-{ev['region_code']}",
        })
    return {"cards": cards, "flags": flags, "visible": True, "event_id": event.id}
