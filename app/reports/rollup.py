"""Roll-up of loss figures (灾情汇总), village → township → county → prefecture → province.

The rule of ``API.md``: a region's total is its own latest report when it has one, otherwise the
sum of its children's totals. Pure: plain mappings in, plain data out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Mapping

from .indicators import FIELDS


@dataclass
class Total:
    """Rolled-up figures of one region: ``reporting_units`` is how many regions' own reports
    the figures are made of; ``as_of`` the latest of them."""

    region_code: str
    figures: dict[str, float] = field(default_factory=lambda: {f: 0 for f in FIELDS})
    reporting_units: int = 0
    as_of: datetime | None = None
    direct: bool = False  # the region's own report, not a sum of children

    def to_dict(self) -> dict:
        return {"region_code": self.region_code, "figures": dict(self.figures),
                "reporting_units": self.reporting_units,
                "as_of": self.as_of.isoformat() if self.as_of else None}


@dataclass(frozen=True)
class Latest:
    """A region's latest report: its figures and the time they are as of."""

    figures: Mapping[str, float]
    as_of: datetime


def roll_up(latest: Mapping[str, Latest], parent_of: Callable[[str], str | None]) -> dict[str, Total]:
    """Totals for every region that has a report or a reporting descendant.

    Parameters
    ----------
    latest : mapping of region code to its latest report (:class:`Latest`).
    parent_of : the parent of a code in the region tree (``None`` at the top). The caller passes
        the database's own tree, so regions that skip a level (省直辖县) roll up correctly.

    A region with its own report takes it, and what its descendants reported is then not added
    again: the direct report takes precedence.
    """
    depth_cache: dict[str, int] = {}

    def depth(code: str) -> int:
        if code not in depth_cache:
            parent = parent_of(code)
            depth_cache[code] = 0 if parent is None else depth(parent) + 1
        return depth_cache[code]

    totals: dict[str, Total] = {}
    for code, report in latest.items():
        totals[code] = Total(code, {f: report.figures.get(f, 0) for f in FIELDS}, 1, report.as_of, True)

    # Children are finished before their parents: walk every known code deepest first, adding
    # each finished total into its parent unless the parent reported directly.
    pending = sorted(totals, key=depth, reverse=True)
    seen = set(pending)
    index = 0
    while index < len(pending):
        code = pending[index]
        index += 1
        parent = parent_of(code)
        if parent is None:
            continue
        target = totals.get(parent)
        if target is None:
            target = totals[parent] = Total(parent)
        if parent not in seen:
            seen.add(parent)
            _insert_by_depth(pending, index, parent, depth)
        if target.direct:
            continue
        child = totals[code]
        for name in FIELDS:
            target.figures[name] += child.figures[name]
        target.reporting_units += child.reporting_units
        if child.as_of and (target.as_of is None or child.as_of > target.as_of):
            target.as_of = child.as_of
    return totals


def _insert_by_depth(pending: list[str], start: int, code: str, depth) -> None:
    """Insert ``code`` after every still-pending code that is deeper than it."""
    d = depth(code)
    position = start
    while position < len(pending) and depth(pending[position]) > d:
        position += 1
    pending.insert(position, code)


def total_for(code: str, totals: Mapping[str, Total]) -> Total:
    """The total of ``code``; a region with nothing reported beneath it has zeros."""
    return totals.get(code) or Total(code)
