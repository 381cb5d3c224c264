"""The checks of a report's figures against what is already known (``issue 13``, ``domain.md`` §3):

- **hard limits** refuse: a people count (unit 人) above ``REPORT_POPULATION_HARD_SHARE`` × the
  region's population, a household count (unit 户) above that share of its households (``None``
  turns the check off);
- **soft limits** need a note (说明), as a sharp change does: a jump since the region's previous
  report (突增突减), an own figure lower than the sum reported from below (本级填报 below 汇总下级),
  and a count above ``REPORT_POPULATION_SOFT_SHARES[field]`` × population (or households).

A region without population or household figures uses its nearest ancestor's (a village is
never larger than its county); with none known the limit is not checked. Each field gets at most
one error, and a field that is already wrong (a negative number, a type error) is not checked
again: one bad value never causes follow-on errors.
"""
from __future__ import annotations

from typing import Mapping

from sqlalchemy import bindparam, select

from gis import codes

from ...extensions import db
from ...regions import Region
from .. import indicators
from ..rollup import Total
from ..totals import below_totals
from ._common import config

PEOPLE, HOUSEHOLDS = "人", "户"


def check(event, code: str, prev, clean: Mapping[str, float], note: str | None, errors: list[dict],
          rows: Mapping[str, tuple[int | None, int | None]] | None = None) -> None:
    """Append the hard-limit errors, and the soft ones when there is no note (each field named,
    plus one error on ``note`` naming them all). ``rows``: :func:`region_rows` of ``code`` when
    the caller has read them already."""
    bad = {e["field"] for e in errors}
    capacity = region_capacity(code, rows)
    errors.extend(hard_limits(clean, capacity, bad))
    bad = {e["field"] for e in errors}
    soft = []
    if prev is not None:
        soft += indicators.jumps(prev.figures, clean, float(config("REPORT_JUMP_UP_FACTOR")),
                                 float(config("REPORT_JUMP_DOWN_FACTOR")))
    soft += below_sum(clean, sum_from_below(event.id, code))
    soft += soft_limits(clean, capacity)
    soft = [e for e in one_per_field(soft) if e["field"] not in bad]
    if soft and not note:
        errors.extend(soft)
        names = "、".join(indicators.BY_FIELD[e["field"].split(".", 1)[1]].label for e in soft)
        errors.append({"field": "note", "message": f"{names}须在说明（note）中解释原因"
                                                   f"（突增突减、低于下级汇总或超出常见范围）"})


def one_per_field(errors: list[dict]) -> list[dict]:
    """The first error of each field, in order: no follow-on errors for a field."""
    seen, out = set(), []
    for error in errors:
        if error.get("field") in seen:
            continue
        seen.add(error.get("field"))
        out.append(error)
    return out


#: Built once: every report runs it.
_REGION_ROWS = (select(Region.code, Region.population, Region.households)
                .where(Region.code.in_(bindparam("chain", expanding=True))))


def region_rows(code: str) -> dict[str, tuple[int | None, int | None]]:
    """``code → (population, households)`` of the region and of its ancestors, those that exist
    (one query): the region's own row is also the proof that it exists."""
    chain = [code, *codes.ancestors(code)]
    return {c: (p, h) for c, p, h in db.session.connection().execute(_REGION_ROWS, {"chain": chain})}


def region_capacity(code: str, rows: Mapping[str, tuple[int | None, int | None]] | None = None) -> dict[str, int]:
    """``{"人": population, "户": households}`` of the region, each from its nearest ancestor
    when the region has none (0 = unknown); ``rows`` as :func:`region_rows` gives them."""
    chain = [code, *codes.ancestors(code)]
    if rows is None:
        rows = region_rows(code)
    out = {PEOPLE: 0, HOUSEHOLDS: 0}
    for item in chain:
        population, households = rows.get(item, (0, 0))
        out[PEOPLE] = out[PEOPLE] or (population or 0)
        out[HOUSEHOLDS] = out[HOUSEHOLDS] or (households or 0)
    return out


def _limited(clean: Mapping[str, float], capacity: Mapping[str, int]):
    """``(indicator, value, capacity)`` for every people or household count with a known capacity."""
    for indicator in indicators.INDICATORS:
        size = capacity.get(indicator.unit, 0)
        if size and indicator.field in clean:
            yield indicator, clean[indicator.field], size


def _num(value: float) -> str:
    """A figure as a clerk writes it: 999999999, 12.5 (never 1e+09)."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _what(unit: str) -> str:
    return "人口" if unit == PEOPLE else "户数"


def hard_limits(clean: Mapping[str, float], capacity: Mapping[str, int], bad: set[str]) -> list[dict]:
    """People and household counts above ``REPORT_POPULATION_HARD_SHARE`` × the region's (``None``:
    not checked)."""
    if config("REPORT_POPULATION_HARD_SHARE") is None:
        return []
    share = float(config("REPORT_POPULATION_HARD_SHARE"))
    out = []
    for indicator, value, size in _limited(clean, capacity):
        field = f"figures.{indicator.field}"
        if field not in bad and value > share * size:
            out.append({"field": field, "rule": "region_hard_limit",
                        "message": f"{indicator.label} {_num(value)} 超过区划{_what(indicator.unit)} {size}"
                                   f"（上限 {share:g} 倍，REPORT_POPULATION_HARD_SHARE），不予接受"})
    return out


def soft_limits(clean: Mapping[str, float], capacity: Mapping[str, int]) -> list[dict]:
    """Counts above their field's share in ``REPORT_POPULATION_SOFT_SHARES`` (a note says why)."""
    shares = config("REPORT_POPULATION_SOFT_SHARES") or {}
    out = []
    for indicator, value, size in _limited(clean, capacity):
        share = shares.get(indicator.field)
        if share is not None and value > float(share) * size:
            out.append({"field": f"figures.{indicator.field}", "rule": "region_soft_limit",
                        "message": f"{indicator.label} {_num(value)} 超过区划{_what(indicator.unit)} {size} 的 "
                                   f"{float(share):.0%}（{_num(float(share) * size)}，REPORT_POPULATION_SOFT_SHARES），"
                                   f"须在说明（note）中解释原因"})
    return out


def sum_from_below(event_id: int, code: str) -> Total | None:
    """The sum of the reports from below the region (汇总下级), ``None`` for a village or when
    nothing below has reported."""
    if codes.level_of(code) == "village":
        return None
    below = below_totals(event_id, code).get(code)
    return below if below is not None and below.reporting_units else None


def below_sum(clean: Mapping[str, float], below: Total | None) -> list[dict]:
    """Own figures lower than the sum from below (a note must say why the own figure is right)."""
    if below is None:
        return []
    out = []
    for indicator in indicators.INDICATORS:
        own, summed = clean.get(indicator.field, 0), below.figures.get(indicator.field, 0)
        if own < summed:
            out.append({"field": f"figures.{indicator.field}", "rule": "below_sum",
                        "message": f"{indicator.label} {_num(own)} 低于下级汇总 {_num(summed)}"
                                   f"（{below.reporting_units} 个单位的报告），须在说明（note）中解释原因"})
    return out
