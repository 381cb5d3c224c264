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

from sqlalchemy import func, or_, select

from gis import codes

from ...extensions import db
from ...regions import subtree_condition
from ..models import Cycle, FundEntry, FundLine, FundSource, Household, Payment


def _within_any(column, region_codes: list[str]):
    return or_(*(subtree_condition(column, code) for code in region_codes))


def _add(out: dict, region_codes: list[str], code: str, level: str, fen: int) -> None:
    """``fen`` of ``level`` counted for each of ``region_codes`` that holds ``code``."""
    for region in region_codes:
        if codes.is_within(code, region):
            out[region][level] = out[region].get(level, 0) + fen


def _paid(event_id: int, region_codes: list[str]) -> dict[str, dict[str, int]]:
    paid: dict[str, dict[str, int]] = {code: {} for code in region_codes}
    rows = db.session.execute(
        select(Household.village_code, FundSource.level, func.sum(Payment.amount_fen))
        .join(Cycle, Payment.cycle_id == Cycle.id)
        .join(Household, Payment.household_id == Household.id)
        .join(FundLine, Payment.fund_line_id == FundLine.id)
        .join(FundSource, FundLine.source_id == FundSource.id)
        .where(Cycle.event_id == event_id, _within_any(Household.village_code, region_codes))
        .group_by(Household.village_code, FundSource.level)).all()
    for village, level, fen in rows:
        _add(paid, region_codes, village, level, int(fen or 0))
    credits = db.session.execute(
        select(Household.village_code, FundSource.level, func.sum(FundEntry.amount_fen))
        .join(Payment, FundEntry.credit_of_id == Payment.id)
        .join(Cycle, Payment.cycle_id == Cycle.id)
        .join(Household, Payment.household_id == Household.id)
        .join(FundSource, FundEntry.source_id == FundSource.id)
        .where(FundEntry.kind == "credit", Cycle.event_id == event_id,
               _within_any(Household.village_code, region_codes))
        .group_by(Household.village_code, FundSource.level)).all()
    for village, level, fen in credits:
        _add(paid, region_codes, village, level, -int(fen or 0))
    return paid


def _received(event_id: int, region_codes: list[str]) -> dict[str, dict[str, int] | None]:
    upper = [code for code in region_codes if codes.level_of(code) not in ("township", "village")]
    out: dict[str, dict[str, int] | None] = {code: None for code in region_codes}
    if not upper:
        return out
    used = db.session.execute(select(Cycle.region_code, Cycle.fund_line_id).where(
        Cycle.event_id == event_id, Cycle.fund_line_id.isnot(None), _within_any(Cycle.region_code, upper))).all()
    used += db.session.execute(select(Cycle.region_code, Payment.fund_line_id).join(
        Cycle, Payment.cycle_id == Cycle.id).where(
        Cycle.event_id == event_id, _within_any(Cycle.region_code, upper)).distinct()).all()
    lines = {code: {line for region, line in used if line is not None and codes.is_within(region, code)}
             for code in upper}
    every = sorted(set().union(*lines.values()))
    allocated: dict[int, dict[str, int]] = {}
    if every:
        for line, level, fen in db.session.execute(
                select(FundEntry.line_id, FundSource.level, func.sum(FundEntry.amount_fen))
                .join(FundSource, FundEntry.source_id == FundSource.id)
                .where(FundEntry.kind == "allocation", FundEntry.line_id.in_(every))
                .group_by(FundEntry.line_id, FundSource.level)):
            allocated.setdefault(line, {})[level] = int(fen or 0)
    for code in upper:
        total: dict[str, int] = {}
        for line in lines[code]:
            for level, fen in allocated.get(line, {}).items():
                total[level] = total.get(level, 0) + fen
        out[code] = total
    return out


def event_money_by_region(event_id: int, region_codes: list[str]) -> dict[str, dict]:
    """:func:`event_money` of each of ``region_codes``, in a fixed number of queries however
    many regions there are."""
    region_codes = list(dict.fromkeys(region_codes))
    if not region_codes:
        return {}
    received, paid = _received(event_id, region_codes), _paid(event_id, region_codes)
    return {code: {"received": received[code], "paid": paid[code]} for code in region_codes}


def event_money(event_id: int, region_code: str) -> dict:
    """``{"received": {level: fen} | None, "paid": {level: fen}}`` for the event's cycles in
    ``region_code`` (levels with nothing are absent; ``received`` is ``None`` below a county)."""
    return event_money_by_region(event_id, [region_code])[region_code]
