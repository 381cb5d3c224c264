"""What awaits a user in the official order (我的待办): by the level of the user's own region,
the steps of the cycles and supplementary rolls of their county that are theirs to take now.

- a village: 民主评议 of its households (cycles in ``village_review``, rolls in ``village``);
- a township: the house-by-house check of reconstruction (with its deadline), the end of a notice
  that has run, 乡审 of its households (cycles in ``township_review``, rolls after their notice);
- a county: 县批 of cycles whose townships are done and of rolls in ``county``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from gis import codes

from ...extensions import db
from ...models_common import utcnow
from ...permissions import can
from ..models import Beneficiary, Cycle, Roll
from .checks import check_deadline
from .cycles import cycle_query
from .rolls import roll_waiting

STEP_LABELS = {"village_review": "民主评议", "check": "逐户核查", "end_notice": "公示期满，开始乡镇审核",
               "township_review": "乡镇审核", "approve": "县级审批"}


@dataclass
class Step:
    step: str  # STEP_LABELS
    cycle: Cycle
    count: int  # households waiting (0 when the step is the whole cycle's or roll's)
    roll: Roll | None = None
    due: datetime | None = None

    @property
    def label(self) -> str:
        return STEP_LABELS[self.step]

    @property
    def overdue(self) -> bool:
        return self.due is not None and utcnow() > self.due


def _mine(rows: list[Beneficiary], region: str) -> list[Beneficiary]:
    return [b for b in rows if codes.is_within(b.household.village_code, region)]


def _rows(cycle: Cycle) -> list[Beneficiary]:
    return db.session.scalars(select(Beneficiary).where(Beneficiary.cycle_id == cycle.id)
                              .order_by(Beneficiary.id)).all()


def my_steps(user) -> list[Step]:
    """The steps waiting for ``user`` (none for a user above the county or without the permission)."""
    try:
        level = codes.level_of(user.region_code)
    except codes.CodeError:
        return []
    if level not in ("village", "township", "county") or not can(user, "cycle.view", user.region_code):
        return []
    now = utcnow()
    live = db.session.scalars(cycle_query(user).where(Cycle.status.notin_(("closed", "cancelled")))
                              .limit(500)).all()
    steps: list[Step] = []
    for cycle in live:
        steps += _cycle_steps(user, level, cycle, now)
        for roll in db.session.scalars(select(Roll).where(Roll.cycle_id == cycle.id, Roll.kind == "supplementary",
                                                          Roll.status.in_(("village", "notice", "township", "county")))):
            steps += _roll_steps(user, level, cycle, roll, now)
    return steps


def _cycle_steps(user, level: str, cycle: Cycle, now: datetime) -> list[Step]:
    region = user.region_code
    if level == "village" and cycle.status == "village_review" and can(user, "cycle.village_review", region):
        waiting = [b for b in _mine(_rows(cycle), region) if b.village_decision is None]
        return [Step("village_review", cycle, len(waiting))] if waiting else []
    if level == "township":
        found = []
        if cycle.kind == "reconstruction" and cycle.status in ("draft", "survey") \
                and can(user, "reconstruction.check", region):
            waiting = [b for b in _mine(_rows(cycle), region) if b.checked_at is None]
            if waiting:
                found.append(Step("check", cycle, len(waiting), due=check_deadline(cycle)))
        if cycle.status == "notice" and cycle.notice_ends_at and cycle.notice_ends_at <= now \
                and can(user, "cycle.township_review", region):
            found.append(Step("end_notice", cycle, 0))
        if cycle.status == "township_review" and can(user, "cycle.township_review", region):
            waiting = [b for b in _mine(_rows(cycle), region) if b.noticed and b.township_decision is None]
            if waiting:
                found.append(Step("township_review", cycle, len(waiting)))
        return found
    if level == "county" and cycle.status == "township_review" and can(user, "cycle.county_approve", cycle.region_code):
        rows = _rows(cycle)
        if not any(b.noticed and b.township_decision is None for b in rows):
            return [Step("approve", cycle, sum(1 for b in rows if b.approved))]
    return []


def _roll_steps(user, level: str, cycle: Cycle, roll: Roll, now: datetime) -> list[Step]:
    region = user.region_code
    if level == "village" and roll.status == "village" and can(user, "cycle.village_review", region) \
            and region in roll_waiting(roll)["village"]:
        return [Step("village_review", cycle, 0, roll=roll)]
    if level == "township" and roll.status in ("notice", "township") and roll.notice_ends_at \
            and roll.notice_ends_at <= now and can(user, "cycle.township_review", region) \
            and region in roll_waiting(roll)["township"]:
        return [Step("township_review", cycle, 0, roll=roll)]
    if level == "county" and roll.status == "county" and can(user, "cycle.county_approve", cycle.region_code):
        return [Step("approve", cycle, roll.entry_count, roll=roll)]
    return []


def steps_page(user) -> dict:
    """The page of what awaits ``user`` (我的待办)."""
    try:
        level = codes.level_of(user.region_code)
    except codes.CodeError:
        level = None
    return {"steps": my_steps(user), "level": level, "now": utcnow()}
