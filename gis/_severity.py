"""Village severity classes (灾情等级) for maps and legends.

A village is in class *k* when **any one** of the class's criteria is met (出现下列情况之一),
checking from the highest class down, with "X以上" inclusive (``domain.md`` §1). These classes
only colour a map: they are not response levels (应急响应), which :mod:`response_levels`
evaluates on whole provinces or counties.

Default rule (``DEFAULT_SEVERITY_RULE``; a [default] to be tuned by configuration)

===========  ==================  ====================  =====================  ===================
class        deaths + missing    relocated_population  collapsed_households   affected_population
===========  ==================  ====================  =====================  ===================
4 特重        ≥ 3                 ≥ 500                 ≥ 50                   ≥ 1,000
3 重          ≥ 1                 ≥ 100                 ≥ 10                   ≥ 500
2 中          –                   ≥ 20                  ≥ 3                    ≥ 100
1 轻          –                   ≥ 1                   ≥ 1                    ≥ 1
0 无          none of the above
===========  ==================  ====================  =====================  ===================

A rule is a mapping ``{class: {indicator: threshold}}`` for classes 1–4. An indicator is a figure
field of ``domain.md`` §3 (``relocated_population``, ``collapsed_rooms``, ...), or a sum of
fields written with ``+`` (``"deaths+missing"``). Classes missing from a rule have no criteria.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

SEVERITY_LABELS: dict[int, str] = {0: "无", 1: "轻", 2: "中", 3: "重", 4: "特重"}
"""Chinese legend label of each severity class."""

SEVERITY_COLOURS: dict[int, str] = {
    0: "#d9d9d9",
    1: "#fee391",
    2: "#fe9929",
    3: "#d7301f",
    4: "#7f0000",
}
"""Legend colour of each class (grey, then a sequential yellow-to-dark-red ramp)."""

DEFAULT_SEVERITY_RULE: dict[int, dict[str, float]] = {
    4: {"deaths+missing": 3, "relocated_population": 500, "collapsed_households": 50,
        "affected_population": 1000},
    3: {"deaths+missing": 1, "relocated_population": 100, "collapsed_households": 10,
        "affected_population": 500},
    2: {"relocated_population": 20, "collapsed_households": 3, "affected_population": 100},
    1: {"relocated_population": 1, "collapsed_households": 1, "affected_population": 1},
}


def severity_legend() -> list[dict]:
    """Legend entries, lowest class first: ``[{"class", "label", "colour"}]``."""
    return [{"class": k, "label": SEVERITY_LABELS[k], "colour": SEVERITY_COLOURS[k]}
            for k in sorted(SEVERITY_LABELS)]


def _checked_rule(rule: Mapping | None) -> dict[int, dict[str, float]]:
    rule = DEFAULT_SEVERITY_RULE if rule is None else rule
    checked: dict[int, dict[str, float]] = {}
    for klass, criteria in rule.items():
        klass = int(klass)
        if klass not in (1, 2, 3, 4):
            raise ValueError(f"灾情等级必须为 1–4 (got {klass})")
        thresholds = {}
        for indicator, threshold in dict(criteria).items():
            threshold = float(threshold)
            if not threshold >= 0:
                raise ValueError(f"阈值必须为非负数: {indicator}={threshold}")
            thresholds[str(indicator)] = threshold
        checked[klass] = thresholds
    return checked


def _fields(indicator: str) -> list[str]:
    return [f.strip() for f in indicator.split("+") if f.strip()]


def severity_classes(frame: pd.DataFrame, rule: Mapping | None = None) -> pd.Series:
    """Severity class (0–4) of every row of a figures table, vectorised.

    Parameters
    ----------
    frame : DataFrame
        One row per village with figure columns (``domain.md`` §3 names). Missing columns and
        missing values count as 0.
    rule : mapping, optional
        ``{class: {indicator: threshold}}``; the module's :data:`DEFAULT_SEVERITY_RULE` when
        omitted.

    Returns
    -------
    pandas.Series
        Integer classes aligned with ``frame.index``, named ``severity``.
    """
    rule = _checked_rule(rule)
    columns: dict[str, np.ndarray] = {}

    def value(field: str) -> np.ndarray:
        if field not in columns:
            raw = frame[field] if field in frame.columns else pd.Series(0, index=frame.index)
            columns[field] = pd.to_numeric(raw, errors="coerce").fillna(0).to_numpy(float)
        return columns[field]

    out = np.zeros(len(frame), dtype=np.int64)
    undecided = np.ones(len(frame), dtype=bool)
    for klass in sorted(rule, reverse=True):
        met = np.zeros(len(frame), dtype=bool)
        for indicator, threshold in rule[klass].items():
            met |= sum((value(f) for f in _fields(indicator)), np.zeros(len(frame))) >= threshold
        hit = met & undecided
        out[hit] = klass
        undecided &= ~hit
    return pd.Series(out, index=frame.index, name="severity")


def severity_class(figures: Mapping, rule: Mapping | None = None) -> int:
    """Severity class (0–4: 无/轻/中/重/特重) of one village's figures.

    Parameters
    ----------
    figures : mapping
        Figure fields of ``domain.md`` §3 (``deaths``, ``missing``, ``relocated_population``,
        ``collapsed_households``, ``affected_population``, ...); omitted fields are 0.
    rule : mapping, optional
        ``{class: {indicator: threshold}}`` overriding :data:`DEFAULT_SEVERITY_RULE`.

    Returns
    -------
    int
        The highest class with any criterion met, 0 when none.

    Examples
    --------
    >>> severity_class({"deaths": 1, "missing": 2})
    4
    >>> severity_class({"affected_population": 120})
    2
    """
    rule = _checked_rule(rule)
    for klass in sorted(rule, reverse=True):
        for indicator, threshold in rule[klass].items():
            if sum(_number(figures.get(f)) for f in _fields(indicator)) >= threshold:
                return klass
    return 0


def _number(value) -> float:
    if value is None:
        return 0.0
    number = float(value)
    return 0.0 if np.isnan(number) else number
