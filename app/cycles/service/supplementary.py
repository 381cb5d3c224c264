"""Supplementary rolls (补充名册) after approval, in three modes behind one entry point,
:func:`create_supplementary`:

- ``add`` (增补) lists households that were left out, assessed by the rules like any other;
- ``adjust`` (补发) pays a listed household an amount it was short of;
- ``extend`` (延长) carries transitional relief on up to the maximum months, with the approval's
  reference recorded.

The roll then follows the official order like the main roll (:mod:`.rolls`): each village on it
does its 民主评议, the notice (公示) runs, each township on it does its 乡审, and the county approves
it (县批, :func:`.rolls.approve_roll`), which freezes it. The request is checked in two steps: first the request itself (its fields, and the
rules of its mode that need nothing else), then, once the cycle is approved with no other roll in
notice, each household against the frozen rolls. A page types the households one per line
(``lines``: ``household id [persons] [deaths]``, ``household id amount [note]`` or household ids);
their errors are named ``lines[i]``, the line's index.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Callable

from flask import current_app
from sqlalchemy import func, select

from gis import codes

from ... import audit
from ...errors import Conflict, Invalid
from ...extensions import db
from ...models_common import utcnow
from ...validation import Field, validate
from ..models import ROLL_OPEN, Cycle, Household, Roll, RollEntry
from ..rules import Instalment, assess, notice_ends
from .amounts import plan, roll_entry, standards_of
from .base import check_item, get_cycle, refuse, tz
from .beneficiaries import default_needs

PURPOSES = {"add": "增补救助对象", "adjust": "补发金额", "extend": "延长过渡期救助"}
SUPPLEMENTARY_FIELDS = {
    "purpose": Field("str", choices=tuple(PURPOSES), description="add 增补救助对象 / adjust 补发金额 / extend 延长过渡期救助"),
    "reason": Field("str", max_length=4000, multiline=True),
    "approval_ref": Field("str", required=False, default="", max_length=100, description="批准文号（延长必填）"),
    "months_total": Field("int", required=False, min=1, max=120, description="延长后的总月数"),
    "household_ids": Field("list", required=False, items=Field("int", min=1), max_items=5000,
                           description="延长的户（默认名册内全部）"),
    "entries": Field("list", required=False, default=[], items="dict", max_items=5000,
                     description="add: [{household_id, persons?, deceased?}]; adjust: [{household_id, amount, note?}]"),
    "lines": Field("str", required=False, default="", max_length=100_000, multiline=True,
                   description="不给 entries、household_ids 时：每行一户（页面输入）。增补：受灾户编号 [救助人数] [遇难人数]；"
                               "补发：受灾户编号 金额（元） [说明]；延长：受灾户编号。错误以 lines[行序号] 命名"),
    "location": Field("str", required=False, default="", max_length=200),
}
#: One household added (an element of ``entries`` when ``purpose`` is ``add``).
ADD_FIELDS = {
    "household_id": Field("int", min=1),
    "persons": Field("int", required=False, description="救助人数（默认家庭人口）"),
    "deceased": Field("int", required=False, description="因灾遇难人数"),
    "needs": Field("dict", required=False, description="需救助类别 {food, clothing, heating}"),
}
#: One amount paid on top (an element of ``entries`` when ``purpose`` is ``adjust``).
ADJUST_FIELDS = {
    "household_id": Field("int", min=1),
    "amount": Field("number", description="补发金额（元）"),
    "note": Field("str", required=False, default="", max_length=4000),
}
ADJUST_MAX_YUAN = 1_000_000
_SEPARATORS = re.compile(r"[\s,，、;；]+")
_DIGITS = re.compile(r"[0-9]+")


@dataclass
class _Request:
    """A supplementary roll's request once its fields are checked: each household (checked by its
    mode's fields with the rules) with the name its errors take (``entries[2].`` or ``lines[4].``)."""

    purpose: str
    reason: str
    approval_ref: str | None
    months_total: int | None
    location: str
    entries: list[tuple[str, dict]] = field(default_factory=list)
    household_ids: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class _Context:
    """What the households are checked against: the frozen rolls, and the new roll's number and notice."""

    listed: dict[int, RollEntry]
    months: dict[int, int]
    seq: int
    now: datetime
    ends: datetime
    due_on: date


#: (household, persons, deaths, instalments, basis, work type) of each household on the roll
_Planned = tuple[Household, int, int, list[Instalment], dict, "str | None"]


def create_supplementary(user, cycle_id: int, data) -> Roll:
    """A supplementary roll (补充名册) after approval (a JSON body or the page's form), published
    for notice; see the module's description for the three modes."""
    cycle = get_cycle(user, cycle_id, "cycle.manage")
    request = _read_request(cycle, data)
    _check_open_for_rolls(cycle)
    context = _context(cycle)
    errors: list[dict] = []
    planned = MODES[request.purpose](cycle, request, context, errors)
    refuse(errors, "补充名册有 {n} 处错误。")
    if not planned:
        raise Invalid("补充名册没有任何一户。", [{"field": "entries", "message": "没有需要列入的户"}])
    return _publish(user, cycle, request, context, planned)


# --- the request -------------------------------------------------------------------------------------

def _read_request(cycle: Cycle, data) -> _Request:
    values, errors = validate(SUPPLEMENTARY_FIELDS, data)
    purpose = values["purpose"]
    request = _Request(purpose=purpose, reason=values["reason"] or "", approval_ref=values["approval_ref"] or None,
                       months_total=values["months_total"], location=values["location"] or "")
    if values["lines"] and not values["entries"] and not values["household_ids"]:
        # the text as typed (its field strips it): a leading blank line still counts as a line
        entries, ids = _from_lines(purpose, data.get("lines"), errors)
    else:
        entries = [(f"entries[{i}].", item) for i, item in enumerate(values["entries"] or [])]
        ids = [(f"household_ids[{i}]", h) for i, h in enumerate(values["household_ids"] or [])]
    request.entries, request.household_ids = entries, ids
    refuse(errors, "补充名册有 {n} 处错误。", _request_rules(cycle, request))
    return request


def _request_rules(cycle: Cycle, request: _Request) -> list[dict]:
    errors = []
    if request.purpose == "extend" and not request.approval_ref:
        errors.append({"field": "approval_ref", "message": "延长过渡期救助须填写批准文号"})
    if request.purpose == "extend" and cycle.kind != "transitional":
        errors.append({"field": "purpose", "message": "只有过渡期生活救助可以延长"})
    if request.purpose in ("add", "adjust") and not request.entries:
        errors.append({"field": "entries", "message": "至少一户"})
    return errors


def _from_lines(purpose: str | None, text: str, errors: list[dict]) -> tuple[list, list]:
    """The households typed one per line, as ``entries`` (add, adjust) or ``household_ids``
    (extend), each named by its line; a line that does not read is an error naming it."""
    entries, ids = [], []
    for index, line in enumerate(text.splitlines()):
        parts = [p for p in _SEPARATORS.split(line.strip()) if p]
        if not parts:
            continue
        where = f"lines[{index}]"
        if purpose == "extend":
            if all(_DIGITS.fullmatch(p) for p in parts):
                ids += [(where, int(p)) for p in parts]
            else:
                errors.append({"field": where, "message": "受灾户编号必须是数字"})
            continue
        item, problem = _entry_of_line(purpose, parts)
        if problem:
            errors.append({"field": where, "message": problem})
        else:
            entries.append((where + ".", item))
    return entries, ids


def _entry_of_line(purpose: str | None, parts: list[str]) -> tuple[dict, str | None]:
    if not _DIGITS.fullmatch(parts[0]):
        return {}, "第一项必须是受灾户编号（数字）"
    item: dict = {"household_id": int(parts[0])}
    if purpose == "adjust":
        try:
            item["amount"] = float(Decimal(parts[1]))
        except (IndexError, InvalidOperation):
            return {}, "补发须写明金额（元），如：12 300"
        if len(parts) > 2:
            item["note"] = " ".join(parts[2:])
        return item, None
    if len(parts) > 3 or not all(_DIGITS.fullmatch(p) for p in parts[1:]):
        return {}, "增补写：受灾户编号 [救助人数] [遇难人数]，均为整数"
    item.update(zip(("persons", "deceased"), map(int, parts[1:])))
    return item, None


# --- the cycle ---------------------------------------------------------------------------------------

def _check_open_for_rolls(cycle: Cycle) -> None:
    if cycle.status not in ("approved", "disbursing"):
        raise Conflict("只有已审定或发放中的救助周期才能增列补充名册。")
    if db.session.scalar(select(Roll.id).where(Roll.cycle_id == cycle.id, Roll.status.in_(ROLL_OPEN))) is not None:
        raise Conflict("本周期已有一份补充名册尚未冻结（评议、公示或审核中），请先审批或撤销。")


def _context(cycle: Cycle) -> _Context:
    frozen = db.session.scalars(select(RollEntry).join(Roll, Roll.id == RollEntry.roll_id).where(
        RollEntry.cycle_id == cycle.id, Roll.status == "frozen").order_by(RollEntry.id)).all()
    months: dict[int, int] = {}
    for entry in frozen:
        if entry.basis.get("to_month") is not None:
            months[entry.household_id] = max(months.get(entry.household_id, 0), entry.basis["to_month"])
    now = utcnow()
    ends = notice_ends(now, current_app.config["CYCLE_SUPPLEMENTARY_NOTICE_DAYS"])
    seq = (db.session.scalar(select(func.max(Roll.seq)).where(Roll.cycle_id == cycle.id)) or 0) + 1
    return _Context(listed={e.household_id: e for e in frozen}, months=months, seq=seq, now=now, ends=ends,
                    due_on=ends.astimezone(tz()).date())


def _household_in_county(cycle: Cycle, where: str, item: dict, errors: list[dict]) -> Household | None:
    household = db.session.get(Household, item["household_id"])
    if household is None:
        errors.append({"field": where + "household_id", "message": "受灾户不存在"})
    elif not codes.is_within(household.village_code, cycle.region_code):
        errors.append({"field": where + "household_id", "message": "该户不在本周期的县内"})
    else:
        return household
    return None


# --- the three modes ---------------------------------------------------------------------------------

def _add(cycle: Cycle, request: _Request, context: _Context, errors: list[dict]) -> list[_Planned]:
    """增补: households not on a frozen roll, assessed by the rules."""
    planned = []
    for where, raw in request.entries:
        item = check_item(ADD_FIELDS, raw, where, errors)
        household = _household_in_county(cycle, where, item, errors) if item is not None else None
        if household is None:
            continue
        problem = _addition_problem(cycle, household, item, context)
        if problem:
            errors.append({"field": where + problem[0], "message": problem[1]})
            continue
        persons = household.members if item.get("persons") is None else item["persons"]
        deceased = item.get("deceased") or 0
        result = assess(cycle.kind, household.facts(), deceased=deceased)
        found, basis = plan(cycle, persons=persons, deceased=deceased, damage_class=household.damage_class,
                            due_on=context.due_on)
        basis.update({"reasons": list(result.reasons), "priority": result.priority,
                      "needs": item.get("needs") or (default_needs(household) if cycle.kind == "winter_spring" else {})})
        planned.append((household, persons, deceased, found, basis, result.work_type))
    return planned


def _addition_problem(cycle: Cycle, household: Household, item: dict, context: _Context) -> tuple[str, str] | None:
    if household.id in context.listed:
        return "household_id", "该户已在名册中，更正金额请用补发"
    persons = household.members if item.get("persons") is None else item["persons"]
    if not 1 <= persons <= household.members:
        return "persons", f"救助人数必须是 1 到 {household.members}"
    deceased = item.get("deceased") or 0
    if deceased < 0:
        return "deceased", "遇难人数必须是非负整数"
    result = assess(cycle.kind, household.facts(), deceased=deceased)
    if not result.eligible:
        return "household_id", "不符合救助条件：" + "；".join(result.reasons)
    return None


def _adjust(cycle: Cycle, request: _Request, context: _Context, errors: list[dict]) -> list[_Planned]:
    """补发: an amount on top for households on a frozen roll, due when the notice ends."""
    planned = []
    for where, raw in request.entries:
        item = check_item(ADJUST_FIELDS, raw, where, errors)
        household = _household_in_county(cycle, where, item, errors) if item is not None else None
        if household is None:
            continue
        if household.id not in context.listed:
            errors.append({"field": where + "household_id", "message": "该户不在已审定的名册中，增列请用增补"})
            continue
        if not 0 < item["amount"] <= ADJUST_MAX_YUAN:
            errors.append({"field": where + "amount", "message": "补发金额必须大于 0（元）"})
            continue
        entry = context.listed[household.id]
        found = [Instalment(f"S{context.seq}", int(round(item["amount"] * 100)), context.due_on,
                            label=f"补充名册第 {context.seq} 号补发")]
        planned.append((household, entry.persons, entry.deceased, found,
                        {"note": (item.get("note") or "")[:200]}, entry.work_type))
    return planned


def _extend(cycle: Cycle, request: _Request, context: _Context, errors: list[dict]) -> list[_Planned]:
    """延长: transitional relief carried on to ``months_total`` months (at most the maximum)."""
    most = standards_of(cycle).transitional_max_months
    months_total = request.months_total
    if months_total is None or not cycle.months < months_total <= most:
        errors.append({"field": "months_total", "message": f"延长后的总月数必须大于 {cycle.months} 且不超过 {most}"})
        return []
    ids = request.household_ids or [(f"household_ids[{i}]", h) for i, h in enumerate(sorted(context.months))]
    planned = []
    for where, household_id in ids:
        if household_id not in context.listed:
            errors.append({"field": where, "message": "该户不在已审定的名册中"})
            continue
        current = context.months.get(household_id, cycle.months)
        if months_total <= current:
            errors.append({"field": where, "message": f"该户已救助 {current} 个月"})
            continue
        entry = context.listed[household_id]
        found, basis = plan(cycle, persons=entry.persons, from_month=current, to_month=months_total)
        basis["approval_ref"] = request.approval_ref
        planned.append((db.session.get(Household, household_id), entry.persons, 0, found, basis, None))
    return planned


MODES: dict[str, Callable[[Cycle, _Request, _Context, list[dict]], list[_Planned]]] = {
    "add": _add, "adjust": _adjust, "extend": _extend}


# --- publishing --------------------------------------------------------------------------------------

def _publish(user, cycle: Cycle, request: _Request, context: _Context, planned: list[_Planned]) -> Roll:
    """The roll and its entries, waiting for the villages' 民主评议, in one transaction with the
    audit line (the notice is posted once every village on it has approved it)."""
    roll = Roll(cycle_id=cycle.id, seq=context.seq, kind="supplementary", purpose=request.purpose, status="village",
                reason=request.reason, approval_ref=request.approval_ref,
                months_total=request.months_total if request.purpose == "extend" else None,
                notice_location=request.location[:200], created_by_id=getattr(user, "id", None))
    db.session.add(roll)
    db.session.flush()
    total = 0
    for household, persons, deceased, found, basis, work_type in planned:
        entry = roll_entry(cycle, roll, household, persons=persons, deceased=deceased, found=found, basis=basis,
                           work_type=work_type)
        db.session.add(entry)
        total += entry.total_fen
    roll.total_fen, roll.entry_count = total, len(planned)
    audit.record(user, "roll.create", "relief_roll", roll.id, after=roll.to_dict(), region_code=cycle.region_code)
    db.session.commit()
    return roll
