"""The winter-spring season (冬春) in months and money: its payment months, even splits, the
payment day of a month, and the schedule that pays the winter share before Spring Festival and
the spring share by the end of the shortage season. Pure (no Flask, no database)."""
from __future__ import annotations

import calendar
from datetime import date


def winter_spring_months(year: int, from_month: int, to_month: int) -> list[tuple[int, int]]:
    """Payment months of the winter-spring season whose survey is in autumn of ``year``.

    A month from September on belongs to ``year``, an earlier one to the next year.

    >>> winter_spring_months(2025, 12, 5)
    [(2025, 12), (2026, 1), (2026, 2), (2026, 3), (2026, 4), (2026, 5)]
    >>> winter_spring_months(2025, 3, 5)
    [(2026, 3), (2026, 4), (2026, 5)]
    """
    start_year = year if from_month >= 9 else year + 1
    end_year = start_year + 1 if to_month < from_month else start_year
    out, y, m = [], start_year, from_month
    while (y, m) <= (end_year, to_month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def split_evenly(total: int, parts: int) -> list[int]:
    """``total`` in ``parts`` whole amounts; the remainder goes into the first part.

    >>> split_evenly(1000, 3)
    [334, 333, 333]
    """
    if parts <= 0:
        raise ValueError("parts must be positive")
    base, rest = divmod(total, parts)
    return [base + rest] + [base] * (parts - 1)


def due_day(year: int, month: int, payment_day: int) -> date:
    return date(year, month, min(payment_day, calendar.monthrange(year, month)[1]))


WINTER_MONTHS = (12, 1, 2)
SEASON_PARTS = {"before": "冬季（春节前）", "after": "冬季（春节后）", "spring": "春荒"}


def winter_spring_schedule(total: int, months: list[tuple[int, int]], *, festival: date | None, payment_day: int,
                           winter_percent: int | None = None, before_percent: int = 100) -> list[tuple[int, int, int, str]]:
    """``total`` over the payment ``months`` of a season as ``(year, month, amount, part)``.

    The winter share (by months, or ``winter_percent`` of the total) is paid in the winter months
    due before ``festival`` (``before_percent`` of it; the rest in the winter months after it, or
    the first spring month); the spring share evenly over the spring months, the last one in the
    last month of the shortage season. Months owed nothing are left out.

    >>> winter_spring_schedule(600, [(2024, 12), (2025, 1), (2025, 2), (2025, 3), (2025, 4), (2025, 5)],
    ...                        festival=date(2025, 1, 29), payment_day=1)
    [(2024, 12, 150, 'before'), (2025, 1, 150, 'before'), (2025, 3, 100, 'spring'), (2025, 4, 100, 'spring'), (2025, 5, 100, 'spring')]
    """
    winter = [ym for ym in months if ym[1] in WINTER_MONTHS]
    spring = [ym for ym in months if ym[1] not in WINTER_MONTHS]
    if not spring:
        winter_total = total
    elif not winter:
        winter_total = 0
    elif winter_percent is None:
        winter_total = total * len(winter) // len(months)
    else:
        winter_total = total * winter_percent // 100
    before = [ym for ym in winter if festival is None or due_day(*ym, payment_day) < festival] or winter[:1]
    after = [ym for ym in winter if ym not in before] or spring[:1] or before[-1:]
    early = winter_total * before_percent // 100
    amounts: dict[tuple[int, int], list] = {ym: [0, "spring"] for ym in months}
    for parts, share, label in ((before, early, "before"), (after, winter_total - early, "after")):
        if share and parts:
            for ym, amount in zip(parts, split_evenly(share, len(parts))):
                amounts[ym][0] += amount
                amounts[ym][1] = label
    if spring and total - winter_total:
        for ym, amount in zip(spring, split_evenly(total - winter_total, len(spring))):
            amounts[ym][0] += amount
    return [(y, m, amount, part) for (y, m), (amount, part) in amounts.items() if amount > 0]
