"""Relief cycles (救助周期) and their state machine: listing them (county-level; users below the
county see their county's), creating one in ``draft`` with its terms checked against the
standards in force, and firing a transition in the official order (开始申请, 提交民主评议, 开始公示,
退回, 公示期满开始乡审 by a township, 县级审批 by the county with the main roll frozen, 开始发放,
结束, 撤销) under a row lock, its effects and audit in one transaction."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from gis import codes

from ... import audit
from ...database import lock_for_update
from ...errors import Conflict
from ...extensions import db
from ...models_common import utcnow
from ...permissions import require
from ...regions import Region
from ...reports import Event
from ...validation import Field, validate
from ..models import CYCLE_MACHINE, Beneficiary, Cycle, PublicNotice, action_permission
from ..rules import EVENT_KINDS, KINDS, Standards, due_day, is_single_crop, notice_ends, winter_spring_months
from .amounts import preview
from .base import YEAR_FIELD, get_cycle, local_today, refuse, tz, within_clause
from .beneficiaries import cycle_beneficiaries
from .disbursement import cycle_totals, outstanding
from .funds import attach_line
from .rolls import freeze_main_roll
from .winter import spring_festival

CYCLE_FIELDS = {
    "kind": Field("str", choices=tuple(KINDS), description="transitional 过渡期 / winter_spring 冬春 / "
                  "reconstruction 倒损住房重建 / condolence 抚慰金 / drought 旱灾临时救助 / emergency 应急救助"),
    "region_code": Field("code", description="县级区划代码（县定）"),
    "event_id": Field("int", required=False, min=1, description="灾害过程（过渡期、重建、抚慰金、旱灾救助必填）"),
    "year": replace(YEAR_FIELD, required=False),
    "name": Field("str", required=False, default="", max_length=200),
    "starts_on": Field("date", required=False, description="过渡期救助起始日（默认：灾情稳定日）"),
    "months": Field("int", required=False, min=1, max=120, description="过渡期救助月数（默认 3，最长 6）"),
    "months_approval_ref": Field("str", required=False, default="", max_length=100,
                                 description="超过默认月数时的批准文号"),
    "notice_days": Field("int", required=False, min=1, max=365, description="公示天数（不少于配置的最低天数，默认 7）"),
    "pay_to_month": Field("int", required=False, min=1, max=12, description="冬春救助发放截止月份（默认 5，单季作物区 7）"),
    "fund_line_id": Field("int", required=False, min=1, description="资金指标（专款专用）"),
    "note": Field("str", required=False, default="", max_length=4000, multiline=True),
}
ACTIONS = ("open_survey", "submit_review", "start_notice", "return_to_review", "end_notice", "approve", "disburse",
           "close", "cancel")
TRANSITION_FIELDS = {
    "action": Field("str", choices=ACTIONS),
    "reason": Field("str", required=False, default="", max_length=4000, multiline=True, description="撤销或退回的原因"),
    "location": Field("str", required=False, default="", max_length=200, description="公示地点"),
}


def cycle_query(user, *, kind=None, status=None, region_code=None, event_id=None, year=None):
    """The cycles ``user`` may see in ``region_code`` (their own jurisdiction by default)."""
    region_code = region_code or user.region_code
    require(user, "cycle.view", region_code)
    stmt = select(Cycle)
    # Cycles are county-level: below the county, the cycles of the county above are listed.
    if codes.level_of(region_code) in ("township", "village"):
        county = [a for a in codes.ancestors(region_code) if codes.level_of(a) == "county"]
        stmt = stmt.where(Cycle.region_code.in_(county))
    else:
        stmt = stmt.where(within_clause(Cycle.region_code, region_code))
    for column, value in ((Cycle.kind, kind), (Cycle.status, status), (Cycle.event_id, event_id), (Cycle.year, year)):
        if value:
            stmt = stmt.where(column == value)
    return stmt.order_by(Cycle.id.desc())


def cycle_view(user, cycle_id: int) -> dict:
    """A cycle with its number of households, its fund line and what it owes, has paid and owes still."""
    cycle = get_cycle(user, cycle_id)
    count = db.session.scalar(select(func.count(Beneficiary.id)).where(Beneficiary.cycle_id == cycle.id))
    line = cycle.fund_line.to_dict() if cycle.fund_line else None
    return {**cycle.to_dict(), "beneficiary_count": count, "fund_line": line, "totals": cycle_totals(cycle.id)}


# --- creating a cycle ----------------------------------------------------------------------------------

def create_cycle(user, data) -> Cycle:
    """Create a cycle in ``draft`` (a JSON body or the cycles page's form)."""
    require(user, "cycle.manage")
    values, errors = validate(CYCLE_FIELDS, data)
    rules: list[dict] = []
    region = _county(user, values, rules)
    event = _event(values, region, rules)
    terms = _terms(values, region, event, rules)
    refuse(errors, "救助周期有 {n} 处错误。", rules)
    kind, year = values["kind"], values["year"]
    unique_key = f"{kind}:{year if kind == 'winter_spring' else event.id}:{region.code}"
    if db.session.scalar(select(Cycle.id).filter_by(unique_key=unique_key)) is not None:
        raise Conflict("本县已有同一救助项目的进行中周期；更正请用补充名册。",
                       [{"field": "kind", "message": "重复的救助周期"}])
    cycle = Cycle(kind=kind, name=(values["name"] or _default_name(kind, region, event, year))[:200],
                  region_code=region.code, event_id=event.id if event else None,
                  year=year if kind == "winter_spring" else (event.started_at.year if event else None),
                  unique_key=unique_key, status="draft", note=values["note"] or "",
                  created_by_id=getattr(user, "id", None), **terms)
    db.session.add(cycle)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("本县已有同一救助项目的进行中周期。", [{"field": "kind", "message": "重复的救助周期"}]) from None
    if values["fund_line_id"]:
        attach_line(cycle, values["fund_line_id"], "fund_line_id")
    audit.record(user, "cycle.create", "relief_cycle", cycle.id, after=cycle.to_dict(), region_code=cycle.region_code)
    db.session.commit()
    return cycle


def _county(user, values: dict, errors: list[dict]) -> Region | None:
    """The county the cycle is for (救助周期由县级组织); ``user`` must manage it."""
    code = values["region_code"]
    if code is None:
        return None
    region = db.session.get(Region, code)
    if region is None:
        errors.append({"field": "region_code", "message": f"区划 {code} 不存在"})
        return None
    if region.level != "county":
        errors.append({"field": "region_code", "message": "救助周期由县级组织：必须是县级区划代码"})
    require(user, "cycle.manage", region.code)
    return region


def _event(values: dict, region: Region | None, errors: list[dict]):
    """The disaster event of a kind tied to one (过渡期, 重建, 抚慰金, 旱灾)."""
    kind, event_id = values["kind"], values["event_id"]
    if kind not in EVENT_KINDS:
        return None
    if event_id is None:
        errors.append({"field": "event_id", "message": "该救助项目需指定灾害过程"})
        return None
    event = db.session.get(Event, event_id)
    if event is None:
        errors.append({"field": "event_id", "message": f"灾害过程 {event_id} 不存在"})
    elif region is not None and not _touches(event, region.code):
        errors.append({"field": "event_id", "message": "该灾害过程不涉及本县"})
    elif kind == "drought" and event.hazard != "drought":
        errors.append({"field": "event_id", "message": "旱灾临时生活救助只适用于旱灾过程"})
    return event


def _touches(event, county: str) -> bool:
    return any(codes.is_within(code, county) or codes.is_within(county, code) for code in event.region_codes)


def _terms(values: dict, region: Region | None, event, errors: list[dict]) -> dict:
    """The cycle's standards and the terms of its kind, checked against them."""
    config = current_app.config
    std = Standards.from_config(config)
    kind, year = values["kind"], values["year"]
    terms: dict = {"standards": std.to_dict()}
    if kind == "winter_spring" and not (year is not None and 2000 <= year <= 2100):
        errors.append({"field": "year", "message": "冬春救助需指定年度（2000–2100）"})
    if kind == "transitional":
        terms.update(_transitional_terms(values, event, std, errors))
    terms["notice_days"] = values["notice_days"] or config["CYCLE_NOTICE_DAYS"]
    if terms["notice_days"] < config["CYCLE_NOTICE_DAYS"]:
        errors.append({"field": "notice_days", "message": f"公示期不少于 {config['CYCLE_NOTICE_DAYS']} 天"})
    if kind == "winter_spring" and region is not None:
        terms["pay_to_month"] = _pay_to_month(values, region, std, errors)
    return terms


def _transitional_terms(values: dict, event, std: Standards, errors: list[dict]) -> dict:
    starts_on = values["starts_on"]
    if starts_on is None:
        starts_on = event.stabilised_at.astimezone(tz()).date() if event is not None and event.stabilised_at \
            else local_today()
    months = values["months"] or std.transitional_months
    approval_ref = (values["months_approval_ref"] or "").strip() or None
    if not 1 <= months <= std.transitional_max_months:
        errors.append({"field": "months", "message": f"救助月数必须是 1 到 {std.transitional_max_months}"})
    elif months > std.transitional_months and not approval_ref:
        errors.append({"field": "months_approval_ref", "message": f"超过 {std.transitional_months} 个月需填写批准文号"
                                                               f"（最长 {std.transitional_max_months} 个月）"})
    return {"starts_on": starts_on, "months": months, "months_approval_ref": approval_ref}


def _pay_to_month(values: dict, region: Region, std: Standards, errors: list[dict]) -> int:
    """The last month winter-spring relief is paid; the first payment must fall before Spring Festival."""
    config = current_app.config
    pay_to_month, year = values["pay_to_month"], values["year"]
    if pay_to_month is None:
        single = is_single_crop(region.code, config["CYCLE_WINTER_SPRING_SINGLE_CROP_REGIONS"])
        pay_to_month = config["CYCLE_WINTER_SPRING_SINGLE_CROP_TO_MONTH" if single else "CYCLE_WINTER_SPRING_PAY_TO_MONTH"]
    if not isinstance(pay_to_month, int) or not 1 <= pay_to_month <= 12:
        errors.append({"field": "pay_to_month", "message": "发放截止月份必须是 1 到 12"})
    elif year is not None and 2000 <= year <= 2100:
        festival = spring_festival(year)
        first = winter_spring_months(year, std.winter_spring_pay_from_month, pay_to_month)[0]
        if festival and due_day(*first, std.payment_day) >= festival:
            errors.append({"field": "year", "message": f"按配置的发放月份，首次发放不在春节（{festival}）之前"})
    return pay_to_month


def _default_name(kind, region, event, year) -> str:
    if kind == "winter_spring":
        return f"{year}—{year + 1}年度{region.name}{KINDS[kind]}"
    return f"{event.name}·{region.name}{KINDS[kind]}"


# --- transitions ---------------------------------------------------------------------------------------

def transition(user, cycle_id: int, data) -> Cycle:
    """Fire ``data["action"]`` on a cycle's state machine (409 when not allowed or a guard
    refuses); ``reason`` is required to cancel or return, ``location`` says where a notice is posted.
    Each action needs its permission (:func:`~app.cycles.models.action_permission`): the township
    ends the notice, the county approves, the county's coordinators organise the rest."""
    action = data.get("action") if hasattr(data, "get") else None
    cycle = get_cycle(user, cycle_id, action_permission(action) if isinstance(action, str) and action in ACTIONS
                      else "cycle.manage")
    values, errors = validate(TRANSITION_FIELDS, data)
    action, reason = values["action"], values["reason"] or ""
    rules = []
    if action in ("cancel", "return_to_review") and not reason:
        rules.append({"field": "reason", "message": "撤销或退回须说明原因"})
    refuse(errors, "请填写原因。" if not errors else "状态流转有 {n} 处错误。", rules)
    # lock the row (two coordinators pressing at once), then read it as it now stands
    db.session.execute(lock_for_update(select(Cycle.id).where(Cycle.id == cycle.id)))
    db.session.refresh(cycle)
    if action == "close":
        left = outstanding(cycle.id)
        if left:
            raise Conflict(f"尚有 {len(left)} 笔款项未发放（合计 {sum(i.amount_fen for _e, i in left) / 100:.2f} 元），不能结束。")
    before, after = CYCLE_MACHINE.fire(cycle, action)
    EFFECTS[action](user, cycle, utcnow(), values)
    audit.record(user, f"cycle.{action}", "relief_cycle", cycle.id, before={"status": before},
                 after={"status": after}, region_code=cycle.region_code, note=reason or None)
    db.session.commit()
    return cycle


def _start_notice(user, cycle: Cycle, now: datetime, values: dict) -> None:
    """公示: the households approved so far, with what each would be owed, posted until the notice ends."""
    cycle.notice_started_at = now
    cycle.notice_ends_at = notice_ends(now, cycle.notice_days)
    rows = [b for b in cycle_beneficiaries(cycle.id) if b.noticed]
    total = sum(sum(i.amount_fen for i in preview(cycle, b)) for b in rows)
    db.session.add(PublicNotice(cycle_id=cycle.id, posted_at=now, ends_at=cycle.notice_ends_at,
                                location=(values["location"] or "")[:200], household_count=len(rows),
                                total_fen=total, posted_by_id=getattr(user, "id", None)))


def _withdraw_notice(user, cycle: Cycle, now: datetime, values: dict) -> None:
    """退回 or 撤销: the notice of the cycle's roll is withdrawn (a cancelled cycle frees its place)."""
    for notice in db.session.scalars(select(PublicNotice).where(
            PublicNotice.cycle_id == cycle.id, PublicNotice.roll_id.is_(None),
            PublicNotice.withdrawn_at.is_(None))).all():
        notice.withdrawn_at = now
    cycle.notice_started_at = cycle.notice_ends_at = None
    if cycle.status == "cancelled":
        cycle.cancelled_at, cycle.cancel_reason, cycle.unique_key = now, values["reason"], None


def _approve(user, cycle: Cycle, now: datetime, values: dict) -> None:
    """县批: the main roll frozen with the households that passed 民主评议 and 乡审."""
    cycle.approved_at, cycle.approved_by_id = now, getattr(user, "id", None)
    freeze_main_roll(user, cycle, now)


def _disburse(user, cycle: Cycle, now: datetime, values: dict) -> None:
    cycle.disbursing_at = now


def _close(user, cycle: Cycle, now: datetime, values: dict) -> None:
    cycle.closed_at = now


def _nothing(user, cycle: Cycle, now: datetime, values: dict) -> None:
    pass


EFFECTS = {"open_survey": _nothing, "submit_review": _nothing, "start_notice": _start_notice, "end_notice": _nothing,
           "return_to_review": _withdraw_notice, "cancel": _withdraw_notice, "approve": _approve,
           "disburse": _disburse, "close": _close}
