"""Rolls (救助名册): the main roll frozen when the county approves (县批), the list of a cycle's
rolls and one roll with its entries, and a supplementary roll's way in the official order: each
village on it does its 民主评议 (the notice is posted once all have approved), the notice runs,
each township on it does its 乡审, and the county approves and freezes it (县批) once every
complaint is resolved; a rejection at any step, or the county, cancels it with its notice
withdrawn. A frozen roll is never edited; corrections go in a new supplementary roll
(:mod:`.supplementary`)."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from gis import codes

from ... import audit
from ...database import lock_for_update
from ...errors import Conflict, Forbidden, NotFound
from ...extensions import db
from ...i18n import translate
from ...models_common import utcnow
from ...validation import Field, validate
from ..models import ROLL_OPEN, Complaint, Cycle, PublicNotice, ReconstructionProject, Roll, RollEntry, RollStep
from ..rules import notice_ends
from .amounts import plan, roll_entry
from .base import blank_only, get_cycle, refuse, show_id, tz
from .beneficiaries import STAGE_PERMISSION, cycle_beneficiaries

CANCEL_ROLL_FIELDS = {"reason": Field("str", max_length=4000, multiline=True, description="撤销原因")}
ROLL_STEP_FIELDS = {
    "stage": Field("str", choices=("village", "township"),
                   description="village 民主评议（本村的户）/ township 乡审（本乡镇的户，公示期满后）"),
    "decision": Field("str", choices=("approve", "reject"), description="approve 通过 / reject 不通过（名册撤销）"),
    "note": Field("str", required=False, default="", max_length=4000, multiline=True,
                  description="意见（不通过时必填）"),
    "location": Field("str", required=False, default="", max_length=200, description="公示地点（民主评议时）"),
}


def rolls(user, cycle_id: int) -> list[Roll]:
    cycle = get_cycle(user, cycle_id)
    return cycle_rolls(cycle.id)


def cycle_rolls(cycle_id: int) -> list[Roll]:
    return db.session.scalars(select(Roll).where(Roll.cycle_id == cycle_id).order_by(Roll.seq)).all()


def get_roll(user, roll_id: int, action: str = "cycle.view") -> tuple[Roll, Cycle]:
    roll = db.session.get(Roll, roll_id)
    if roll is None:
        raise NotFound(f"名册 {roll_id} 不存在。")
    return roll, get_cycle(user, roll.cycle_id, action)


def roll_entries(roll_id: int) -> list[RollEntry]:
    return db.session.scalars(select(RollEntry).where(RollEntry.roll_id == roll_id).order_by(RollEntry.id)).all()


def roll_view(user, roll_id: int) -> dict:
    """A roll and each of its households (numbers masked unless ``user`` may see them)."""
    roll, cycle = get_roll(user, roll_id)
    show = show_id(user, cycle.region_code)
    waiting = roll_waiting(roll) if roll.kind == "supplementary" else {"village": set(), "township": set()}
    return {**roll.to_dict(), "entries": [e.to_dict(show_id=show) for e in roll_entries(roll.id)],
            "steps": [s.to_dict() for s in roll_steps(roll.id)],
            "waiting": {stage: sorted(codes_) for stage, codes_ in waiting.items()}}


def add_projects(cycle: Cycle, rows, now: datetime) -> None:
    """One reconstruction project per house on a newly frozen roll (确定一户、重建一户)."""
    for row in rows:
        db.session.add(ReconstructionProject(cycle_id=cycle.id, household_id=row.household_id,
                                             work_type=row.work_type or "rebuild", stage="verified",
                                             verified_at=now, last_report_at=now))


def freeze_main_roll(user, cycle: Cycle, now: datetime) -> Roll:
    """The snapshot taken at approval (县定): written once, frozen from the start."""
    today = now.astimezone(tz()).date()
    planned = []
    for b in cycle_beneficiaries(cycle.id):
        if not b.approved:
            continue
        found, basis = plan(cycle, persons=b.persons, deceased=b.deceased,
                            damage_class=b.damage_class, due_on=today)
        basis.update({"reasons": b.reasons, "needs": b.needs or {}, "priority": b.priority})
        planned.append((b, found, basis))
    roll = Roll(cycle_id=cycle.id, seq=0, kind="main", purpose="approval", status="frozen",
                reason="县级审批", frozen_at=now, frozen_by_id=getattr(user, "id", None),
                notice_started_at=cycle.notice_started_at, notice_ends_at=cycle.notice_ends_at,
                created_by_id=getattr(user, "id", None), entry_count=len(planned),
                total_fen=sum(i.amount_fen for _b, found, _basis in planned for i in found))
    db.session.add(roll)
    db.session.flush()
    for b, found, basis in planned:
        db.session.add(roll_entry(cycle, roll, b.household, persons=b.persons, deceased=b.deceased, found=found,
                                  basis=basis, work_type=b.work_type, damage_class=b.damage_class))
    if cycle.kind == "reconstruction":
        add_projects(cycle, [b for b, _found, _basis in planned], now)
    _refer_notice_to(cycle, roll)
    return roll


def _refer_notice_to(cycle: Cycle, roll: Roll) -> None:
    """The notice that preceded approval now refers to the roll it published."""
    for notice in db.session.scalars(select(PublicNotice).where(
            PublicNotice.cycle_id == cycle.id, PublicNotice.roll_id.is_(None),
            PublicNotice.withdrawn_at.is_(None))).all():
        notice.roll_id = roll.id


def roll_regions(roll: Roll, stage: str) -> set[str]:
    """The villages (民主评议) or townships (乡审) of a roll's households."""
    villages = {e.village_code for e in roll_entries(roll.id)}
    return villages if stage == "village" else {codes.parent_of(v) for v in villages}


def roll_steps(roll_id: int) -> list[RollStep]:
    return db.session.scalars(select(RollStep).where(RollStep.roll_id == roll_id).order_by(RollStep.id)).all()


def roll_waiting(roll: Roll) -> dict[str, set[str]]:
    """The villages and townships still to take their step on a roll."""
    return rolls_waiting([roll])[roll.id]


def rolls_waiting(rolls: list[Roll]) -> dict[int, dict[str, set[str]]]:
    """:func:`roll_waiting` of each of ``rolls`` by roll id, in two queries whatever their number."""
    ids = [roll.id for roll in rolls]
    if not ids:
        return {}
    villages: dict[int, set[str]] = defaultdict(set)
    for roll_id, village in db.session.execute(select(RollEntry.roll_id, RollEntry.village_code)
                                               .where(RollEntry.roll_id.in_(ids)).distinct()):
        villages[roll_id].add(village)
    signed: dict[tuple[int, str], set[str]] = defaultdict(set)
    for roll_id, stage, region in db.session.execute(select(RollStep.roll_id, RollStep.stage, RollStep.region_code)
                                                     .where(RollStep.roll_id.in_(ids))):
        signed[(roll_id, stage)].add(region)
    waiting = {}
    for roll_id in ids:
        regions = {"village": villages[roll_id], "township": {codes.parent_of(v) for v in villages[roll_id]}}
        waiting[roll_id] = {stage: regions[stage] - signed[(roll_id, stage)] for stage in ("village", "township")}
    return waiting


def roll_step(user, roll_id: int, data) -> Roll:
    """A village's 民主评议 or a township's 乡审 of a supplementary roll, for the roll's households
    in the user's own village or township (``{"stage", "decision", "note"?, "location"?}``). When
    every village has approved, the notice is posted; when every township has, the roll waits for
    the county (县批). A rejection cancels the roll."""
    stage = data.get("stage") if hasattr(data, "get") else None
    roll, cycle = get_roll(user, roll_id, STAGE_PERMISSION.get(stage, "cycle.view") if isinstance(stage, str)
                           else "cycle.view")
    values, errors = validate(ROLL_STEP_FIELDS, data)
    rules = []
    if values["decision"] == "reject" and not values["note"]:
        rules.append({"field": "note", "message": "不通过须写明意见"})
    refuse(errors, "评议审核有 {n} 处错误。", rules)
    db.session.execute(lock_for_update(select(Roll.id).where(Roll.id == roll.id)))
    db.session.refresh(roll)
    now = utcnow()
    _check_step_open(roll, stage, now)
    region = user.region_code
    if region not in roll_regions(roll, stage):  # a village (township) decides on its own households only
        raise Forbidden(translate("名册中没有本村的户（%(region)s）：民主评议由名册所列各村办理。", region=region)
                        if stage == "village" else
                        translate("名册中没有本乡镇的户（%(region)s）：乡镇审核由名册所列各乡镇办理。", region=region))
    if region not in roll_waiting(roll)[stage]:
        raise Conflict("本村（乡镇）已对该名册作出决定。")
    db.session.add(RollStep(roll_id=roll.id, stage=stage, region_code=region, decision=values["decision"],
                            note=values["note"] or "", user_id=getattr(user, "id", None),
                            username=getattr(user, "username", "system"), at=now))
    db.session.flush()
    before = roll.status
    if values["decision"] == "reject":
        _cancel(roll, now)
    elif stage == "village":
        if values["location"]:
            roll.notice_location = values["location"][:200]
        if not roll_waiting(roll)["village"]:
            _post_notice(user, cycle, roll, now)
    else:
        roll.status = "county" if not roll_waiting(roll)["township"] else "township"
    audit.record(user, f"roll.review.{stage}", "relief_roll", roll.id, before={"status": before},
                 after={"status": roll.status, "region_code": region, "decision": values["decision"]},
                 region_code=region, note=values["note"] or None)
    db.session.commit()
    return roll


def _check_step_open(roll: Roll, stage: str, now: datetime) -> None:
    if stage == "village" and roll.status != "village":
        raise Conflict(f"名册处于「{roll.to_dict()['status_label']}」状态，不在民主评议阶段。")
    if stage == "township":
        if roll.status not in ("notice", "township"):
            raise Conflict(f"名册处于「{roll.to_dict()['status_label']}」状态，不在乡镇审核阶段。")
        if roll.notice_ends_at is None or now < roll.notice_ends_at:
            ends = roll.notice_ends_at.isoformat() if roll.notice_ends_at else "未开始"
            raise Conflict(f"公示期未满（公示至 {ends}），不能乡镇审核。")


def _post_notice(user, cycle: Cycle, roll: Roll, now: datetime) -> None:
    """公示: the roll posted once every village approved it."""
    roll.status = "notice"
    roll.notice_started_at = now
    roll.notice_ends_at = notice_ends(now, current_app.config["CYCLE_SUPPLEMENTARY_NOTICE_DAYS"])
    db.session.add(PublicNotice(cycle_id=cycle.id, roll_id=roll.id, posted_at=now, ends_at=roll.notice_ends_at,
                                location=(roll.notice_location or "")[:200], household_count=roll.entry_count,
                                total_fen=roll.total_fen, posted_by_id=getattr(user, "id", None)))


def _cancel(roll: Roll, now: datetime) -> None:
    roll.status = "cancelled"
    for notice in db.session.scalars(select(PublicNotice).filter_by(roll_id=roll.id)).all():
        notice.withdrawn_at = now


def approve_roll(user, roll_id: int) -> Roll:
    """县批: freeze a supplementary roll every township has approved after its notice, with no
    complaint open (a user of the county)."""
    roll, cycle = get_roll(user, roll_id, "cycle.county_approve")
    if roll.status != "county":
        raise Conflict(f"名册处于「{roll.to_dict()['status_label']}」状态，须经民主评议、公示和乡镇审核后才能县级审批。")
    if cycle.status not in ("approved", "disbursing"):
        raise Conflict(f"救助周期处于「{cycle.status_label}」状态，不能审批补充名册。")
    now = utcnow()
    if now < roll.notice_ends_at:
        raise Conflict(f"公示期未满（公示至 {roll.notice_ends_at.isoformat()}），不能审批。")
    open_count = db.session.scalar(select(func.count(Complaint.id)).where(
        Complaint.cycle_id == cycle.id, Complaint.status == "open"))
    if open_count:
        raise Conflict(f"还有 {open_count} 件投诉举报未办结，不能审批。")
    roll.status, roll.frozen_at, roll.frozen_by_id = "frozen", now, getattr(user, "id", None)
    if cycle.kind == "reconstruction" and roll.purpose == "add":
        add_projects(cycle, roll_entries(roll.id), now)
    audit.record(user, "roll.approve", "relief_roll", roll.id, before={"status": "county"},
                 after={"status": "frozen"}, region_code=cycle.region_code)
    db.session.commit()
    return roll


def cancel_roll(user, roll_id: int, data) -> Roll:
    """Withdraw a supplementary roll not yet frozen (``{"reason"}``, the page's form too)."""
    roll, cycle = get_roll(user, roll_id, "cycle.manage")
    values, errors = validate(CANCEL_ROLL_FIELDS, data)
    refuse(errors, "请填写原因。" if blank_only(errors) else "撤销有误。")
    if roll.status not in ROLL_OPEN:
        raise Conflict("只有尚未冻结的补充名册可以撤销；已冻结的名册不能修改。")
    now = utcnow()
    before = roll.status
    _cancel(roll, now)
    reason = values["reason"]
    audit.record(user, "roll.cancel", "relief_roll", roll.id, before={"status": before},
                 after={"status": "cancelled"}, region_code=cycle.region_code, note=reason)
    db.session.commit()
    return roll
