"""Evaluate one unit's figures against a plan (启动条件判定).

Every criterion is broken into *terms*: an indicator (or a sum of indicators) compared with one
threshold. A criterion with alternatives (房屋 rooms or households, 转移安置 or 救助 in ``either``
mode) is met when any term is; the linkage criterion (联动启动) is met when all of its terms are.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from ._model import (
    DROUGHT,
    HOUSE_HOUSEHOLDS,
    HOUSE_ROOMS,
    INDICATORS,
    RELOCATED_OR_AID,
    AdjacentLinkageCriterion,
    Adjustment,
    Criterion,
    DroughtCriterion,
    HousesCriterion,
    Level,
    Number,
    Plan,
    RelocatedOrAidCriterion,
    SumCriterion,
    ThresholdCriterion,
)

_INDICATOR_SET = frozenset(INDICATORS)

#: Prefix of the indicator label of a neighbour's figure in linkage terms.
ADJACENT_PREFIX = "adjacent:"


@dataclass(frozen=True)
class Context:
    """What an evaluation needs beyond the unit's own figures.

    Attributes
    ----------
    region_code : str or None
        The evaluated unit; selects a per-region adjustment (酌情调整) of the plan.
    agricultural_population : int or None
        The unit's 农牧业人口, for the percentage form of the drought criterion. When ``None``
        (or 0) only the absolute drought bound applies.
    adjacent : sequence of Mapping
        Figures of neighbouring units in the same disaster process, for 联动启动.
    """

    region_code: str | None = None
    agricultural_population: Number | None = None
    adjacent: Sequence[Mapping[str, Number]] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "adjacent", tuple(self.adjacent))


class _Plain:
    """Mixin: ``to_dict()`` giving JSON-ready plain data."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def _plain(value: Any) -> Any:
    if isinstance(value, _Plain):
        return value.to_dict()
    if isinstance(value, Adjustment):
        return {"region_code": value.region_code, "factor": value.factor,
                "reason": value.reason}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


@dataclass(frozen=True)
class Trigger(_Plain):
    """A criterion met at the chosen level (触发条件).

    Attributes
    ----------
    indicator : str
        Indicator, or sum of indicators joined with ``+`` (``"deaths+missing"``); a neighbour's
        figure in a linkage criterion starts with ``"adjacent:"``.
    value : int or float
        The unit's figure.
    threshold : int or float
        The bound it reached (after any adjustment).
    level : str
        Label of the level.
    kind : str
        Criterion kind.
    description : str
        The criterion's wording.
    criterion_id : str
        The criterion's id within its level.
    rank : int
        Rank of the level.
    """

    indicator: str
    value: Number
    threshold: Number
    level: str
    kind: str
    description: str
    criterion_id: str
    rank: int


@dataclass(frozen=True)
class Gap(_Plain):
    """How far a figure is from a criterion of the next higher level (距上一级差距).

    Attributes
    ----------
    indicator : str
    value : int or float
    threshold : int or float
    gap : int or float
        ``threshold - value``.
    criterion_id : str
    kind : str
    description : str
    """

    indicator: str
    value: Number
    threshold: Number
    gap: Number
    criterion_id: str
    kind: str
    description: str


@dataclass(frozen=True)
class CriterionValue(_Plain):
    """One term of one criterion at one level, value against threshold (for display).

    Attributes
    ----------
    level : str
    rank : int
    criterion_id : str
    kind : str
    indicator : str
    value : int or float
    threshold : int or float
        Lower bound, included.
    upper : int or float or None
        Upper bound, excluded, for the linkage band; ``None`` otherwise.
    met : bool
        Whether this term is met.
    criterion_met : bool
        Whether the whole criterion is met.
    status : str
        Confidence mark of the criterion (its own, else its level's).
    description : str
    """

    level: str
    rank: int
    criterion_id: str
    kind: str
    indicator: str
    value: Number
    threshold: Number
    upper: Number | None
    met: bool
    criterion_met: bool
    status: str
    description: str


@dataclass(frozen=True)
class Evaluation(_Plain):
    """The response level a plan gives for one unit (响应等级判定结果).

    Attributes
    ----------
    plan_id : str
    plan_version : str
    region_code : str or None
    level : str or None
        Label of the level reached, ``None`` when no level is reached.
    rank : int or None
    status : str or None
        Confidence mark of the level reached.
    triggers : tuple of Trigger
        Every criterion term met at the chosen level.
    next_level : str or None
        Label of the next higher level (the lowest tier when none is reached); ``None`` at the top.
    next_rank : int or None
    gaps : tuple of Gap
        For each unmet term of the next level, nearest first (smallest share of its threshold
        still missing, so that persons and rooms compare).
    criteria_values : tuple of CriterionValue
        Every term of every criterion of every level, highest tier first.
    adjustment : Adjustment or None
        The per-region adjustment (酌情调整) applied.
    """

    plan_id: str
    plan_version: str
    region_code: str | None
    level: str | None
    rank: int | None
    status: str | None
    triggers: tuple[Trigger, ...]
    next_level: str | None
    next_rank: int | None
    gaps: tuple[Gap, ...]
    criteria_values: tuple[CriterionValue, ...]
    adjustment: Adjustment | None = field(default=None)


@dataclass(frozen=True)
class _Term:
    indicator: str
    value: Number
    threshold: Number
    met: bool
    upper: Number | None = None


def clean_figures(figures: Mapping[str, Any] | None, where: str = "figures") -> dict[str, Number]:
    """All indicators of ``figures``, missing ones as 0.

    Raises
    ------
    ValueError
        For an unknown indicator name, or a value that is negative or not a finite number.
    """
    out: dict[str, Number] = dict.fromkeys(INDICATORS, 0)
    if figures is None:
        return out
    unknown = sorted(str(key) for key in figures if key not in _INDICATOR_SET)
    if unknown:
        raise ValueError(f"{where}: unknown indicator(s) {', '.join(unknown)} "
                         "(field names of domain.md §3)")
    for key, value in figures.items():
        if value is None:
            continue
        if (not isinstance(value, numbers.Real) or isinstance(value, bool)
                or not math.isfinite(value) or value < 0):
            raise ValueError(f"{where}.{key}: must be a number ≥ 0 (got {value!r})")
        out[key] = value
    return out


def scaled(threshold: Number, factor: Number) -> Number:
    """``threshold`` times an adjustment ``factor``, rounded to 6 decimals (integral → int)."""
    if factor == 1:
        return threshold
    value = round(threshold * factor, 6)
    return int(value) if float(value).is_integer() else value


def _known(agricultural_population: Number | None) -> bool:
    """A usable 农牧业人口: given, finite and above 0 (else the percentage does not apply)."""
    return (agricultural_population is not None and math.isfinite(agricultural_population)
            and agricultural_population > 0)


def drought_threshold(percent: Number | None, minimum: Number | None,
                      agricultural_population: Number | None) -> Number | None:
    """The bound met first: ``percent`` % of 农牧业人口 or ``minimum``, whichever is lower."""
    candidates = []
    if percent is not None and _known(agricultural_population):
        candidates.append(float(percent) * float(agricultural_population) / 100.0)
    if minimum is not None:
        candidates.append(minimum)
    return min(candidates) if candidates else None


def _terms(criterion: Criterion, fig: Mapping[str, Number], mode: str, factor: Number,
           context: Context, adjacent: list[dict[str, Number]]) -> tuple[list[_Term], bool]:
    """The terms of ``criterion`` and whether the criterion is met."""
    if isinstance(criterion, ThresholdCriterion):
        t = scaled(criterion.min, factor)
        value = fig[criterion.indicator]
        return [_Term(criterion.indicator, value, t, value >= t)], value >= t
    if isinstance(criterion, SumCriterion):
        t = scaled(criterion.min, factor)
        value = sum(fig[i] for i in criterion.indicators)
        return [_Term("+".join(criterion.indicators), value, t, value >= t)], value >= t
    if isinstance(criterion, RelocatedOrAidCriterion):
        t = scaled(criterion.min, factor)
        if mode == "sum":
            value = sum(fig[i] for i in RELOCATED_OR_AID)
            terms = [_Term("+".join(RELOCATED_OR_AID), value, t, value >= t)]
        else:
            terms = [_Term(i, fig[i], t, fig[i] >= t) for i in RELOCATED_OR_AID]
        return terms, any(term.met for term in terms)
    if isinstance(criterion, HousesCriterion):
        terms = []
        for bound, pair in ((criterion.rooms_min, HOUSE_ROOMS),
                            (criterion.households_min, HOUSE_HOUSEHOLDS)):
            if bound is not None:
                t = scaled(bound, factor)
                value = fig[pair[0]] + fig[pair[1]]
                terms.append(_Term("+".join(pair), value, t, value >= t))
        return terms, any(term.met for term in terms)
    if isinstance(criterion, DroughtCriterion):
        percent = None if criterion.percent is None else scaled(criterion.percent, factor)
        minimum = None if criterion.min is None else scaled(criterion.min, factor)
        agri = context.agricultural_population
        value = fig[DROUGHT]
        met = minimum is not None and value >= minimum
        if percent is not None and _known(agri):
            met = met or float(value) * 100.0 >= float(percent) * float(agri)
        t = drought_threshold(percent, minimum, agri)
        if t is None:
            return [], False
        return [_Term(DROUGHT, value, t, met)], met
    if isinstance(criterion, AdjacentLinkageCriterion):
        lo, hi = scaled(criterion.min, factor), scaled(criterion.max, factor)
        label = "+".join(criterion.indicators)
        own = sum(fig[i] for i in criterion.indicators)
        partner = max((sum(a[i] for i in criterion.indicators) for a in adjacent), default=0)
        terms = [_Term(label, own, lo, lo <= own < hi, upper=hi),
                 _Term(ADJACENT_PREFIX + label, partner, criterion.max,
                       partner >= criterion.max)]
        return terms, all(term.met for term in terms)
    raise TypeError(f"not a criterion: {criterion!r}")


def evaluate(plan: Plan, figures: Mapping[str, Number] | None,
             context: Context | None = None) -> Evaluation:
    """The response level ``plan`` gives for one unit's figures (响应等级判定).

    Levels are checked from the highest tier down, and any one criterion of a level suffices
    (出现下列情况之一). Bounds are half-open: "X以上" includes X.

    Parameters
    ----------
    plan : Plan
    figures : Mapping
        Cumulative figures of one disaster process (一次灾害过程) in the unit, by the field names
        of ``domain.md`` §3; missing figures count as 0.
    context : Context, optional
        Region code (for 酌情调整), 农牧业人口 (for the drought percentage) and neighbours'
        figures (for 联动启动).

    Returns
    -------
    Evaluation

    Raises
    ------
    ValueError
        For unknown indicator names or negative figures.

    Examples
    --------
    >>> from response_levels import builtin_plans
    >>> evaluate(builtin_plans()["national-2016"], {"deaths": 120}).level
    'Ⅱ'
    """
    context = context or Context()
    fig = clean_figures(figures)
    adjacent = [clean_figures(a, f"context.adjacent[{i}]")
                for i, a in enumerate(context.adjacent)]
    adjustment = plan.adjustment_for(context.region_code)
    factor = adjustment.factor if adjustment is not None else 1

    values: list[CriterionValue] = []
    per_level: list[tuple[Level, list[tuple[Criterion, list[_Term], bool]]]] = []
    chosen: int | None = None
    for index, level in enumerate(plan.levels):
        results = []
        for criterion in level.criteria:
            terms, met = _terms(criterion, fig, plan.relocated_mode, factor, context, adjacent)
            results.append((criterion, terms, met))
            for term in terms:
                values.append(CriterionValue(
                    level=level.label, rank=level.rank, criterion_id=criterion.id,
                    kind=criterion.kind, indicator=term.indicator, value=term.value,
                    threshold=term.threshold, upper=term.upper, met=term.met,
                    criterion_met=met, status=criterion.status or level.status,
                    description=criterion.description))
        per_level.append((level, results))
        if chosen is None and any(met for _, _, met in results):
            chosen = index

    triggers: list[Trigger] = []
    if chosen is not None:
        level, results = per_level[chosen]
        for criterion, terms, met in results:
            if met:
                triggers.extend(
                    Trigger(indicator=t.indicator, value=t.value, threshold=t.threshold,
                            level=level.label, kind=criterion.kind,
                            description=criterion.description, criterion_id=criterion.id,
                            rank=level.rank)
                    for t in terms if t.met)

    next_index = len(plan.levels) - 1 if chosen is None else chosen - 1
    gaps: list[Gap] = []
    next_level = None
    if next_index >= 0:
        next_level, results = per_level[next_index]
        for criterion, terms, _ in results:
            gaps.extend(
                Gap(indicator=t.indicator, value=t.value, threshold=t.threshold,
                    gap=t.threshold - t.value, criterion_id=criterion.id, kind=criterion.kind,
                    description=criterion.description)
                for t in terms if not t.met and t.value < t.threshold)
        gaps.sort(key=lambda g: (g.gap / g.threshold, g.gap))

    reached = plan.levels[chosen] if chosen is not None else None
    return Evaluation(
        plan_id=plan.id,
        plan_version=plan.version,
        region_code=context.region_code,
        level=reached.label if reached else None,
        rank=reached.rank if reached else None,
        status=reached.status if reached else None,
        triggers=tuple(triggers),
        next_level=next_level.label if next_level else None,
        next_rank=next_level.rank if next_level else None,
        gaps=tuple(gaps),
        criteria_values=tuple(values),
        adjustment=adjustment,
    )
