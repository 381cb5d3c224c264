"""Households put forward in a cycle (救助对象): registering them (申请, 户报) during draft or
survey, eligibility assessed by the rules and kept with its reasons, proposing every eligible
household of the county, removing one, and the two reviews of the official order: the village's
民主评议 (before the notice, by a user of that village) and the township's 乡审 (after the notice,
by a user of that township).

The API registers a list (``items``) and records a list of decisions (``decisions``); a page
posts one household or one decision with the same fields (:data:`ITEM_FIELDS`,
:data:`DECISION_FIELDS`).
"""
from __future__ import annotations

from typing import Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gis import codes

from ... import audit
from ...errors import Conflict, NotFound, RetryableConflict
from ...extensions import db
from ...models_common import utcnow
from ...permissions import can, require
from ...validation import Field, validate
from ..models import Beneficiary, Cycle, Household
from ..rules import NEEDS, assess
from .amounts import preview_yuan
from .base import check_item, get_cycle, refuse, show_id, within_clause

#: One household put forward (an element of ``items``, or the page's form).
ITEM_FIELDS = {
    "household_id": Field("int", min=1, description="受灾户"),
    "persons": Field("int", required=False, description="救助人数（默认家庭人口）"),
    "deceased": Field("int", required=False, description="因灾遇难人数（抚慰金）"),
    "needs": Field("dict", required=False, description="需救助类别 {food, clothing, heating}（冬春救助）"),
}
BENEFICIARY_FIELDS = {
    "items": Field("list", items="dict", max_items=5000,
                   description="[{household_id, persons?, deceased?, needs?: {food, clothing, heating}}]"),
}
STAGE = Field("str", choices=("village", "township"), description="village 民主评议（村级，公示前）/ township 乡审（公示后）")
#: The permission and the cycle state of each review.
STAGE_PERMISSION = {"village": "cycle.village_review", "township": "cycle.township_review"}
STAGE_STATUS = {"village": "village_review", "township": "township_review"}
#: One decision (an element of ``decisions``, or the page's form with ``stage``).
DECISION_FIELDS = {
    "household_id": Field("int", min=1, description="受灾户"),
    "decision": Field("str", choices=("approve", "reject")),
    "note": Field("str", required=False, default="", max_length=4000, multiline=True),
}
REVIEW_FIELDS = {
    "stage": STAGE,
    "decisions": Field("list", items="dict", max_items=5000,
                       description="[{household_id, decision: approve|reject, note?}]"),
}


def cycle_beneficiaries(cycle_id: int) -> list[Beneficiary]:
    return db.session.scalars(select(Beneficiary).where(Beneficiary.cycle_id == cycle_id)
                              .order_by(Beneficiary.id)).all()


def default_needs(household: Household) -> dict[str, bool]:
    heavy = household.damage_class in ("collapsed", "severely_damaged")
    return {"food": heavy or household.no_livelihood or household.no_self_rescue,
            "clothing": heavy or household.no_housing or household.no_self_rescue,
            "heating": household.damage_class != "none" or household.no_housing}


def beneficiary_listing(user, cycle_id: int):
    """``(query, to_dict)`` for a page of a cycle's households, with what each would be owed."""
    cycle = get_cycle(user, cycle_id)
    show = show_id(user, cycle.region_code)
    stmt = select(Beneficiary).where(Beneficiary.cycle_id == cycle.id).order_by(Beneficiary.id)
    return stmt, lambda b: {**b.to_dict(show_id=show), "amount": preview_yuan(cycle, b)}


def beneficiary_dicts(user, cycle_id: int, rows: list[Beneficiary]) -> list[dict]:
    """Rows of a cycle as ``user`` may see them (numbers masked unless allowed)."""
    cycle = get_cycle(user, cycle_id)
    return [b.to_dict(show_id=show_id(user, cycle.region_code)) for b in rows]


# --- registering (户报) -------------------------------------------------------------------------------

def add_beneficiaries(user, cycle_id: int, data) -> list[Beneficiary]:
    """Put households forward in a cycle (户报), during draft or survey (``{"items": [...]}``);
    eligibility is assessed by the rules and kept with the reasons."""
    cycle = get_cycle(user, cycle_id, "household.edit")
    values, errors = validate(BENEFICIARY_FIELDS, data)
    if values["items"] == []:
        errors.append({"field": "items", "message": "必须是非空数组"})
    refuse(errors, "登记有 {n} 处错误，未登记任何一户。")
    return _register(user, cycle, [(f"items[{i}].", item) for i, item in enumerate(values["items"])])


def add_beneficiary(user, cycle_id: int, data) -> list[Beneficiary]:
    """One household put forward from the cycle page's form (:data:`ITEM_FIELDS`)."""
    cycle = get_cycle(user, cycle_id, "household.edit")
    return _register(user, cycle, [("", data)])


def _register(user, cycle: Cycle, items: list[tuple[str, Mapping]]) -> list[Beneficiary]:
    """Each household checked by :data:`ITEM_FIELDS` and the rules (its first problem named),
    all of them registered or none."""
    if cycle.status not in ("draft", "survey"):
        raise Conflict(f"救助周期处于「{cycle.status_label}」状态，不能再登记救助对象。")
    errors: list[dict] = []
    taken = {b.household_id for b in cycle_beneficiaries(cycle.id)}
    made = []
    for where, raw in items:
        item = check_item(ITEM_FIELDS, raw, where, errors)
        row = _beneficiary(user, cycle, where, item, taken, errors) if item is not None else None
        if row is not None:
            made.append(row)
    refuse(errors, "登记有 {n} 处错误，未登记任何一户。")
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


def _beneficiary(user, cycle: Cycle, where: str, item: Mapping, taken: set[int],
                 errors: list[dict]) -> Beneficiary | None:
    """The row for one household put forward, or ``None`` after naming its first problem."""
    def bad(name: str, message: str) -> None:
        errors.append({"field": where + name, "message": message})

    household = db.session.get(Household, item["household_id"])
    problem = _household_problem(user, cycle, household, taken)
    if problem:
        return bad("household_id", problem)
    taken.add(household.id)
    persons = household.members if item.get("persons") is None else item["persons"]
    if not 1 <= persons <= household.members:
        return bad("persons", f"救助人数必须是 1 到家庭人口 {household.members}")
    deceased = item.get("deceased") or 0
    if not 0 <= deceased <= 99:
        return bad("deceased", "遇难人数必须是 0 到 99 的整数")
    needs = item.get("needs")
    if needs is None:
        needs = default_needs(household) if cycle.kind == "winter_spring" else {}
    elif set(needs) - set(NEEDS) or not all(isinstance(v, bool) for v in needs.values()):
        return bad("needs", "需救助类别只能是 food、clothing、heating（true/false）")
    result = assess(cycle.kind, household.facts(), deceased=deceased)
    return Beneficiary(cycle_id=cycle.id, household_id=household.id, persons=persons, deceased=deceased,
                       needs=needs, eligible=result.eligible, reasons=list(result.reasons),
                       priority=result.priority, work_type=result.work_type, added_by_id=getattr(user, "id", None))


def _household_problem(user, cycle: Cycle, household: Household | None, taken: set[int]) -> str | None:
    if household is None:
        return "受灾户不存在"
    if not codes.is_within(household.village_code, cycle.region_code):
        return "该户不在本周期的县内"
    if not can(user, "household.edit", household.village_code):
        return "该户不在本人管辖范围内"
    if household.id in taken:
        return "该户已登记在本周期"
    return None


def propose(user, cycle_id: int) -> list[Beneficiary]:
    """Put forward every eligible household of the registry in the cycle's county that is not in
    the cycle yet (condolence needs the number of deaths, so it is entered by hand)."""
    cycle = get_cycle(user, cycle_id, "household.edit")
    if cycle.kind == "condolence":
        raise Conflict("抚慰金需逐户登记遇难人数，不能自动生成。")
    if cycle.status not in ("draft", "survey"):
        raise Conflict(f"救助周期处于「{cycle.status_label}」状态，不能再登记救助对象。")
    already = {b.household_id for b in cycle_beneficiaries(cycle.id)}
    candidates = db.session.scalars(select(Household).where(
        within_clause(Household.village_code, cycle.region_code)).order_by(Household.id)).all()
    items = [(f"items[{index}].", {"household_id": h.id}) for index, h in enumerate(
        h for h in candidates if h.id not in already and codes.is_within(h.village_code, cycle.region_code)
        and can(user, "household.edit", h.village_code) and assess(cycle.kind, h.facts()).eligible)]
    if not items:
        return []
    return _register(user, cycle, items)


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


# --- reviews (村评, 乡审) ------------------------------------------------------------------------------

def _stage_of(user, cycle_id: int, data) -> tuple[Cycle, str | None]:
    """The cycle, once ``user`` may take the stage's step on it (its level: a village user for
    民主评议, a township user for 乡审), and the stage."""
    stage = data.get("stage") if hasattr(data, "get") else None
    cycle = get_cycle(user, cycle_id, STAGE_PERMISSION.get(stage, "cycle.view") if isinstance(stage, str)
                      else "cycle.view")
    return cycle, stage


def record_reviews(user, cycle_id: int, data) -> list[Beneficiary]:
    """Record the village's 民主评议 (``stage="village"``, before the notice) or the township's
    乡审 (``"township"``, after it) of households in the cycle (``{"stage", "decisions": [...]}``);
    each household must lie in the user's village or township."""
    cycle, _stage = _stage_of(user, cycle_id, data)
    values, errors = validate(REVIEW_FIELDS, data)
    if values["decisions"] == []:
        errors.append({"field": "decisions", "message": "必须是非空数组"})
    refuse(errors, "评议审核有误。")
    return _review(user, cycle, values["stage"], [(f"decisions[{i}].", d) for i, d in enumerate(values["decisions"])])


def record_review(user, cycle_id: int, data) -> list[Beneficiary]:
    """One decision from the cycle page's form (``stage`` and :data:`DECISION_FIELDS`)."""
    cycle, _stage = _stage_of(user, cycle_id, data)
    values, errors = validate({"stage": STAGE}, data)
    refuse(errors, "评议审核有误。")
    return _review(user, cycle, values["stage"], [("", data)])


def _review(user, cycle: Cycle, stage: str, decisions: list[tuple[str, Mapping]]) -> list[Beneficiary]:
    """Each decision checked by :data:`DECISION_FIELDS` and the order of the reviews (its first
    problem named), all of them recorded or none."""
    if cycle.status != STAGE_STATUS[stage]:
        step = "民主评议" if stage == "village" else "乡镇审核"
        raise Conflict(f"救助周期处于「{cycle.status_label}」状态，不在{step}阶段。")
    rows = {b.household_id: b for b in cycle_beneficiaries(cycle.id)}
    errors: list[dict] = []
    changes = []
    for where, raw in decisions:
        item = check_item(DECISION_FIELDS, raw, where, errors)
        if item is None:
            continue
        row = rows.get(item["household_id"])
        if row is not None:
            require(user, STAGE_PERMISSION[stage], row.household.village_code)
        problem = _decision_problem(stage, row, item["decision"])
        if problem:
            errors.append({"field": where + problem[0], "message": problem[1]})
            continue
        changes.append((row, item["decision"], (item.get("note") or "").strip()[:500]))
    refuse(errors, "评议审核有 {n} 处错误，未记录任何结果。")
    now = utcnow()
    for row, decision, note in changes:
        setattr(row, f"{stage}_decision", decision)
        setattr(row, f"{stage}_note", note or None)
        setattr(row, f"{stage}_at", now)
    audit.record(user, f"cycle.review.{stage}", "relief_cycle", cycle.id,
                 after={"decisions": [{"household_id": r.household_id, "decision": d} for r, d, _n in changes]},
                 region_code=cycle.region_code)
    db.session.commit()
    return [r for r, _d, _n in changes]


def _decision_problem(stage: str, row: Beneficiary | None, decision: str) -> tuple[str, str] | None:
    if row is None:
        return "household_id", "该户未登记在本周期"
    if decision == "approve" and not row.eligible:
        return "decision", "不符合救助条件：" + "；".join(row.reasons)
    if stage == "township" and row.village_decision != "approve":
        return "household_id", "未通过民主评议，不在公示名单中"
    return None
