"""Rolls (救助名册): the main roll frozen when the county approves (县定), the list of a cycle's
rolls and one roll with its entries, and the end of a supplementary roll's notice: approved and
frozen once the notice has run and every complaint is resolved, or cancelled with its notice
withdrawn. A frozen roll is never edited; corrections go in a new supplementary roll
(:mod:`.supplementary`)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ... import audit
from ...errors import Conflict, NotFound
from ...extensions import db
from ...models_common import utcnow
from ...validation import Field, validate
from ..models import Complaint, Cycle, PublicNotice, ReconstructionProject, Roll, RollEntry
from .amounts import plan, roll_entry
from .base import blank_only, get_cycle, refuse, show_id, tz
from .beneficiaries import cycle_beneficiaries

CANCEL_ROLL_FIELDS = {"reason": Field("str", max_length=4000, multiline=True, description="撤销原因")}


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
    return {**roll.to_dict(), "entries": [e.to_dict(show_id=show) for e in roll_entries(roll.id)]}


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
        db.session.add(roll_entry(cycle, roll, b.household, persons=b.persons, deceased=b.deceased, found=found,
                                  basis=basis, work_type=b.work_type))
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


def approve_roll(user, roll_id: int) -> Roll:
    """Freeze a supplementary roll whose notice has run, with no complaint open."""
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
        add_projects(cycle, roll_entries(roll.id), now)
    audit.record(user, "roll.approve", "relief_roll", roll.id, before={"status": "notice"},
                 after={"status": "frozen"}, region_code=cycle.region_code)
    db.session.commit()
    return roll


def cancel_roll(user, roll_id: int, data) -> Roll:
    """Withdraw a supplementary roll still in notice (``{"reason"}``, the page's form too)."""
    roll, cycle = get_roll(user, roll_id, "cycle.manage")
    values, errors = validate(CANCEL_ROLL_FIELDS, data)
    refuse(errors, "请填写原因。" if blank_only(errors) else "撤销有误。")
    if roll.status != "notice":
        raise Conflict("只有公示中的补充名册可以撤销；已冻结的名册不能修改。")
    now = utcnow()
    roll.status = "cancelled"
    for notice in db.session.scalars(select(PublicNotice).filter_by(roll_id=roll.id)).all():
        notice.withdrawn_at = now
    reason = values["reason"]
    audit.record(user, "roll.cancel", "relief_roll", roll.id, before={"status": "notice"},
                 after={"status": "cancelled"}, region_code=cycle.region_code, note=reason)
    db.session.commit()
    return roll
