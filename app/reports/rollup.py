"""Roll-up of loss figures (灾情汇总), village → township → county → prefecture → province.

The rule of ``API.md``: a region's total is its own latest report when it has one, otherwise the
sum of its children's totals. Pure: plain mappings in, plain data out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable, Mapping

from .indicators import FIELDS

_FIELD_SET = frozenset(FIELDS)


@dataclass
class Total:
    """Rolled-up figures of one region: ``reporting_units`` is how many regions' own reports
    the figures are made of; ``as_of`` the latest of them."""

    region_code: str
    figures: dict[str, float] = field(default_factory=lambda: {f: 0 for f in FIELDS})
    reporting_units: int = 0
    as_of: datetime | None = None
    direct: bool = False  # the region's own report, not a sum of children

    @property
    def basis(self) -> str:
        """What the figures are: ``own`` (the region's own latest report), ``sum`` (the sum of
        ``reporting_units`` reports from below) or ``none`` (nothing reported yet)."""
        return "own" if self.direct else ("sum" if self.reporting_units else "none")

    def to_dict(self) -> dict:
        return {"region_code": self.region_code, "figures": dict(self.figures),
                "reporting_units": self.reporting_units,
                "as_of": self.as_of.isoformat() if self.as_of else None, "basis": self.basis}


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
    totals: dict[str, Total] = {}
    for code, report in latest.items():
        figures = report.figures
        # stored figures carry exactly the indicator fields: a plain copy is enough (and fast)
        own = dict(figures) if figures.keys() == _FIELD_SET else {f: figures.get(f, 0) for f in FIELDS}
        totals[code] = Total(code, own, 1, report.as_of, True)

    # Children are finished before their parents: process the codes level by level, deepest
    # first, adding each finished total into its parent unless the parent reported directly.
    # (Buckets by depth: linear in the number of regions; the order of the previous version.)
    depth = _depth_function(parent_of)
    levels = _by_depth(totals, depth)
    current = max(levels, default=-1)
    while current >= 0:
        for code in levels.get(current, ()):
            parent = parent_of(code)
            if parent is None:
                continue
            target = totals.get(parent)
            if target is None:
                target = totals[parent] = Total(parent)
                levels.setdefault(depth(parent), []).append(parent)
            if target.direct:
                continue
            child = totals[code]
            into, source = target.figures, child.figures
            for name in FIELDS:
                into[name] += source[name]
            target.reporting_units += child.reporting_units
            if child.as_of and (target.as_of is None or child.as_of > target.as_of):
                target.as_of = child.as_of
        current -= 1
    return totals


def _by_depth(codes: Iterable[str], depth: Callable[[str], int]) -> dict[int, list[str]]:
    """The codes bucketed by their depth in the tree (the order within a bucket is theirs)."""
    levels: dict[int, list[str]] = {}
    for code in codes:
        levels.setdefault(depth(code), []).append(code)
    return levels


def _depth_function(parent_of: Callable[[str], str | None]) -> Callable[[str], int]:
    """``depth(code)``: how many ancestors ``code`` has, each chain walked once (memoised)."""
    depth_cache: dict[str, int] = {}

    def depth(code: str) -> int:
        # iterative: walk up to the first code of known depth, then fill the chain in
        chain = []
        while code not in depth_cache:
            parent = parent_of(code)
            if parent is None:
                depth_cache[code] = 0
                break
            chain.append(code)
            code = parent
        known = depth_cache[code]
        for item in reversed(chain):
            known += 1
            depth_cache[item] = known
        return depth_cache[chain[0]] if chain else depth_cache[code]

    return depth


def total_for(code: str, totals: Mapping[str, Total]) -> Total:
    """The total of ``code``; a region with nothing reported beneath it has zeros."""
    return totals.get(code) or Total(code)
