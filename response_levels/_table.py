"""The vectorised path: one plan over many units at once (批量判定).

It gives the same rank as :func:`response_levels.evaluate` for every row; thresholds are scaled
by the same scalar function, once per distinct adjustment factor.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ._evaluate import scaled
from ._model import (
    DROUGHT,
    HOUSE_HOUSEHOLDS,
    HOUSE_ROOMS,
    INDICATORS,
    RELOCATED_OR_AID,
    AdjacentLinkageCriterion,
    Criterion,
    DroughtCriterion,
    HousesCriterion,
    Plan,
    RelocatedOrAidCriterion,
    SumCriterion,
    ThresholdCriterion,
)

_INDICATOR_SET = frozenset(INDICATORS)


class _Table:
    """Columns of a table, with missing indicators as zeros."""

    def __init__(self, table: Mapping[str, np.ndarray]):
        unknown = sorted(str(k) for k in table if k not in _INDICATOR_SET)
        if unknown:
            raise ValueError(f"table: unknown indicator(s) {', '.join(unknown)} "
                             "(field names of domain.md §3)")
        self.columns: dict[str, np.ndarray] = {}
        n = None
        for key, column in table.items():
            array = np.asarray(column, dtype=np.float64)
            if array.ndim != 1:
                raise ValueError(f"table.{key}: must be a 1-D array (got shape {array.shape})")
            if n is not None and array.shape[0] != n:
                raise ValueError(f"table.{key}: length {array.shape[0]} differs from {n}")
            n = array.shape[0]
            if not np.all(array >= 0):
                raise ValueError(f"table.{key}: every value must be a number ≥ 0")
            self.columns[key] = array
        self.n = n or 0
        self._zeros = np.zeros(self.n)
        self._sums: dict[tuple[str, ...], np.ndarray] = {}

    def __getitem__(self, key: str) -> np.ndarray:
        return self.columns.get(key, self._zeros)

    def total(self, keys: Sequence[str]) -> np.ndarray:
        key = tuple(keys)
        if key not in self._sums:
            out = self[key[0]]
            for name in key[1:]:
                out = out + self[name]
            self._sums[key] = out
        return self._sums[key]


def _neighbour_max(values: np.ndarray, neighbours: Sequence[Sequence[int]] | None) -> np.ndarray:
    """For each row, the largest ``values`` among its neighbours (0 when it has none)."""
    n = values.shape[0]
    out = np.zeros(n)
    if neighbours is None:
        return out
    lengths = np.fromiter((len(x) for x in neighbours), dtype=np.int64, count=n)
    rows = np.flatnonzero(lengths)
    if rows.size == 0:
        return out
    flat = np.concatenate([np.asarray(neighbours[i], dtype=np.int64) for i in rows])
    starts = np.concatenate(([0], np.cumsum(lengths[rows])[:-1]))
    out[rows] = np.maximum.reduceat(values[flat], starts)
    return out


def evaluate_table(plan: Plan, table: Mapping[str, np.ndarray],
                   agricultural_population: np.ndarray | None = None, *,
                   region_codes: Sequence[str | None] | None = None,
                   neighbours: Sequence[Sequence[int]] | None = None) -> np.ndarray:
    """Ranks that ``plan`` gives for many units at once; 0 where no level is reached.

    Row ``i`` gets the same rank as ``evaluate(plan, row_i, Context(region_codes[i],
    agricultural_population[i], [row_j for j in neighbours[i]]))``.

    Parameters
    ----------
    plan : Plan
    table : Mapping of str to 1-D numpy.ndarray
        One column per indicator (field names of ``domain.md`` §3), one row per unit; missing
        columns count as 0.
    agricultural_population : 1-D numpy.ndarray, optional
        农牧业人口 per unit, for the drought percentage; NaN (or 0) where unknown.
    region_codes : sequence of str, optional
        Region code per unit, to apply the plan's per-region adjustments (酌情调整).
    neighbours : sequence of sequences of int, optional
        For each unit, the row indices of its adjacent units in the same disaster process, for
        联动启动.

    Returns
    -------
    numpy.ndarray of int8
        The rank per unit (1 the highest tier), 0 where no level is reached.

    Raises
    ------
    ValueError
        For unknown indicators, negative values or columns of different lengths.
    """
    cols = _Table(table)
    n = cols.n
    agri = None
    if agricultural_population is not None:
        agri = np.asarray(agricultural_population, dtype=np.float64)
        if agri.shape != (n,):
            raise ValueError(f"agricultural_population: shape {agri.shape} differs from ({n},)")
    for name, given in (("region_codes", region_codes), ("neighbours", neighbours)):
        if given is not None and len(given) != n:
            raise ValueError(f"{name}: length {len(given)} differs from {n}")

    factors = [1]
    group = None
    if region_codes is not None and plan.adjustments:
        by_code = {a.region_code: i + 1 for i, a in enumerate(plan.adjustments)}
        factors += [a.factor for a in plan.adjustments]
        group = np.fromiter((by_code.get(code, 0) for code in region_codes),
                            dtype=np.int64, count=n)
        if not group.any():
            group = None

    def bound(value):
        if group is None:
            return scaled(value, 1)
        return np.array([scaled(value, f) for f in factors])[group]

    ranks = np.zeros(n, dtype=np.int8)
    for level in reversed(plan.levels):
        met = np.zeros(n, dtype=bool)
        for criterion in level.criteria:
            met |= _met(criterion, cols, plan.relocated_mode, bound, agri, neighbours)
        ranks[met] = level.rank
    return ranks


def _met(criterion: Criterion, cols: _Table, mode: str, bound, agri, neighbours) -> np.ndarray:
    if isinstance(criterion, ThresholdCriterion):
        return cols[criterion.indicator] >= bound(criterion.min)
    if isinstance(criterion, SumCriterion):
        return cols.total(criterion.indicators) >= bound(criterion.min)
    if isinstance(criterion, RelocatedOrAidCriterion):
        t = bound(criterion.min)
        if mode == "sum":
            return cols.total(RELOCATED_OR_AID) >= t
        return (cols[RELOCATED_OR_AID[0]] >= t) | (cols[RELOCATED_OR_AID[1]] >= t)
    if isinstance(criterion, HousesCriterion):
        met = np.zeros(cols.n, dtype=bool)
        if criterion.rooms_min is not None:
            met |= cols.total(HOUSE_ROOMS) >= bound(criterion.rooms_min)
        if criterion.households_min is not None:
            met |= cols.total(HOUSE_HOUSEHOLDS) >= bound(criterion.households_min)
        return met
    if isinstance(criterion, DroughtCriterion):
        value = cols[DROUGHT]
        met = np.zeros(cols.n, dtype=bool)
        if criterion.min is not None:
            met |= value >= bound(criterion.min)
        if criterion.percent is not None and agri is not None:
            with np.errstate(invalid="ignore"):
                met |= ((value * 100.0 >= np.asarray(bound(criterion.percent), dtype=float) * agri)
                        & (agri > 0))
        return met
    if isinstance(criterion, AdjacentLinkageCriterion):
        own = cols.total(criterion.indicators)
        partner = _neighbour_max(own, neighbours)
        return ((own >= bound(criterion.min)) & (own < bound(criterion.max))
                & (partner >= criterion.max))
    raise TypeError(f"not a criterion: {criterion!r}")
