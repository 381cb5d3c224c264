"""What the relief-work table (救灾工作情况统计快报表, :mod:`app.relief`) reads of the cycles: the
money of an event's cycles by source level (中央/省级/市级/县级/社会捐赠). No permission check: the
caller checked its own (``relief_work.view``).

- **paid** (已发放): the payments of the event's cycles to households living in the region,
  less what the bank failed or returned and was credited back (回盘退回);
- **received** (已下达): the allocations into the fund lines the event's cycles in the region
  draw on. Funds are allocated to counties, so a township has none of its own (``None``, shown
  blank, never 0); a fund line shared by two events' cycles counts for each.
"""
from __future__ import annotations

from sqlalchemy import func, select

from gis import codes

from ...extensions import db
from ...regions import subtree_condition
from ..models import Cycle, FundEntry, FundLine, FundSource, Household, Payment


def _paid(event_id: int, region_code: str) -> dict[str, int]:
    base = (select(FundSource.level, func.sum(Payment.amount_fen))
            .join(Cycle, Payment.cycle_id == Cycle.id)
            .join(Household, Payment.household_id == Household.id)
            .join(FundLine, Payment.fund_line_id == FundLine.id)
            .join(FundSource, FundLine.source_id == FundSource.id)
            .where(Cycle.event_id == event_id, subtree_condition(Household.village_code, region_code))
            .group_by(FundSource.level))
    paid = {level: int(fen or 0) for level, fen in db.session.execute(base).all()}
    credits = (select(FundSource.level, func.sum(FundEntry.amount_fen))
               .join(Payment, FundEntry.credit_of_id == Payment.id)
               .join(Cycle, Payment.cycle_id == Cycle.id)
               .join(Household, Payment.household_id == Household.id)
               .join(FundSource, FundEntry.source_id == FundSource.id)
               .where(FundEntry.kind == "credit", Cycle.event_id == event_id,
                      subtree_condition(Household.village_code, region_code))
               .group_by(FundSource.level))
    for level, fen in db.session.execute(credits).all():
        paid[level] = paid.get(level, 0) - int(fen or 0)
    return paid


def _received(event_id: int, region_code: str) -> dict[str, int] | None:
    if codes.level_of(region_code) in ("township", "village"):
        return None
    lines = set(db.session.scalars(select(Cycle.fund_line_id).where(
        Cycle.event_id == event_id, Cycle.fund_line_id.isnot(None),
        subtree_condition(Cycle.region_code, region_code))))
    lines |= set(db.session.scalars(select(Payment.fund_line_id).join(Cycle, Payment.cycle_id == Cycle.id).where(
        Cycle.event_id == event_id, subtree_condition(Cycle.region_code, region_code)).distinct()))
    if not lines:
        return {}
    rows = db.session.execute(
        select(FundSource.level, func.sum(FundEntry.amount_fen))
        .join(FundSource, FundEntry.source_id == FundSource.id)
        .where(FundEntry.kind == "allocation", FundEntry.line_id.in_(sorted(lines)))
        .group_by(FundSource.level)).all()
    return {level: int(fen or 0) for level, fen in rows}


def event_money(event_id: int, region_code: str) -> dict:
    """``{"received": {level: fen} | None, "paid": {level: fen}}`` for the event's cycles in
    ``region_code`` (levels with nothing are absent; ``received`` is ``None`` below a county)."""
    return {"received": _received(event_id, region_code), "paid": _paid(event_id, region_code)}
