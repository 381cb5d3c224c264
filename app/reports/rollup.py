"""Roll-up of loss figures (灾情汇总), village → township → county → prefecture → province.

The rule of ``API.md``: a region's total is its own latest report when it has one, otherwise the
sum of its children's totals. Pure: plain mappings in, plain data out.

Large roll-ups (a national event: 100,000 village reports) add the figures with numpy, level by
level up the tree, in exactly the order the plain loop adds them, so every total is the same to
the last bit: the same numbers, ``int`` where only integers were added and ``float`` where a
decimal was, the same ``as_of`` and the same order of the result. Small ones, and figures numpy
cannot add exactly (anything but ``int``/``float``/``None``, integers beyond 2⁵³), take the plain
loop.
"""
from __future__ import annotations

import gc
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import repeat
from operator import attrgetter, is_, itemgetter
from typing import Callable, Iterable, Mapping

import numpy as np
from pandas import DatetimeIndex, Timestamp
from pandas.api.types import infer_dtype

from .indicators import FIELDS

_FIELD_SET = frozenset(FIELDS)
_ROW = itemgetter(*FIELDS)
_FIGURES, _AS_OF = attrgetter("figures"), attrgetter("as_of")
#: Below this many reports the plain loop is quicker than setting up arrays (about even at 500).
ARRAY_MIN_REPORTS = 1000
#: Integer figures are added as float64, exact while every partial sum stays below 2⁵³.
_EXACT_INTEGERS = 2.0 ** 53
_NUMBER_TYPES = frozenset((int, float, bool))
_NO_TIME = np.iinfo(np.int64).min  # NaT
_CHUNK = 4096  # reports read at a time


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

    Returns
    -------
    dict of region code to :class:`Total`: first the reporting regions in the order of
    ``latest``, then the regions above them, deepest first.

    A region with its own report takes it, and what its descendants reported is then not added
    again: the direct report takes precedence. A field a report omits counts 0; a blank
    (``None``) stays blank in the region's own total and cannot be added into a parent's sum
    (``TypeError``).
    """
    if len(latest) < ARRAY_MIN_REPORTS:
        return _roll_up_plain(latest, parent_of)
    # A national roll-up makes a few hundred thousand objects that all live on; the cyclic
    # garbage collector would walk the whole heap several times over for nothing meanwhile.
    collecting = gc.isenabled()
    gc.disable()
    try:
        totals = _roll_up_arrays(latest, parent_of)
        return totals if totals is not None else _roll_up_plain(latest, parent_of)
    finally:
        if collecting:
            gc.enable()


# -- the plain loop ------------------------------------------------------------------------------

def _own_total(code: str, report: Latest) -> Total:
    figures = report.figures
    # stored figures carry exactly the indicator fields: a plain copy is enough (and fast)
    own = dict(figures) if figures.keys() == _FIELD_SET else {f: figures.get(f, 0) for f in FIELDS}
    return Total(code, own, 1, report.as_of, True)


def _roll_up_plain(latest: Mapping[str, Latest], parent_of: Callable[[str], str | None]) -> dict[str, Total]:
    """:func:`roll_up` one region at a time: the definition, and the order of its additions."""
    totals = {code: _own_total(code, report) for code, report in latest.items()}

    # Children are finished before their parents: process the codes level by level, deepest
    # first, adding each finished total into its parent unless the parent reported directly.
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


# -- the same with arrays ------------------------------------------------------------------------

def _roll_up_arrays(latest: Mapping[str, Latest],
                    parent_of: Callable[[str], str | None]) -> dict[str, Total] | None:
    """:func:`roll_up` with numpy; ``None`` when the figures are not ones it adds exactly.

    Regions are numbered: the reporting ones first (``0 … n-1``, the order of ``latest``), then
    their ancestors. Each figure is a float64 column over the regions; a level's children are
    summed into their parents with :func:`numpy.bincount`, which adds in the order of its input:
    the plain loop's order, so even float sums are bit for bit equal. A sum is an ``int`` where
    only integers went into it (the plain loop's ``0 + 3``), a ``float`` where a decimal did.
    """
    reported = list(latest)
    n = len(reported)
    if not n:
        return {}
    reports = list(latest.values())
    as_of = list(map(_AS_OF, reports))
    codes, parent = _tree(reported, parent_of)
    read = _read_figures(list(map(_FIGURES, reports)), len(codes))
    if read is None:
        return None
    owns, columns = read
    _refuse_blanks(columns, codes, parent, n)
    levels = _levels(parent, n)

    above = [codes[i] for level in levels for i in level.created.tolist()]
    order = np.array([i for level in levels for i in level.created.tolist()], np.int64)
    units = np.zeros(len(codes))
    units[:n] = 1
    for level in levels:
        units[level.parents] = level.sums(units)
    figures = [_sum_column(column, levels, order) for column in columns]
    totals = dict(zip(reported, map(Total, reported, owns, repeat(1), as_of, repeat(True))))
    totals.update(zip(above, map(Total, above, map(dict, map(zip, repeat(FIELDS), zip(*figures))),
                                 units[order].astype(np.int64).tolist(),
                                 _latest_times(as_of, levels, order, len(codes)), repeat(False))))
    return totals


@dataclass(frozen=True)
class _Column:
    """One figure of every region: ``values``, the reports' first (a blank as 0), zeros for the
    regions above them; ``floats``, whether each report's value is a ``float`` (one ``bool`` when
    all or none are); ``blank``, where it was ``None``."""

    values: np.ndarray
    floats: np.ndarray | bool
    blank: np.ndarray | None = None


@dataclass(frozen=True)
class _Level:
    """One level of the plain loop: its ``children`` in the order they are added, each one's
    parent's position in ``parents`` (``slot``), and the regions it ``created``, in order."""

    children: np.ndarray
    parents: np.ndarray  # sorted, each once
    slot: np.ndarray
    created: np.ndarray

    def sums(self, column: np.ndarray) -> np.ndarray:
        """Each parent's ``0 + first child + second child …``, in the children's order."""
        return np.bincount(self.slot, column[self.children], len(self.parents))


def _read_figures(given: list[Mapping[str, float]], size: int) -> tuple[list[dict], list[_Column]] | None:
    """Each report's own figures as the plain loop copies them, and each indicator as a
    :class:`_Column` of ``size`` regions; ``None`` for figures the arrays would not add as
    Python does. Read a few thousand reports at a time: the temporaries stay small."""
    n, width = len(given), len(FIELDS)
    if set(map(len, given)) == {width}:  # the indicator fields, a plain copy (else a KeyError below)
        owns = list(map(dict.copy if set(map(type, given)) == {dict} else dict, given))
        source = given
    else:
        owns = [dict(figures) if figures.keys() == _FIELD_SET else {f: figures.get(f, 0) for f in FIELDS}
                for figures in given]
        source = owns
    values = np.zeros((width, size))
    floats = np.zeros((width, n), bool)
    blank = np.zeros((width, n), bool)
    kinds: list[set] = [set() for _ in FIELDS]
    try:
        for start in range(0, n, _CHUNK):
            end = min(start + _CHUNK, n)
            table = np.array(list(map(_ROW, source[start:end])), dtype=object)
            if table.shape != (end - start, width):
                return None  # figures that are sequences
            for j in range(width):
                kind = _read_chunk(table[:, j], values[j, start:end], floats[j, start:end], blank[j, start:end])
                if kind is None:
                    return None
                kinds[j].add(kind)
    except (KeyError, ValueError, OverflowError):  # 21 fields but not the indicators; figures
        return None  # that are sequences of different lengths; an integer beyond float64
    columns = []
    for j in range(width):
        flags = floats[j] if "mixed" in kinds[j] or kinds[j] == {"int", "float"} else "float" in kinds[j]
        column = _Column(values[j], flags, blank[j] if blank[j].any() else None)
        # integers add exactly while their sums stay below 2⁵³ (and so does every partial sum)
        integers = column.values[:n] if flags is False else np.where(flags, 0.0, column.values[:n])
        if np.abs(integers).sum() >= _EXACT_INTEGERS:
            return None
        columns.append(column)
    return owns, columns


def _read_chunk(given: np.ndarray, values: np.ndarray, floats: np.ndarray, blank: np.ndarray) -> str | None:
    """Read one column of a chunk of reports into ``values``, ``floats`` and ``blank``; its kind
    (``int``, ``float`` or ``mixed``), or ``None`` for values the plain loop must add."""
    kind = infer_dtype(given, skipna=False)
    if kind in ("integer", "boolean"):
        values[:] = given
        return "int"
    if kind == "floating":
        values[:] = given
        floats[:] = True
        return "float"
    types = set(map(type, given))
    if not types <= _NUMBER_TYPES | {type(None)}:
        return None  # Decimal, text: the plain loop adds them
    if type(None) in types:
        blank[:] = np.fromiter(map(is_, given, repeat(None)), bool, len(given))
        given = np.where(blank, 0, given)
    values[:] = given
    floats[:] = np.fromiter(map(is_, map(type, given), repeat(float)), bool, len(given))
    return "mixed"


def _refuse_blanks(columns: list[_Column], codes: list[str], parent: np.ndarray, n: int) -> None:
    """The plain loop's ``TypeError``: a blank figure of a report that goes into a parent's sum
    (a parent that has no report of its own)."""
    into_sum = parent[:n] >= n
    for name, column in zip(FIELDS, columns):
        if column.blank is not None and (column.blank & into_sum).any():
            child = int(np.flatnonzero(column.blank & into_sum)[0])
            raise TypeError(f"{codes[child]}: {name} is blank (None) and cannot be added into the sum "
                            f"of {codes[int(parent[child])]}")


def _tree(reported: list[str], parent_of: Callable[[str], str | None]) -> tuple[list[str], np.ndarray]:
    """Every region from the reporting ones up to the top: ``(codes, parent)``, the reporting
    regions first, ``parent[i]`` the index of region ``i``'s parent (-1 at the top)."""
    index: dict[str | None, int] = {None: -1}
    index.update(zip(reported, range(len(reported))))
    codes = list(reported)
    parents: list[np.ndarray] = []
    frontier = reported
    while frontier:
        ups = list(map(parent_of, frontier))
        frontier = [up for up in dict.fromkeys(ups) if up not in index]
        index.update(zip(frontier, range(len(codes), len(codes) + len(frontier))))
        codes += frontier
        parents.append(np.fromiter(map(index.__getitem__, ups), np.int64, len(ups)))
    return codes, np.concatenate(parents)


def _depths(parent: np.ndarray) -> np.ndarray:
    """How many ancestors each region has (a loop in the tree is an error, not an endless walk)."""
    depth = np.zeros(len(parent), np.int64)
    above = parent.copy()
    for _ in range(len(parent) + 1):
        up = above >= 0
        if not up.any():
            return depth
        depth += up
        above[up] = parent[above[up]]
    raise ValueError("the region tree has a loop: a region is its own ancestor")


def _levels(parent: np.ndarray, n: int) -> list[_Level]:
    """The plain loop's levels, deepest first. Its bucket of a depth holds that depth's reporting
    regions in the order of ``latest``, then the regions it created while finishing the level
    below, in the order it met them; each is added into its parent unless the parent reported."""
    depth = _depths(parent)
    reported_depth = depth[:n]
    levels = []
    created = np.empty(0, np.int64)
    for level in range(int(depth.max()), 0, -1):
        children = np.concatenate([np.flatnonzero(reported_depth == level), created])
        parents = parent[children]  # every region below the top has one
        summed = parents >= n  # a reporting parent keeps its own figures
        children = children[summed]
        made, first, slot = np.unique(parents[summed], return_index=True, return_inverse=True)
        created = made[np.argsort(first, kind="stable")]
        levels.append(_Level(children, made, slot.ravel(), created))
    return levels


def _sum_column(column: _Column, levels: list[_Level], order: np.ndarray) -> list:
    """One figure of the regions above the reports (``order``), summed level by level, as
    Python numbers: ``int`` where only integers were added, else ``float``."""
    values = column.values
    for level in levels:
        values[level.parents] = level.sums(values)
    if column.floats is False:
        return values[order].astype(np.int64).tolist()
    if column.floats is True:
        return values[order].tolist()
    floats = np.zeros(len(values))
    floats[:len(column.floats)] = column.floats
    for level in levels:
        floats[level.parents] = level.sums(floats) > 0
    return [v if f else int(v) for v, f in zip(values[order].tolist(), floats[order].tolist())]


def _latest_times(as_of: list, levels: list[_Level], order: np.ndarray, size: int) -> list:
    """``as_of`` of the regions above the reports (``order``): the latest of their children's,
    the first of equal ones, as the plain loop keeps them."""
    instants = _instants(as_of)
    if instants is None:  # the plain loop's comparisons, one by one
        times = as_of + [None] * (size - len(as_of))
        for level in levels:
            for child, up in zip(level.children.tolist(), level.parents[level.slot].tolist()):
                when = times[child]
                if when and (times[up] is None or when > times[up]):
                    times[up] = when
        return [times[i] for i in order.tolist()]
    key = np.full(size, _NO_TIME, np.int64)
    key[:len(as_of)] = instants
    source = np.full(size, -1, np.int64)  # the report whose time a region carries
    source[:len(as_of)] = np.where(instants != _NO_TIME, np.arange(len(as_of)), -1)
    for level in levels:
        keys = key[level.children]
        best = np.full(len(level.parents), _NO_TIME, np.int64)
        np.maximum.at(best, level.slot, keys)
        hits = np.flatnonzero(keys == best[level.slot])  # every parent has one
        first = np.full(len(level.parents), len(keys), np.int64)
        np.minimum.at(first, level.slot[hits], hits)
        key[level.parents] = best
        source[level.parents] = source[level.children[first]]
    return [as_of[i] if i >= 0 else None for i in source[order].tolist()]


def _instants(as_of: list) -> np.ndarray | None:
    """The times as integers that order as Python compares them (``_NO_TIME`` for ``None``);
    ``None`` unless they are all naive or all in one fixed-offset zone (where wall-clock order,
    which Python uses for times of one ``tzinfo``, is the order of the instants)."""
    if not set(map(type, as_of)) <= {datetime, Timestamp, type(None)}:
        return None
    try:
        index = DatetimeIndex(as_of)
    except (TypeError, ValueError, OverflowError):  # two zones, naive and aware, out of range
        return None
    if index.tz is not None and not isinstance(index.tz, timezone):
        return None  # a zone with summer time: its wall clock goes back once a year
    return index.asi8


def total_for(code: str, totals: Mapping[str, Total]) -> Total:
    """The total of ``code``; a region with nothing reported beneath it has zeros."""
    return totals.get(code) or Total(code)
