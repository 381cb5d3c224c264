"""What awaits a user in the official order (我的待办): by the level of the user's own region,
the steps of the cycles and supplementary rolls of their county that are theirs to take now.

- a village: 民主评议 of its households (cycles in ``village_review``, rolls in ``village``);
- a township: the house-by-house check of reconstruction (with its deadline), the end of a notice
  that has run, 乡审 of its households (cycles in ``township_review``, rolls after their notice);
- a county: 县批 of cycles whose townships are done and of rolls in ``county``.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select

from gis import codes

from ...extensions import db
from ...models_common import utcnow
from ...permissions import can
from ..models import Beneficiary, Cycle, Household, Roll
from .base import within_clause
from .checks import check_deadlines_of
from .cycles import cycle_query
from .rolls import rolls_waiting

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


@dataclass(frozen=True)
class _Counts:
    """A cycle's households (those in the user's village or township below the county) by what
    waits on them."""

    unreviewed: int = 0  # no 民主评议 yet
    unchecked: int = 0  # reconstruction: no house-by-house check yet
    unapproved: int = 0  # on the notice, no 乡审 yet
    approved: int = 0  # passed 民主评议 and 乡审


#: The cycle states whose steps count households.
_COUNTED = ("draft", "survey", "village_review", "township_review")


def _counts(cycles: list[Cycle], region: str | None) -> dict[int, _Counts]:
    """:class:`_Counts` of each of ``cycles`` by cycle id, in one grouped query (``region``: only
    its households; ``None``: all of them)."""
    ids = [c.id for c in cycles if c.status in _COUNTED]
    if not ids:
        return {}

    def number(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    b = Beneficiary
    stmt = (select(b.cycle_id, number(b.village_decision.is_(None)), number(b.checked_at.is_(None)),
                   number(and_(b.village_decision == "approve", b.township_decision.is_(None))),
                   number(and_(b.village_decision == "approve", b.township_decision == "approve")))
            .where(b.cycle_id.in_(ids)).group_by(b.cycle_id))
    if region is not None:
        stmt = stmt.join(Household, Household.id == b.household_id).where(
            within_clause(Household.village_code, region))
    return {cycle_id: _Counts(*numbers) for cycle_id, *numbers in db.session.execute(stmt)}


def my_steps(user) -> list[Step]:
    """The steps waiting for ``user`` (none for a user above the county or without the permission),
    read in a fixed number of queries whatever the number of cycles and rolls."""
    try:
        level = codes.level_of(user.region_code)
    except codes.CodeError:
        return []
    if level not in ("village", "township", "county") or not can(user, "cycle.view", user.region_code):
        return []
    now = utcnow()
    live = db.session.scalars(cycle_query(user).where(Cycle.status.notin_(("closed", "cancelled")))
                              .limit(500)).all()
    if not live:
        return []
    counts = _counts(live, None if level == "county" else user.region_code)
    checking = [c for c in live if c.kind == "reconstruction" and c.status in ("draft", "survey")]
    deadlines = check_deadlines_of(checking) if level == "township" else {}
    rolls: dict[int, list[Roll]] = defaultdict(list)
    for roll in db.session.scalars(select(Roll).where(Roll.cycle_id.in_([c.id for c in live]),
                                                      Roll.kind == "supplementary",
                                                      Roll.status.in_(("village", "notice", "township", "county")))
                                   .order_by(Roll.cycle_id, Roll.id)):
        rolls[roll.cycle_id].append(roll)
    waiting = rolls_waiting([r for found in rolls.values() for r in found if _waits_on_regions(level, r, now)])
    steps: list[Step] = []
    for cycle in live:
        steps += _cycle_steps(user, level, cycle, now, counts.get(cycle.id, _Counts()), deadlines.get(cycle.id))
        for roll in rolls[cycle.id]:
            steps += _roll_steps(user, level, cycle, roll, now, waiting.get(roll.id))
    return steps


def _cycle_steps(user, level: str, cycle: Cycle, now: datetime, counts: _Counts, due: datetime | None) -> list[Step]:
    region = user.region_code
    if level == "village" and cycle.status == "village_review" and can(user, "cycle.village_review", region):
        return [Step("village_review", cycle, counts.unreviewed)] if counts.unreviewed else []
    if level == "township":
        found = []
        if cycle.kind == "reconstruction" and cycle.status in ("draft", "survey") \
                and can(user, "reconstruction.check", region) and counts.unchecked:
            found.append(Step("check", cycle, counts.unchecked, due=due))
        if cycle.status == "notice" and cycle.notice_ends_at and cycle.notice_ends_at <= now \
                and can(user, "cycle.township_review", region):
            found.append(Step("end_notice", cycle, 0))
        if cycle.status == "township_review" and can(user, "cycle.township_review", region) and counts.unapproved:
            found.append(Step("township_review", cycle, counts.unapproved))
        return found
    if level == "county" and cycle.status == "township_review" and can(user, "cycle.county_approve", cycle.region_code):
        if not counts.unapproved:
            return [Step("approve", cycle, counts.approved)]
    return []


def _waits_on_regions(level: str, roll: Roll, now: datetime) -> bool:
    """Whether the roll's step for a user of ``level`` depends on which villages or townships have taken it."""
    if level == "village":
        return roll.status == "village"
    return level == "township" and roll.status in ("notice", "township") and roll.notice_ends_at is not None \
        and roll.notice_ends_at <= now


def _roll_steps(user, level: str, cycle: Cycle, roll: Roll, now: datetime,
                waiting: dict[str, set[str]] | None) -> list[Step]:
    region = user.region_code
    if level == "village" and roll.status == "village" and can(user, "cycle.village_review", region) \
            and region in waiting["village"]:
        return [Step("village_review", cycle, 0, roll=roll)]
    if level == "township" and roll.status in ("notice", "township") and roll.notice_ends_at \
            and roll.notice_ends_at <= now and can(user, "cycle.township_review", region) \
            and region in waiting["township"]:
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
