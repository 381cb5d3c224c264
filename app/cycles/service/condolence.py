"""Condolence lines from the roster of the dead (抚慰金, issue 17): a county turns the people on
the event's roster (因灾死亡失踪人口一览表) who died — status 死亡, one roster row per identity
number, so no duplicates — into condolence lines for their next of kin, typed on the line (name,
identity number, relation, village and account). Each line puts the next of kin's household into
the condolence cycle (one more death counted on it), and from there the cycle's own procedure
pays it (评议, 公示, 审定, 发放批次). A person has one standing line, in any cycle, ever.

A person recorded dead and later found alive (roster action ``death_disproved``) cancels the line
while it is unpaid: before the notice the household's count of deaths goes down; once the notice
or the roll stands, a complaint on the cycle holds the household (approval and its next payment
wait for a correction). A line already paid stays, and the county is told to recover it.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ... import audit
from ...errors import Conflict, Invalid, RetryableConflict
from ...extensions import db
from ...i18n import translate
from ...models_common import utcnow
from ...notifications import coordinators_covering, notify
from ...regions import Region
from ...rosters import Casualty
from ...validation import Field, validate
from ... import idcard
from ..models import Beneficiary, Complaint, CondolenceClaim, Cycle, Household, Payment
from ..rules import assess
from .base import check_item, get_cycle, refuse, show_id, within_clause

#: One line (an element of ``items``, or the page's form).
CLAIM_FIELDS = {
    "casualty_id": Field("int", min=1, description="名册中的死亡人员"),
    "kin_name": Field("str", max_length=60, description="近亲属（领款人）姓名"),
    "kin_id_number": Field("str", max_length=24, description="近亲属公民身份号码（18 位，GB 11643 校验）"),
    "relation": Field("str", required=False, default="", max_length=20, description="与遇难人员关系"),
    "village_code": Field("code", required=False,
                          description="近亲属户所在村（12 位）；省略时取遇难人员所在村；已在台账中的户不用填"),
    "bank_account": Field("str", required=False, default="", max_length=40, description="一卡通账号（新建户时）"),
    "bank_name": Field("str", required=False, default="", max_length=60),
}
GENERATE_FIELDS = {"items": Field("list", items="dict", max_items=500,
                                  description="[{casualty_id, kin_name, kin_id_number, relation?, village_code?, "
                                              "bank_account?, bank_name?}]")}
#: The states in which a household's count of deaths may still change (before the notice).
OPEN_STATES = ("draft", "survey", "review")


def _live_claim(casualty_id: int, *, release: bool = False) -> CondolenceClaim | None:
    """The standing line of a person. A line left in a cancelled cycle does not stand; with
    ``release`` (inside a change) it is cancelled too, so that the person can be put forward again."""
    claim = db.session.scalar(select(CondolenceClaim).where(CondolenceClaim.live_casualty_id == casualty_id))
    if claim is not None and db.session.get(Cycle, claim.cycle_id).status == "cancelled":
        if release:
            _cancel(claim, "救助周期已撤销")
        return None
    return claim


def _standing(casualty_ids: list[int]) -> set[int]:
    """Which of these people have a standing line (:func:`_live_claim`), in one query."""
    if not casualty_ids:
        return set()
    return set(db.session.scalars(select(CondolenceClaim.live_casualty_id).join(
        Cycle, Cycle.id == CondolenceClaim.cycle_id).where(
        CondolenceClaim.live_casualty_id.in_(casualty_ids), Cycle.status != "cancelled")))


def _cancel(claim: CondolenceClaim, reason: str) -> None:
    claim.status, claim.live_casualty_id = "cancelled", None
    claim.cancel_reason, claim.cancelled_at = reason, utcnow()


def _paid(claim: CondolenceClaim) -> bool:
    return db.session.scalar(select(Payment.id).where(Payment.cycle_id == claim.cycle_id,
                                                      Payment.household_id == claim.household_id).limit(1)) is not None


def condolence_state(user, cycle_id: int) -> dict:
    """The cycle's lines, and the dead of the event in the county who have no standing line yet."""
    cycle = get_cycle(user, cycle_id)
    show = show_id(user, cycle.region_code)
    claims = db.session.scalars(select(CondolenceClaim).where(CondolenceClaim.cycle_id == cycle.id)
                                .order_by(CondolenceClaim.id)).all()
    people = {c.id: c for c in db.session.scalars(select(Casualty).where(
        Casualty.id.in_([c.casualty_id for c in claims])))} if claims else {}
    eligible = []
    if cycle.kind == "condolence" and cycle.event_id is not None:
        dead = db.session.scalars(select(Casualty).where(
            Casualty.event_id == cycle.event_id, Casualty.status == "dead",
            within_clause(Casualty.region_code, cycle.region_code)).order_by(Casualty.region_code, Casualty.id)).all()
        standing = _standing([p.id for p in dead])
        eligible = [p for p in dead if p.id not in standing]
    person = lambda p: {"casualty_id": p.id, "name": p.name, "region_code": p.region_code,  # noqa: E731
                        "id_number": p.id_number if show else idcard.mask_id(p.id_number),
                        "occurred_on": p.occurred_on.isoformat(), "status": p.status}
    return {"cycle": cycle, "claims": [{**c.to_dict(show_id=show), "person": person(people[c.casualty_id])}
                                       for c in claims],
            "eligible": [person(p) for p in eligible]}


def may_generate(user, cycle: Cycle) -> bool:
    """The page offers the form: a condolence cycle still taking households, and the right."""
    from ...permissions import can

    return cycle.kind == "condolence" and cycle.status in ("draft", "survey") and can(
        user, "condolence.generate", cycle.region_code)


def _check_line(cycle: Cycle, where: str, item: dict, errors: list[dict], seen: set[int]) -> Casualty | None:
    """The rules of one line beyond its fields; the person when it passes."""
    def bad(name: str, message: str) -> None:
        errors.append({"field": where + name, "message": message})

    person = db.session.get(Casualty, item["casualty_id"])
    if person is None or person.event_id != cycle.event_id or not person.region_code.startswith(cycle.region_code):
        return bad("casualty_id", translate("不是本灾害过程本县名册中的人员"))
    if person.status != "dead":
        return bad("casualty_id", translate("名册中该人员不是死亡状态，不发放抚慰金"))
    if person.id in seen or _live_claim(person.id, release=True) is not None:
        return bad("casualty_id", translate("该人员已生成抚慰金（每人只发放一次）"))
    try:
        item["kin_id_number"] = idcard.normalise(item["kin_id_number"])
    except idcard.IdNumberError as exc:
        return bad("kin_id_number", translate(exc.message, **exc.params))
    if item["kin_id_number"] == person.id_number:
        return bad("kin_id_number", translate("领款人不能是遇难人员本人"))
    kin_on_roster = db.session.scalar(select(Casualty.status).where(Casualty.id_number == item["kin_id_number"]))
    if kin_on_roster in ("dead", "missing"):
        return bad("kin_id_number", translate("领款人在死亡失踪人口名册中"))
    if db.session.scalar(select(Household.id).filter_by(id_number=item["kin_id_number"])) is None:
        village = item.get("village_code") or (person.region_code if len(person.region_code) == 12 else None)
        region = db.session.get(Region, village) if village else None
        if region is None or region.level != "village" or not village.startswith(cycle.region_code):
            return bad("village_code", translate("新建近亲属户须填本县的 12 位村级区划代码"))
        item["village_code"] = village
    seen.add(person.id)
    return person


def _household_of(user, item: dict) -> Household:
    household = db.session.scalar(select(Household).filter_by(id_number=item["kin_id_number"]))
    if household is None:
        household = Household(village_code=item["village_code"], head_name=item["kin_name"].strip(),
                              id_number=item["kin_id_number"], members=1,
                              bank_account=(item.get("bank_account") or "").replace(" ", ""),
                              bank_name=item.get("bank_name") or "", note="抚慰金领款人（由死亡人员名册生成）",
                              created_by_id=getattr(user, "id", None))
        db.session.add(household)
        db.session.flush()
    return household


def _count_death(user, cycle: Cycle, household: Household, change: int) -> None:
    """One death more (or fewer) on the household's line in the cycle, eligibility reassessed."""
    row = db.session.scalar(select(Beneficiary).where(Beneficiary.cycle_id == cycle.id,
                                                      Beneficiary.household_id == household.id))
    if row is None:
        row = Beneficiary(cycle_id=cycle.id, household_id=household.id, persons=household.members, deceased=0,
                          needs={}, eligible=False, reasons=[], added_by_id=getattr(user, "id", None))
        db.session.add(row)
    row.deceased = max(0, (row.deceased or 0) + change)
    result = assess("condolence", household.facts(), deceased=row.deceased)
    row.eligible, row.reasons, row.priority = result.eligible, list(result.reasons), result.priority


def generate_condolence(user, cycle_id: int, data) -> list[CondolenceClaim]:
    """Condolence lines for the roster's dead (``{"items": [...]}``): all of them or none."""
    cycle = get_cycle(user, cycle_id, "condolence.generate")
    values, errors = validate(GENERATE_FIELDS, data)
    if values["items"] == []:
        errors.append({"field": "items", "message": translate("必须是非空数组")})
    refuse(errors, translate("抚慰金有 {n} 处错误，未生成任何一条。"))
    if cycle.kind != "condolence":
        raise Conflict(translate("只有抚慰金救助周期才能从名册生成。"))
    if cycle.status not in ("draft", "survey"):
        raise Conflict(translate("救助周期已进入评议或公示，不能再生成抚慰金。"))
    lines, seen = [], set()
    for i, raw in enumerate(values["items"]):
        where = f"items[{i}]."
        item = check_item(CLAIM_FIELDS, raw, where, errors)
        person = _check_line(cycle, where, item, errors, seen) if item is not None else None
        if person is not None:
            lines.append((person, item))
    refuse(errors, translate("抚慰金有 {n} 处错误，未生成任何一条。"))
    return _make(user, cycle, lines)


def generate_one(user, cycle_id: int, form) -> list[CondolenceClaim]:
    """One line from the page's form (:data:`CLAIM_FIELDS`), refused field by field by name."""
    get_cycle(user, cycle_id, "condolence.generate")
    values, errors = validate(CLAIM_FIELDS, form)
    refuse(errors, translate("抚慰金有 {n} 处错误，未生成任何一条。"))
    try:
        return generate_condolence(user, cycle_id, {"items": [{k: v for k, v in values.items() if v is not None}]})
    except Invalid as exc:  # name the form's fields, not the list's
        exc.errors = [{**e, "field": e["field"].removeprefix("items[0].")} for e in exc.errors]
        raise


def _make(user, cycle: Cycle, lines: list) -> list[CondolenceClaim]:
    made = []
    for person, item in lines:
        household = _household_of(user, item)
        _count_death(user, cycle, household, +1)
        made.append(CondolenceClaim(casualty_id=person.id, live_casualty_id=person.id, cycle_id=cycle.id,
                                    household_id=household.id, kin_name=item["kin_name"].strip(),
                                    kin_id_number=item["kin_id_number"], relation=item.get("relation") or "",
                                    status="pending", created_by_id=getattr(user, "id", None),
                                    created_by=getattr(user, "username", "system"), created_at=utcnow()))
    db.session.add_all(made)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise RetryableConflict(translate("有人员的抚慰金刚被同时生成，请刷新后重试。")) from None
    audit.record(user, "condolence.generate", "relief_cycle", cycle.id, region_code=cycle.region_code,
                 after={"casualty_ids": [c.casualty_id for c in made], "household_ids": [c.household_id for c in made]})
    db.session.commit()
    return made


def on_casualty_change(user, person, before: str, after: str) -> None:
    """A person recorded dead found alive: cancel their unpaid line (see the module docstring).
    Runs inside the roster's transaction (:func:`app.rosters.when_status_changes`)."""
    if before != "dead" or after == "dead":
        return
    claim = _live_claim(person.id, release=True)
    if claim is None:
        return
    cycle = db.session.get(Cycle, claim.cycle_id)
    if _paid(claim):
        audit.record(user, "condolence.paid_but_alive", "condolence_claim", claim.id, region_code=cycle.region_code)
        notify(coordinators_covering(cycle.region_code), "cycle.condolence", "%(cycle)s：抚慰金需追回",
               "%(person)s 已登记生还，但抚慰金已发放，请依规追回。", f"/cycles/{cycle.id}/condolence",
               dedupe_key=f"condolence-alive:{claim.id}", params={"cycle": cycle.name, "person": person.name})
        return
    _cancel(claim, f"名册更正：{person.name} 生还")
    household = db.session.get(Household, claim.household_id)
    if cycle.status in OPEN_STATES:
        _count_death(user, cycle, household, -1)
    elif cycle.status not in ("closed", "cancelled"):
        db.session.add(Complaint(cycle_id=cycle.id, household_id=household.id, complainant="", contact="",
                                 content=f"名册更正：遇难人员 {person.name} 已生还，该户抚慰金待补充名册更正后再发放。",
                                 recorded_by_id=getattr(user, "id", None)))
    audit.record(user, "condolence.cancel", "condolence_claim", claim.id, region_code=cycle.region_code,
                 after={"status": "cancelled", "reason": claim.cancel_reason})
