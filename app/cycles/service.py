"""Relief cycles: households, cycles and their state machine, reviews, rolls, notices, complaints
and reconstruction progress. Each function checks permission first, validates everything and
gathers every error, runs one transaction and writes the audit log.

Payments are made by the scheduler (:mod:`app.cycles.payments`); funds live in
:mod:`app.cycles.funds`; the winter-spring needs tables in :mod:`app.cycles.winter`.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from gis import codes

from .. import audit
from ..api import Field
from ..database import lock_for_update
from ..errors import Conflict, Invalid, NotFound, RetryableConflict
from ..extensions import db
from ..models_common import utcnow
from ..notifications import coordinators_covering, notify
from ..permissions import can, require
from ..regions import Region
from . import idcard
from .config import standards as configured_standards
from .models import (CYCLE_MACHINE, Beneficiary, Complaint, Cycle, Household, ProgressReport,
                     PublicNotice, ReconstructionProject, Roll, RollEntry)
from .rules import (DAMAGE_CLASSES, EVENT_KINDS, FLAGS, KINDS, NEEDS, STAGES,
                    Instalment, Standards, add_months, assess, due_day, instalments, is_single_crop,
                    notice_ends, winter_spring_months)

def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def local_today() -> date:
    return utcnow().astimezone(_tz()).date()


def show_id(user, region_code: str) -> bool:
    """May ``user`` see whole identity numbers and accounts in ``region_code``?"""
    return can(user, "household.view_id_number", region_code)


def _within_clause(column, region_code: str):
    prefix = codes.prefix_of(region_code)
    return column.like(prefix + "%") if prefix else column.isnot(None)


# --- households ----------------------------------------------------------------------------------

#: Household fields as the ledger stores them (受灾户台账): the API documents the same.
HOUSEHOLD_SPECS: dict[str, Field] = {
    "village_code": Field("code", description="12 位村级区划代码"),
    "head_name": Field("str", max_length=60, description="户主姓名"),
    "id_number": Field("str", max_length=24, description="户主公民身份号码（18 位，GB 11643 校验；空格忽略）"),
    "members": Field("int", min=1, max=99, description="家庭人口"),
    "damage_class": Field("str", required=False, choices=tuple(DAMAGE_CLASSES),
                          description="住房倒损：collapsed 倒塌 / severely_damaged 严重损坏 / "
                                      "generally_damaged 一般损坏 / none"),
    **{flag: Field("bool", required=False, description=label) for flag, label in FLAGS.items()},
    "contact": Field("str", required=False, max_length=40),
    "address": Field("str", required=False, max_length=200),
    "bank_account": Field("str", required=False, max_length=40, description="一卡通账号"),
    "bank_name": Field("str", required=False, max_length=60),
    "note": Field("str", required=False, max_length=2000, multiline=True),
}


def _clean_household(data: Mapping, errors: list[dict], *, partial: bool = False, prefix: str = "") -> dict:
    """Validate household fields (all of them, or those present when ``partial``)."""
    out: dict = {}

    def bad(name, message):
        errors.append({"field": prefix + name, "message": message})

    def present(name):
        return name in data and data[name] is not None

    def value(name):
        """The field checked by its spec; ``None`` (with an error) when bad."""
        return HOUSEHOLD_SPECS[name].convert(prefix + name, data[name], errors)

    required = ("village_code", "head_name", "id_number", "members")
    for name in required:
        if not partial and not present(name):
            bad(name, "必填")
    if present("village_code"):
        code = value("village_code")
        if code is not None:
            region = db.session.get(Region, code)
            if region is None:
                bad("village_code", f"村 {code} 不存在")
            elif region.level != "village":
                bad("village_code", "必须是 12 位村级区划代码")
            else:
                out["village_code"] = code
    if present("head_name"):
        name = value("head_name")
        if name is not None:
            out["head_name"] = name
    if present("id_number"):
        number = value("id_number")
        if number is not None:
            try:
                out["id_number"] = idcard.normalise(number)
            except idcard.IdNumberError as exc:
                bad("id_number", str(exc))
    if present("members"):
        members = value("members")
        if members is not None:
            out["members"] = members
    if present("damage_class"):
        damage = value("damage_class")
        if damage is not None:
            out["damage_class"] = damage
    elif not partial:
        out["damage_class"] = "none"
    for flag in FLAGS:
        if present(flag):
            checked = value(flag)
            if checked is not None:
                out[flag] = checked
        elif not partial:
            out[flag] = False
    for name in ("contact", "address", "bank_account", "bank_name", "note"):
        if present(name):
            text = value(name)
            if text is None:
                continue
            if name == "bank_account" and text and not text.replace(" ", "").isdigit():
                bad(name, "账号只能包含数字")
            else:
                out[name] = text.replace(" ", "") if name == "bank_account" else text
        elif not partial:
            out[name] = ""
    return out


_ID = Field("int", min=1)


def _household_ref(value) -> Household | None:
    """The household a body names by id (``None`` for anything but an id within its column)."""
    household_id = _ID.convert("household_id", value, [])
    return db.session.get(Household, household_id) if household_id is not None else None


def household_query(user, *, region_code: str | None = None, q: str | None = None,
                    damage_class: str | None = None):
    region_code = region_code or user.region_code
    require(user, "household.view", region_code)
    stmt = select(Household).where(_within_clause(Household.village_code, region_code))
    if q:
        stmt = stmt.where(or_(Household.head_name.contains(q), Household.id_number == q.upper()))
    if damage_class:
        stmt = stmt.where(Household.damage_class == damage_class)
    return stmt.order_by(Household.village_code, Household.id)


def get_household(user, household_id: int, action: str = "household.view") -> Household:
    household = db.session.get(Household, household_id)
    if household is None:
        raise NotFound(f"受灾户 {household_id} 不存在。")
    require(user, action, household.village_code)
    return household


def create_household(user, data: Mapping) -> Household:
    errors: list[dict] = []
    clean = _clean_household(data, errors)
    if "village_code" in clean:
        require(user, "household.edit", clean["village_code"])
    if errors:
        raise Invalid(f"受灾户信息有 {len(errors)} 处错误。", errors)
    if db.session.scalar(select(Household.id).filter_by(id_number=clean["id_number"])) is not None:
        raise Conflict("该身份证号码已在受灾户台账中。",
                       [{"field": "id_number", "message": "身份证号码已登记（台账内唯一）"}])
    household = Household(**clean, created_by_id=getattr(user, "id", None))
    db.session.add(household)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("该身份证号码已在受灾户台账中。",
                       [{"field": "id_number", "message": "身份证号码已登记（台账内唯一）"}]) from None
    audit.record(user, "household.create", "household", household.id,
                 after={**household.to_dict(), "id_number": idcard.mask_id(household.id_number)},
                 region_code=household.village_code)
    db.session.commit()
    return household


def update_household(user, household_id: int, data: Mapping) -> Household:
    household = get_household(user, household_id, "household.edit")
    errors: list[dict] = []
    clean = _clean_household(data, errors, partial=True)
    if "village_code" in clean:
        require(user, "household.edit", clean["village_code"])
    if errors:
        raise Invalid(f"受灾户信息有 {len(errors)} 处错误。", errors)
    if "id_number" in clean and clean["id_number"] != household.id_number and db.session.scalar(
            select(Household.id).filter_by(id_number=clean["id_number"])) is not None:
        raise Conflict("该身份证号码已在受灾户台账中。",
                       [{"field": "id_number", "message": "身份证号码已登记（台账内唯一）"}])
    before = {k: getattr(household, k) for k in clean}
    for key, value in clean.items():
        setattr(household, key, value)
    for record in (before, clean):
        if "id_number" in record:
            record["id_number"] = idcard.mask_id(record["id_number"])
    audit.record(user, "household.update", "household", household.id, before=before, after=dict(clean),
                 region_code=household.village_code)
    db.session.commit()
    return household


def import_households(user, records: list[dict], read_errors: Iterable[dict] = (), *,
                      mode: str = "create") -> dict:
    """Import ledger rows (each with ``_row``, and ``_unreadable``: fields already reported in
    ``read_errors``), all or nothing.

    ``mode="create"`` refuses an identity number already in the registry; ``"upsert"`` updates
    that household instead. Errors name the row: ``{"field": "第 5 行 身份证号码", ...}``.
    """
    from .excel import LABELS

    require(user, "household.edit", user.region_code)
    if mode not in ("create", "upsert"):
        raise Invalid("导入方式有误。", [{"field": "mode", "message": "必须是 create 或 upsert"}])
    errors = list(read_errors)
    seen: dict[str, int] = {}
    cleaned: list[tuple[int, dict]] = []
    for record in records:
        row = record["_row"]
        row_errors: list[dict] = []
        data = dict(record)
        unreadable = set(record.get("_unreadable", set()))
        if not data.get("village_code") and data.get("village_name"):
            code = _resolve_village(user, data.get("township_name") or "", data["village_name"], row_errors)
            if code:
                data["village_code"] = code
            else:
                unreadable.add("village_code")
                errors.extend({"field": f"第 {row} 行 {LABELS['village_code']}", "message": e["message"]}
                              for e in row_errors)
                row_errors = []
        clean = _clean_household(data, row_errors)
        if clean.get("village_code") and not can(user, "household.edit", clean["village_code"]):
            row_errors.append({"field": "village_code", "message": "不在本人管辖范围内"})
        number = clean.get("id_number")
        if number:
            if number in seen:
                row_errors.append({"field": "id_number", "message": f"与第 {seen[number]} 行重复"})
            seen.setdefault(number, row)
        row_errors = [e for e in row_errors if e["field"] not in unreadable]
        for error in row_errors:
            label = LABELS.get(error["field"], error["field"])
            errors.append({"field": f"第 {row} 行 {label}", "message": error["message"]})
        if not row_errors and not unreadable:
            cleaned.append((row, clean))
    existing = {h.id_number: h for h in db.session.scalars(
        select(Household).where(Household.id_number.in_([c["id_number"] for _, c in cleaned]))).all()}
    if mode == "create":
        for row, clean in cleaned:
            if clean["id_number"] in existing:
                errors.append({"field": f"第 {row} 行 身份证号码", "message": "已在受灾户台账中（可选择“更新已有户”）"})
    else:
        for row, clean in cleaned:
            found = existing.get(clean["id_number"])
            if found is not None and not can(user, "household.edit", found.village_code):
                errors.append({"field": f"第 {row} 行 身份证号码", "message": "已登记在本人管辖范围以外的村"})
    if not records and not errors:
        errors.append({"field": "file", "message": "文件中没有数据行"})
    if errors:
        errors.sort(key=_row_order)
        raise Invalid(f"台账有 {len(errors)} 处错误，未导入任何数据。", errors)
    created = updated = 0
    for _row, clean in cleaned:
        found = existing.get(clean["id_number"])
        if found is None:
            db.session.add(Household(**clean, created_by_id=getattr(user, "id", None)))
            created += 1
        else:
            for key, value in clean.items():
                setattr(found, key, value)
            updated += 1
    audit.record(user, "household.import", "household", "-", after={"created": created, "updated": updated},
                 region_code=user.region_code)
    db.session.commit()
    return {"created": created, "updated": updated, "rows": len(records)}


def _row_order(error: dict):
    text = error["field"]
    if text.startswith("第 "):
        try:
            return (int(text.split(" ")[1]), text)
        except ValueError:
            pass
    return (0, text)


def _resolve_village(user, township_name: str, village_name: str, errors: list[dict]) -> str | None:
    stmt = select(Region).where(Region.level == "village", Region.name == village_name.strip(),
                                _within_clause(Region.code, user.region_code))
    candidates = db.session.scalars(stmt).all()
    if township_name:
        towns = {r.code for r in db.session.scalars(select(Region).where(
            Region.level == "township", Region.name == township_name.strip())).all()}
        candidates = [c for c in candidates if c.parent_code in towns]
    if len(candidates) == 1:
        return candidates[0].code
    message = "在管辖范围内找不到该村" if not candidates else "村名不唯一，请填写村代码"
    errors.append({"field": "village_code", "message": message})
    return None


# --- cycles ---------------------------------------------------------------------------------------------

def cycle_query(user, *, kind=None, status=None, region_code=None, event_id=None, year=None):
    region_code = region_code or user.region_code
    require(user, "cycle.view", region_code)
    stmt = select(Cycle)
    # Cycles are county-level: below the county, the cycles of the county above are listed.
    if codes.level_of(region_code) in ("township", "village"):
        county = [a for a in codes.ancestors(region_code) if codes.level_of(a) == "county"]
        stmt = stmt.where(Cycle.region_code.in_(county))
    else:
        stmt = stmt.where(_within_clause(Cycle.region_code, region_code))
    if kind:
        stmt = stmt.where(Cycle.kind == kind)
    if status:
        stmt = stmt.where(Cycle.status == status)
    if event_id:
        stmt = stmt.where(Cycle.event_id == event_id)
    if year:
        stmt = stmt.where(Cycle.year == year)
    return stmt.order_by(Cycle.id.desc())


#: Actions that users of a township or village inside a cycle's county may take on the cycle
#: (seeing it, putting their own households forward); deciding stays with the county.
_BELOW_COUNTY = ("cycle.view", "household.edit")


def _can_see_cycle(user, cycle: Cycle, action: str) -> bool:
    if can(user, action, cycle.region_code):
        return True
    return (action in _BELOW_COUNTY and can(user, action, user.region_code)
            and codes.level_of(user.region_code) in ("township", "village")
            and codes.is_within(user.region_code, cycle.region_code))


def get_cycle(user, cycle_id: int, action: str = "cycle.view") -> Cycle:
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound(f"救助周期 {cycle_id} 不存在。")
    if not _can_see_cycle(user, cycle, action):
        require(user, action, cycle.region_code)
    return cycle


def _event_touches(event, county: str) -> bool:
    return any(codes.is_within(code, county) or codes.is_within(county, code) for code in event.region_codes)


def create_cycle(user, data: Mapping) -> Cycle:
    """Create a cycle in ``draft``. ``data`` as parsed by the API (dates already dates)."""
    from ..reports import Event

    config = current_app.config
    errors: list[dict] = []
    kind = data.get("kind")
    if kind not in KINDS:
        errors.append({"field": "kind", "message": "必须是以下之一：" + ", ".join(KINDS)})
    region = None
    try:
        region_code = codes.normalise(data.get("region_code") or "")
        region = db.session.get(Region, region_code)
        if region is None:
            errors.append({"field": "region_code", "message": f"区划 {region_code} 不存在"})
        elif region.level != "county":
            errors.append({"field": "region_code", "message": "救助周期由县级组织：必须是县级区划代码"})
    except codes.CodeError as exc:
        errors.append({"field": "region_code", "message": str(exc)})
    if region is not None:
        require(user, "cycle.manage", region.code)
    event = None
    if kind in EVENT_KINDS:
        event_id = _ID.convert("event_id", data["event_id"], errors) if data.get("event_id") else None
        if not data.get("event_id"):
            errors.append({"field": "event_id", "message": "该救助项目需指定灾害过程"})
        elif event_id is not None:
            event = db.session.get(Event, event_id)
            if event is None:
                errors.append({"field": "event_id", "message": f"灾害过程 {data['event_id']} 不存在"})
            elif region is not None and not _event_touches(event, region.code):
                errors.append({"field": "event_id", "message": "该灾害过程不涉及本县"})
            elif kind == "drought" and event.hazard != "drought":
                errors.append({"field": "event_id", "message": "旱灾临时生活救助只适用于旱灾过程"})
    year = data.get("year")
    if kind == "winter_spring":
        if not isinstance(year, int) or not 2000 <= year <= 2100:
            errors.append({"field": "year", "message": "冬春救助需指定年度（2000–2100）"})
    std = configured_standards(config)
    months = data.get("months")
    starts_on = data.get("starts_on")
    approval_ref = (data.get("months_approval_ref") or "").strip() or None
    if kind == "transitional":
        if starts_on is None:
            if event is not None and event.stabilised_at:
                starts_on = event.stabilised_at.astimezone(_tz()).date()
            else:
                starts_on = local_today()
        months = months or std.transitional_months
        if not isinstance(months, int) or not 1 <= months <= std.transitional_max_months:
            errors.append({"field": "months", "message": f"救助月数必须是 1 到 {std.transitional_max_months}"})
        elif months > std.transitional_months and not approval_ref:
            errors.append({"field": "months_approval_ref",
                           "message": f"超过 {std.transitional_months} 个月需填写批准文号（最长 {std.transitional_max_months} 个月）"})
    notice_days = data.get("notice_days") or config["CYCLE_NOTICE_DAYS"]
    if not isinstance(notice_days, int) or notice_days < config["CYCLE_NOTICE_DAYS"]:
        errors.append({"field": "notice_days", "message": f"公示期不少于 {config['CYCLE_NOTICE_DAYS']} 天"})
    pay_to_month = data.get("pay_to_month")
    if kind == "winter_spring" and region is not None:
        if pay_to_month is None:
            single = is_single_crop(region.code, config["CYCLE_WINTER_SPRING_SINGLE_CROP_REGIONS"])
            pay_to_month = config["CYCLE_WINTER_SPRING_SINGLE_CROP_TO_MONTH" if single else
                                  "CYCLE_WINTER_SPRING_PAY_TO_MONTH"]
        if not isinstance(pay_to_month, int) or not 1 <= pay_to_month <= 12:
            errors.append({"field": "pay_to_month", "message": "发放截止月份必须是 1 到 12"})
        elif isinstance(year, int) and 2000 <= year <= 2100:
            festival = config["CYCLE_SPRING_FESTIVAL"].get(str(year + 1))
            first = winter_spring_months(year, std.winter_spring_pay_from_month, pay_to_month)[0]
            if festival and due_day(*first, std.payment_day) >= date.fromisoformat(festival):
                errors.append({"field": "year", "message": f"按配置的发放月份，首次发放不在春节（{festival}）之前"})
    if errors:
        raise Invalid(f"救助周期有 {len(errors)} 处错误。", errors)
    key_part = year if kind == "winter_spring" else event.id
    unique_key = f"{kind}:{key_part}:{region.code}"
    if db.session.scalar(select(Cycle.id).filter_by(unique_key=unique_key)) is not None:
        raise Conflict("本县已有同一救助项目的进行中周期；更正请用补充名册。",
                       [{"field": "kind", "message": "重复的救助周期"}])
    name = (data.get("name") or "").strip() or _default_name(kind, region, event, year)
    cycle = Cycle(kind=kind, name=name[:200], region_code=region.code, event_id=event.id if event else None,
                  year=year if kind == "winter_spring" else (event.started_at.year if event else None),
                  unique_key=unique_key, status="draft", standards=std.to_dict(),
                  starts_on=starts_on if kind == "transitional" else None,
                  months=months if kind == "transitional" else None,
                  months_approval_ref=approval_ref if kind == "transitional" else None,
                  pay_to_month=pay_to_month if kind == "winter_spring" else None,
                  notice_days=notice_days, note=(data.get("note") or "").strip(),
                  created_by_id=getattr(user, "id", None))
    db.session.add(cycle)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("本县已有同一救助项目的进行中周期。", [{"field": "kind", "message": "重复的救助周期"}]) from None
    if data.get("fund_line_id"):
        from .funds import _attach_line

        _attach_line(cycle, data["fund_line_id"], "fund_line_id")
    audit.record(user, "cycle.create", "relief_cycle", cycle.id, after=cycle.to_dict(), region_code=cycle.region_code)
    db.session.commit()
    return cycle


def _default_name(kind, region, event, year) -> str:
    if kind == "winter_spring":
        return f"{year}—{year + 1}年度{region.name}{KINDS[kind]}"
    return f"{event.name}·{region.name}{KINDS[kind]}"


def transition(user, cycle_id: int, action: str, data: Mapping | None = None) -> Cycle:
    """Fire ``action`` on a cycle's state machine (409 when not allowed or a guard refuses)."""
    data = data or {}
    cycle = get_cycle(user, cycle_id, "cycle.manage")
    # lock the row (two coordinators pressing at once), then read it as it now stands
    db.session.execute(lock_for_update(select(Cycle.id).where(Cycle.id == cycle.id)))
    db.session.refresh(cycle)
    if action not in CYCLE_MACHINE.labels and action not in {a for (_s, a) in CYCLE_MACHINE.transitions}:
        raise Invalid("未知的操作。", [{"field": "action", "message": "必须是以下之一：" + ", ".join(
            sorted({a for (_s, a) in CYCLE_MACHINE.transitions}))}])
    reason = (data.get("reason") or "").strip()
    if action in ("cancel", "return_to_review") and not reason:
        raise Invalid("请填写原因。", [{"field": "reason", "message": "撤销或退回须说明原因"}])
    if action == "close":
        from .payments import outstanding

        left = outstanding(cycle.id)
        if left:
            raise Conflict(f"尚有 {len(left)} 笔款项未发放（合计 {sum(i.amount_fen for _e, i in left) / 100:.2f} 元），不能结束。")
    before, after = CYCLE_MACHINE.fire(cycle, action)
    now = utcnow()
    if action == "start_notice":
        cycle.notice_started_at = now
        cycle.notice_ends_at = notice_ends(now, cycle.notice_days)
        rows = [b for b in _beneficiaries(cycle.id) if b.approved]
        total = sum(sum(i.amount_fen for i in preview(cycle, b)) for b in rows)
        db.session.add(PublicNotice(cycle_id=cycle.id, posted_at=now, ends_at=cycle.notice_ends_at,
                                    location=(data.get("location") or "").strip()[:200],
                                    household_count=len(rows), total_fen=total,
                                    posted_by_id=getattr(user, "id", None)))
    elif action in ("return_to_review", "cancel"):
        for notice in db.session.scalars(select(PublicNotice).where(
                PublicNotice.cycle_id == cycle.id, PublicNotice.roll_id.is_(None),
                PublicNotice.withdrawn_at.is_(None))).all():
            notice.withdrawn_at = now
        cycle.notice_started_at = cycle.notice_ends_at = None
        if action == "cancel":
            cycle.cancelled_at, cycle.cancel_reason, cycle.unique_key = now, reason, None
    elif action == "approve":
        cycle.approved_at, cycle.approved_by_id = now, getattr(user, "id", None)
        _freeze_main_roll(user, cycle, now)
    elif action == "disburse":
        cycle.disbursing_at = now
    elif action == "close":
        cycle.closed_at = now
    audit.record(user, f"cycle.{action}", "relief_cycle", cycle.id, before={"status": before},
                 after={"status": after}, region_code=cycle.region_code, note=reason or None)
    db.session.commit()
    return cycle


# --- beneficiaries and reviews ---------------------------------------------------------------------------

def _beneficiaries(cycle_id: int) -> list[Beneficiary]:
    return db.session.scalars(select(Beneficiary).where(Beneficiary.cycle_id == cycle_id)
                              .order_by(Beneficiary.id)).all()


def default_needs(household: Household) -> dict[str, bool]:
    heavy = household.damage_class in ("collapsed", "severely_damaged")
    return {"food": heavy or household.no_livelihood or household.no_self_rescue,
            "clothing": heavy or household.no_housing or household.no_self_rescue,
            "heating": household.damage_class != "none" or household.no_housing}


def add_beneficiaries(user, cycle_id: int, items: list) -> list[Beneficiary]:
    """Put households forward in a cycle (户报), during draft or survey; eligibility is assessed
    by the rules and kept with the reasons."""
    cycle = get_cycle(user, cycle_id, "household.edit")
    if cycle.status not in ("draft", "survey"):
        raise Conflict(f"救助周期处于「{cycle.status_label}」状态，不能再登记救助对象。")
    if not isinstance(items, list) or not items:
        raise Invalid("请至少登记一户。", [{"field": "items", "message": "必须是非空数组"}])
    errors: list[dict] = []
    already = {b.household_id for b in _beneficiaries(cycle.id)}
    made: list[Beneficiary] = []
    seen: set[int] = set()
    for index, item in enumerate(items):
        where = f"items[{index}]."
        if not isinstance(item, dict):
            errors.append({"field": f"items[{index}]", "message": "必须是对象"})
            continue
        household = _household_ref(item.get("household_id"))
        if household is None:
            errors.append({"field": where + "household_id", "message": "受灾户不存在"})
            continue
        if not codes.is_within(household.village_code, cycle.region_code):
            errors.append({"field": where + "household_id", "message": "该户不在本周期的县内"})
            continue
        if not can(user, "household.edit", household.village_code):
            errors.append({"field": where + "household_id", "message": "该户不在本人管辖范围内"})
            continue
        if household.id in already or household.id in seen:
            errors.append({"field": where + "household_id", "message": "该户已登记在本周期"})
            continue
        seen.add(household.id)
        persons = item.get("persons", household.members)
        if isinstance(persons, bool) or not isinstance(persons, int) or not 1 <= persons <= household.members:
            errors.append({"field": where + "persons", "message": f"救助人数必须是 1 到家庭人口 {household.members}"})
            continue
        deceased = item.get("deceased", 0)
        if isinstance(deceased, bool) or not isinstance(deceased, int) or not 0 <= deceased <= 99:
            errors.append({"field": where + "deceased", "message": "遇难人数必须是 0 到 99 的整数"})
            continue
        needs = item.get("needs")
        if needs is None:
            needs = default_needs(household) if cycle.kind == "winter_spring" else {}
        elif not isinstance(needs, dict) or set(needs) - set(NEEDS) or not all(isinstance(v, bool) for v in needs.values()):
            errors.append({"field": where + "needs", "message": "需救助类别只能是 food、clothing、heating（true/false）"})
            continue
        result = assess(cycle.kind, household.facts(), deceased=deceased)
        made.append(Beneficiary(cycle_id=cycle.id, household_id=household.id, persons=persons,
                                deceased=deceased, needs=needs, eligible=result.eligible,
                                reasons=list(result.reasons), priority=result.priority,
                                work_type=result.work_type, added_by_id=getattr(user, "id", None)))
    if errors:
        raise Invalid(f"登记有 {len(errors)} 处错误，未登记任何一户。", errors)
    db.session.add_all(made)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise RetryableConflict("有受灾户已被同时登记到本周期，请刷新后重试。") from None
    audit.record(user, "cycle.beneficiaries.add", "relief_cycle", cycle.id,
                 after={"household_ids": [b.household_id for b in made]}, region_code=cycle.region_code)
    db.session.commit()
    return made


def propose(user, cycle_id: int) -> list[Beneficiary]:
    """Put forward every eligible household of the registry in the cycle's county that is not in
    the cycle yet (condolence needs the number of deaths, so it is entered by hand)."""
    cycle = get_cycle(user, cycle_id, "household.edit")
    if cycle.kind == "condolence":
        raise Conflict("抚慰金需逐户登记遇难人数，不能自动生成。")
    if cycle.status not in ("draft", "survey"):
        raise Conflict(f"救助周期处于「{cycle.status_label}」状态，不能再登记救助对象。")
    already = {b.household_id for b in _beneficiaries(cycle.id)}
    candidates = db.session.scalars(select(Household).where(
        _within_clause(Household.village_code, cycle.region_code)).order_by(Household.id)).all()
    items = [{"household_id": h.id} for h in candidates
             if h.id not in already and codes.is_within(h.village_code, cycle.region_code)
             and can(user, "household.edit", h.village_code) and assess(cycle.kind, h.facts()).eligible]
    if not items:
        return []
    return add_beneficiaries(user, cycle_id, items)


def remove_beneficiary(user, cycle_id: int, household_id: int) -> None:
    cycle = get_cycle(user, cycle_id, "household.edit")
    if cycle.status not in ("draft", "survey"):
        raise Conflict(f"救助周期处于「{cycle.status_label}」状态，不能再删除救助对象。")
    row = db.session.scalar(select(Beneficiary).filter_by(cycle_id=cycle.id, household_id=household_id))
    if row is None:
        raise NotFound("该户未登记在本周期。")
    require(user, "household.edit", row.household.village_code)
    db.session.delete(row)
    audit.record(user, "cycle.beneficiaries.remove", "relief_cycle", cycle.id,
                 before={"household_id": household_id}, region_code=cycle.region_code)
    db.session.commit()


def record_reviews(user, cycle_id: int, stage: str, decisions: list) -> list[Beneficiary]:
    """Record the village review (村评, ``stage="village"``) or the township review (乡审,
    ``"township"``) of households in a cycle under review."""
    cycle = get_cycle(user, cycle_id, "cycle.manage")
    errors: list[dict] = []
    if stage not in ("village", "township"):
        errors.append({"field": "stage", "message": "必须是 village（村评）或 township（乡审）"})
    if not isinstance(decisions, list) or not decisions:
        errors.append({"field": "decisions", "message": "必须是非空数组"})
    if errors:
        raise Invalid("评议审核有误。", errors)
    if cycle.status != "review":
        raise Conflict(f"救助周期处于「{cycle.status_label}」状态，不在评议审核阶段。")
    rows = {b.household_id: b for b in _beneficiaries(cycle.id)}
    now = utcnow()
    changes = []
    for index, item in enumerate(decisions):
        where = f"decisions[{index}]."
        if not isinstance(item, dict):
            errors.append({"field": f"decisions[{index}]", "message": "必须是对象"})
            continue
        household_id = _ID.convert("household_id", item.get("household_id"), [])
        row = rows.get(household_id) if household_id is not None else None
        decision = item.get("decision")
        if row is None:
            errors.append({"field": where + "household_id", "message": "该户未登记在本周期"})
            continue
        if decision not in ("approve", "reject"):
            errors.append({"field": where + "decision", "message": "必须是 approve 或 reject"})
            continue
        if decision == "approve" and not row.eligible:
            errors.append({"field": where + "decision", "message": "不符合救助条件：" + "；".join(row.reasons)})
            continue
        if stage == "village" and row.township_decision is not None:
            errors.append({"field": where + "household_id", "message": "乡镇已审核，不能再改村评结果"})
            continue
        if stage == "township" and row.village_decision != "approve":
            errors.append({"field": where + "household_id", "message": "村评未通过或尚未村评"})
            continue
        changes.append((row, decision, str(item.get("note") or "").strip()[:500]))
    if errors:
        raise Invalid(f"评议审核有 {len(errors)} 处错误，未记录任何结果。", errors)
    for row, decision, note in changes:
        setattr(row, f"{stage}_decision", decision)
        setattr(row, f"{stage}_note", note or None)
        setattr(row, f"{stage}_at", now)
    audit.record(user, f"cycle.review.{stage}", "relief_cycle", cycle.id,
                 after={"decisions": [{"household_id": r.household_id, "decision": d} for r, d, _n in changes]},
                 region_code=cycle.region_code)
    db.session.commit()
    return [r for r, _d, _n in changes]


# --- amounts, rolls and notices ------------------------------------------------------------------------------

def _standards(cycle: Cycle) -> Standards:
    return Standards.from_dict(cycle.standards)


def plan(cycle: Cycle, *, persons: int, deceased: int = 0, damage_class: str = "none",
         from_month: int = 0, to_month: int | None = None, due_on: date | None = None) -> tuple[list[Instalment], dict]:
    """The instalments one household is owed in ``cycle``, and the basis kept with the roll."""
    std = _standards(cycle)
    basis: dict = {}
    if cycle.kind == "transitional":
        to_month = cycle.months if to_month is None else to_month
        found = instalments("transitional", std, persons=persons, starts_on=cycle.starts_on,
                            from_month=from_month, to_month=to_month)
        basis = {"daily": std.transitional_daily_fen / 100, "starts_on": cycle.starts_on.isoformat(),
                 "from_month": from_month, "to_month": to_month,
                 "ends_on": add_months(cycle.starts_on, to_month).isoformat()}
    elif cycle.kind == "winter_spring":
        found = instalments("winter_spring", std, persons=persons, year=cycle.year, pay_to_month=cycle.pay_to_month)
        last = found[-1].due_on
        basis = {"per_person": std.winter_spring_per_person_fen / 100, "months": len(found),
                 "ends_on": add_months(last.replace(day=1), 1).isoformat()}
    elif cycle.kind == "reconstruction":
        found = instalments("reconstruction", std, damage_class=damage_class)
        basis = {"subsidy": sum(i.amount_fen for i in found) / 100}
    else:
        found = instalments(cycle.kind, std, persons=persons, deceased=deceased, approved_on=due_on or local_today())
        basis = {"per_death" if cycle.kind == "condolence" else "per_person":
                 (std.condolence_per_death_fen if cycle.kind == "condolence" else std.drought_per_person_fen) / 100}
    return found, basis


def preview(cycle: Cycle, beneficiary: Beneficiary) -> list[Instalment]:
    found, _basis = plan(cycle, persons=beneficiary.persons, deceased=beneficiary.deceased,
                         damage_class=beneficiary.household.damage_class)
    return found


def _entry(cycle: Cycle, roll: Roll, household: Household, *, persons: int, deceased: int,
           found: list[Instalment], basis: dict, work_type: str | None) -> RollEntry:
    return RollEntry(roll_id=roll.id, cycle_id=cycle.id, household_id=household.id,
                     head_name=household.head_name, id_number=household.id_number,
                     village_code=household.village_code, persons=persons, deceased=deceased,
                     damage_class=household.damage_class, work_type=work_type, basis=basis,
                     instalments=[i.to_dict() for i in found], total_fen=sum(i.amount_fen for i in found))


def _freeze_main_roll(user, cycle: Cycle, now: datetime) -> Roll:
    """The snapshot taken at approval (县定): written once, frozen from the start."""
    today = now.astimezone(_tz()).date()
    planned = []
    for b in _beneficiaries(cycle.id):
        if not b.approved:
            continue
        found, basis = plan(cycle, persons=b.persons, deceased=b.deceased,
                            damage_class=b.household.damage_class, due_on=today)
        basis.update({"reasons": b.reasons, "needs": b.needs or {}, "priority": b.priority})
        planned.append((b, found, basis))
    roll = Roll(cycle_id=cycle.id, seq=0, kind="main", purpose="approval", status="frozen",
                reason="县级审定", frozen_at=now, frozen_by_id=getattr(user, "id", None),
                notice_started_at=cycle.notice_started_at, notice_ends_at=cycle.notice_ends_at,
                created_by_id=getattr(user, "id", None), entry_count=len(planned),
                total_fen=sum(i.amount_fen for _b, found, _basis in planned for i in found))
    db.session.add(roll)
    db.session.flush()
    for b, found, basis in planned:
        db.session.add(_entry(cycle, roll, b.household, persons=b.persons, deceased=b.deceased, found=found,
                              basis=basis, work_type=b.work_type))
        if cycle.kind == "reconstruction":
            db.session.add(ReconstructionProject(cycle_id=cycle.id, household_id=b.household_id,
                                                 work_type=b.work_type or "rebuild", stage="verified",
                                                 verified_at=now, last_report_at=now))
    # the notice that preceded approval now refers to the roll it published
    for notice in db.session.scalars(select(PublicNotice).where(
            PublicNotice.cycle_id == cycle.id, PublicNotice.roll_id.is_(None),
            PublicNotice.withdrawn_at.is_(None))).all():
        notice.roll_id = roll.id
    return roll


def rolls(user, cycle_id: int) -> list[Roll]:
    cycle = get_cycle(user, cycle_id)
    return db.session.scalars(select(Roll).where(Roll.cycle_id == cycle.id).order_by(Roll.seq)).all()


def get_roll(user, roll_id: int, action: str = "cycle.view") -> tuple[Roll, Cycle]:
    roll = db.session.get(Roll, roll_id)
    if roll is None:
        raise NotFound(f"名册 {roll_id} 不存在。")
    return roll, get_cycle(user, roll.cycle_id, action)


def roll_entries(roll_id: int) -> list[RollEntry]:
    return db.session.scalars(select(RollEntry).where(RollEntry.roll_id == roll_id).order_by(RollEntry.id)).all()


def create_supplementary(user, cycle_id: int, data: Mapping) -> Roll:
    """A supplementary roll (补充名册) after approval: ``add`` households, ``adjust`` (补发) an
    amount, or ``extend`` transitional relief up to the maximum months with a recorded approval.
    It is published for notice and frozen by :func:`approve_roll` once the notice ends."""
    cycle = get_cycle(user, cycle_id, "cycle.manage")
    config = current_app.config
    purpose = data.get("purpose")
    reason = (data.get("reason") or "").strip()
    approval_ref = (data.get("approval_ref") or "").strip() or None
    entries = data.get("entries") or []
    errors: list[dict] = []
    if purpose not in ("add", "adjust", "extend"):
        errors.append({"field": "purpose", "message": "必须是 add（增补）、adjust（补发）或 extend（延长）"})
    if not reason:
        errors.append({"field": "reason", "message": "必填"})
    if purpose == "extend" and not approval_ref:
        errors.append({"field": "approval_ref", "message": "延长过渡期救助须填写批准文号"})
    if purpose == "extend" and cycle.kind != "transitional":
        errors.append({"field": "purpose", "message": "只有过渡期生活救助可以延长"})
    if not isinstance(entries, list):
        errors.append({"field": "entries", "message": "必须是数组"})
        entries = []
    if purpose in ("add", "adjust") and not entries:
        errors.append({"field": "entries", "message": "至少一户"})
    if errors:
        raise Invalid(f"补充名册有 {len(errors)} 处错误。", errors)
    if cycle.status not in ("approved", "disbursing"):
        raise Conflict("只有已审定或发放中的救助周期才能增列补充名册。")
    if db.session.scalar(select(Roll.id).where(Roll.cycle_id == cycle.id, Roll.status == "notice")) is not None:
        raise Conflict("本周期已有一份补充名册在公示中，请先审定或撤销。")
    listed = {e.household_id: e for e in db.session.scalars(
        select(RollEntry).join(Roll, Roll.id == RollEntry.roll_id)
        .where(RollEntry.cycle_id == cycle.id, Roll.status == "frozen")).all()}
    months_by_household: dict[int, int] = {}
    for entry in db.session.scalars(select(RollEntry).join(Roll, Roll.id == RollEntry.roll_id).where(
            RollEntry.cycle_id == cycle.id, Roll.status == "frozen")).all():
        if entry.basis.get("to_month") is not None:
            months_by_household[entry.household_id] = max(months_by_household.get(entry.household_id, 0),
                                                          entry.basis["to_month"])
    now = utcnow()
    ends = notice_ends(now, config["CYCLE_SUPPLEMENTARY_NOTICE_DAYS"])
    due_on = ends.astimezone(_tz()).date()
    seq = (db.session.scalar(select(func.max(Roll.seq)).where(Roll.cycle_id == cycle.id)) or 0) + 1
    planned: list[tuple[Household, int, int, list[Instalment], dict, str | None]] = []
    months_total = None
    if purpose == "extend":
        std = _standards(cycle)
        months_total = data.get("months_total")
        if isinstance(months_total, bool) or not isinstance(months_total, int) or not (
                cycle.months < months_total <= std.transitional_max_months):
            errors.append({"field": "months_total",
                           "message": f"延长后的总月数必须大于 {cycle.months} 且不超过 {std.transitional_max_months}"})
        ids = data.get("household_ids") or sorted(months_by_household)
        if not isinstance(ids, list):
            errors.append({"field": "household_ids", "message": "必须是数组"})
            ids = []
        if not errors:
            for index, household_id in enumerate(ids):
                if household_id not in listed:
                    errors.append({"field": f"household_ids[{index}]", "message": "该户不在已审定的名册中"})
                    continue
                current = months_by_household.get(household_id, cycle.months)
                if months_total <= current:
                    errors.append({"field": f"household_ids[{index}]", "message": f"该户已救助 {current} 个月"})
                    continue
                entry = listed[household_id]
                household = db.session.get(Household, household_id)
                found, basis = plan(cycle, persons=entry.persons, from_month=current, to_month=months_total)
                basis["approval_ref"] = approval_ref
                planned.append((household, entry.persons, 0, found, basis, None))
    else:
        for index, item in enumerate(entries):
            where = f"entries[{index}]."
            household = _household_ref(item.get("household_id")) if isinstance(item, dict) else None
            if household is None:
                errors.append({"field": where + "household_id", "message": "受灾户不存在"})
                continue
            if not codes.is_within(household.village_code, cycle.region_code):
                errors.append({"field": where + "household_id", "message": "该户不在本周期的县内"})
                continue
            if purpose == "add":
                if household.id in listed:
                    errors.append({"field": where + "household_id", "message": "该户已在名册中，更正金额请用补发"})
                    continue
                persons = item.get("persons", household.members)
                deceased = item.get("deceased", 0)
                if isinstance(persons, bool) or not isinstance(persons, int) or not 1 <= persons <= household.members:
                    errors.append({"field": where + "persons", "message": f"救助人数必须是 1 到 {household.members}"})
                    continue
                if isinstance(deceased, bool) or not isinstance(deceased, int) or deceased < 0:
                    errors.append({"field": where + "deceased", "message": "遇难人数必须是非负整数"})
                    continue
                result = assess(cycle.kind, household.facts(), deceased=deceased)
                if not result.eligible:
                    errors.append({"field": where + "household_id", "message": "不符合救助条件：" + "；".join(result.reasons)})
                    continue
                found, basis = plan(cycle, persons=persons, deceased=deceased,
                                    damage_class=household.damage_class, due_on=due_on)
                basis.update({"reasons": list(result.reasons), "priority": result.priority,
                              "needs": item.get("needs") or (default_needs(household) if cycle.kind == "winter_spring" else {})})
                planned.append((household, persons, deceased, found, basis, result.work_type))
            else:
                if household.id not in listed:
                    errors.append({"field": where + "household_id", "message": "该户不在已审定的名册中，增列请用增补"})
                    continue
                amount = item.get("amount")
                if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount <= 0 or amount > 1_000_000:
                    errors.append({"field": where + "amount", "message": "补发金额必须大于 0（元）"})
                    continue
                entry = listed[household.id]
                found = [Instalment(f"S{seq}", int(round(amount * 100)), due_on, label=f"补充名册第 {seq} 号补发")]
                planned.append((household, entry.persons, entry.deceased, found,
                                {"note": str(item.get("note") or "")[:200]}, entry.work_type))
    if errors:
        raise Invalid(f"补充名册有 {len(errors)} 处错误。", errors)
    if not planned:
        raise Invalid("补充名册没有任何一户。", [{"field": "entries", "message": "没有需要列入的户"}])
    roll = Roll(cycle_id=cycle.id, seq=seq, kind="supplementary", purpose=purpose, status="notice",
                reason=reason, approval_ref=approval_ref, months_total=months_total,
                notice_started_at=now, notice_ends_at=ends, created_by_id=getattr(user, "id", None))
    db.session.add(roll)
    db.session.flush()
    total = 0
    for household, persons, deceased, found, basis, work_type in planned:
        entry = _entry(cycle, roll, household, persons=persons, deceased=deceased, found=found, basis=basis,
                       work_type=work_type)
        db.session.add(entry)
        total += entry.total_fen
    roll.total_fen, roll.entry_count = total, len(planned)
    db.session.add(PublicNotice(cycle_id=cycle.id, roll_id=roll.id, posted_at=now, ends_at=ends,
                                location=(data.get("location") or "").strip()[:200],
                                household_count=len(planned), total_fen=total,
                                posted_by_id=getattr(user, "id", None)))
    audit.record(user, "roll.create", "relief_roll", roll.id, after=roll.to_dict(), region_code=cycle.region_code)
    db.session.commit()
    return roll


def approve_roll(user, roll_id: int) -> Roll:
    roll, cycle = get_roll(user, roll_id, "cycle.manage")
    if roll.status != "notice":
        raise Conflict("该名册不在公示中，不能审定。")
    if cycle.status not in ("approved", "disbursing"):
        raise Conflict(f"救助周期处于「{cycle.status_label}」状态，不能审定补充名册。")
    now = utcnow()
    if now < roll.notice_ends_at:
        raise Conflict(f"公示期未满（公示至 {roll.notice_ends_at.isoformat()}），不能审定。")
    open_count = db.session.scalar(select(func.count(Complaint.id)).where(
        Complaint.cycle_id == cycle.id, Complaint.status == "open"))
    if open_count:
        raise Conflict(f"还有 {open_count} 件投诉举报未办结，不能审定。")
    roll.status, roll.frozen_at, roll.frozen_by_id = "frozen", now, getattr(user, "id", None)
    if cycle.kind == "reconstruction" and roll.purpose == "add":
        for entry in roll_entries(roll.id):
            db.session.add(ReconstructionProject(cycle_id=cycle.id, household_id=entry.household_id,
                                                 work_type=entry.work_type or "rebuild", stage="verified",
                                                 verified_at=now, last_report_at=now))
    audit.record(user, "roll.approve", "relief_roll", roll.id, before={"status": "notice"},
                 after={"status": "frozen"}, region_code=cycle.region_code)
    db.session.commit()
    return roll


def cancel_roll(user, roll_id: int, reason: str) -> Roll:
    roll, cycle = get_roll(user, roll_id, "cycle.manage")
    if not (reason or "").strip():
        raise Invalid("请填写原因。", [{"field": "reason", "message": "必填"}])
    if roll.status != "notice":
        raise Conflict("只有公示中的补充名册可以撤销；已冻结的名册不能修改。")
    now = utcnow()
    roll.status = "cancelled"
    for notice in db.session.scalars(select(PublicNotice).filter_by(roll_id=roll.id)).all():
        notice.withdrawn_at = now
    audit.record(user, "roll.cancel", "relief_roll", roll.id, before={"status": "notice"},
                 after={"status": "cancelled"}, region_code=cycle.region_code, note=reason.strip())
    db.session.commit()
    return roll


def notices(user, cycle_id: int) -> list[PublicNotice]:
    cycle = get_cycle(user, cycle_id)
    return db.session.scalars(select(PublicNotice).where(PublicNotice.cycle_id == cycle.id)
                              .order_by(PublicNotice.id)).all()


def notice_rows(cycle: Cycle, roll: Roll | None = None) -> list[dict]:
    """The list published in a notice, with names and identity numbers partly masked (公示)."""
    villages = {}

    def village_name(code):
        if code not in villages:
            region = db.session.get(Region, code)
            villages[code] = region.name if region else code
        return villages[code]

    rows = []
    if roll is not None:
        for entry in roll_entries(roll.id):
            rows.append({"village": village_name(entry.village_code), "name": idcard.mask_name(entry.head_name),
                         "id_number": idcard.mask_id(entry.id_number), "persons": entry.persons,
                         "deceased": entry.deceased, "reasons": entry.basis.get("reasons", []),
                         "amount": entry.total_fen / 100})
        return rows
    for b in _beneficiaries(cycle.id):
        if not b.approved:
            continue
        rows.append({"village": village_name(b.household.village_code), "name": idcard.mask_name(b.household.head_name),
                     "id_number": idcard.mask_id(b.household.id_number), "persons": b.persons,
                     "deceased": b.deceased, "reasons": b.reasons,
                     "amount": sum(i.amount_fen for i in preview(cycle, b)) / 100})
    return rows


def current_notice_roll(cycle: Cycle) -> Roll | None:
    """The roll a cycle's latest notice refers to (the main roll once approved)."""
    return db.session.scalar(select(Roll).where(Roll.cycle_id == cycle.id, Roll.seq == 0))


# --- complaints (投诉举报) -----------------------------------------------------------------------------

def add_complaint(user, cycle_id: int, data: Mapping) -> Complaint:
    cycle = get_cycle(user, cycle_id, "household.edit")
    errors = []
    content = (data.get("content") or "").strip()
    if not content:
        errors.append({"field": "content", "message": "必填"})
    household_id = data.get("household_id")
    if household_id is not None and db.session.get(Household, household_id) is None:
        errors.append({"field": "household_id", "message": "受灾户不存在"})
    if errors:
        raise Invalid("投诉举报有误。", errors)
    if cycle.status in ("closed", "cancelled"):
        raise Conflict("救助周期已结束或已撤销。")
    complaint = Complaint(cycle_id=cycle.id, household_id=household_id, content=content[:4000],
                          complainant=(data.get("complainant") or "").strip()[:60],
                          contact=(data.get("contact") or "").strip()[:40], recorded_by_id=getattr(user, "id", None))
    db.session.add(complaint)
    db.session.flush()
    audit.record(user, "complaint.create", "cycle_complaint", complaint.id, after={"cycle_id": cycle.id},
                 region_code=cycle.region_code)
    notify(coordinators_covering(cycle.region_code), "cycle.complaint", f"{cycle.name}：收到投诉举报",
           content[:200], f"/cycles/{cycle.id}", dedupe_key=f"complaint:{complaint.id}")
    db.session.commit()
    return complaint


def resolve_complaint(user, complaint_id: int, resolution: str) -> Complaint:
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound(f"投诉举报 {complaint_id} 不存在。")
    cycle = get_cycle(user, complaint.cycle_id, "cycle.manage")
    if not (resolution or "").strip():
        raise Invalid("请填写办理结果。", [{"field": "resolution", "message": "必填"}])
    if complaint.status != "open":
        raise Conflict("该投诉举报已办结。")
    complaint.status, complaint.resolution = "resolved", resolution.strip()[:4000]
    complaint.resolved_at, complaint.resolved_by_id = utcnow(), getattr(user, "id", None)
    audit.record(user, "complaint.resolve", "cycle_complaint", complaint.id, after={"status": "resolved"},
                 region_code=cycle.region_code)
    db.session.commit()
    return complaint


# --- reconstruction progress (重建进度) --------------------------------------------------------------

def projects(user, cycle_id: int) -> list[ReconstructionProject]:
    cycle = get_cycle(user, cycle_id)
    return db.session.scalars(select(ReconstructionProject).where(ReconstructionProject.cycle_id == cycle.id)
                              .order_by(ReconstructionProject.id)).all()


def report_progress(user, project_id: int, data: Mapping) -> ReconstructionProject:
    """Report a house's progress; the stage may stay or move forward (never back)."""
    project = db.session.get(ReconstructionProject, project_id)
    if project is None:
        raise NotFound(f"重建项目 {project_id} 不存在。")
    require(user, "household.edit", project.household.village_code)
    cycle = db.session.get(Cycle, project.cycle_id)
    now = utcnow()
    errors = []
    stage = data.get("stage") or project.stage
    observed = data.get("observed_at") or now
    if stage not in STAGES:
        errors.append({"field": "stage", "message": "必须是以下之一：" + ", ".join(STAGES)})
    if observed > now + timedelta(minutes=5):
        errors.append({"field": "observed_at", "message": "不能晚于当前时间"})
    last_reached = max(project.reached().values())
    if observed < last_reached:
        errors.append({"field": "observed_at", "message": "不能早于上一阶段的时间"})
    if errors:
        raise Invalid("进度报告有误。", errors)
    if cycle.status not in ("approved", "disbursing"):
        raise Conflict(f"救助周期处于「{cycle.status_label}」状态，不能报告进度。")
    if STAGES.index(stage) < STAGES.index(project.stage):
        raise Conflict("重建进度不能倒退。")
    if project.stage == "moved_in" and stage == "moved_in":
        raise Conflict("该户已入住，重建已完成。")
    before = project.stage
    for name in STAGES[STAGES.index(project.stage) + 1: STAGES.index(stage) + 1]:
        setattr(project, f"{name}_at", observed)
    project.stage = stage
    project.last_report_at = now
    db.session.add(ProgressReport(project_id=project.id, stage=stage, observed_at=observed,
                                  note=str(data.get("note") or "").strip()[:2000],
                                  reported_by=getattr(user, "username", "system")))
    audit.record(user, "reconstruction.progress", "reconstruction_project", project.id,
                 before={"stage": before}, after={"stage": stage}, region_code=project.household.village_code)
    db.session.commit()
    return project


def progress_reports(user, project_id: int) -> list[ProgressReport]:
    project = db.session.get(ReconstructionProject, project_id)
    if project is None:
        raise NotFound(f"重建项目 {project_id} 不存在。")
    get_cycle(user, project.cycle_id)
    return db.session.scalars(select(ProgressReport).where(ProgressReport.project_id == project.id)
                              .order_by(ProgressReport.id)).all()

