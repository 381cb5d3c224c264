"""Response levels (应急响应等级): plans as data, and the evaluation of disaster figures.

A plan (自然灾害救助应急预案) is a YAML file of levels and start conditions (启动条件). This package
loads and validates plans, evaluates one unit (:func:`evaluate`) or many at once
(:func:`evaluate_table`), and flags responses that break 上下级衔接
(:func:`misaligned_responses`). It is pure: no web framework, no database.

Notes
-----
- Bounds are half-open ``[lo, hi)``: "X以上" includes X. Levels are checked from rank 1 (the
  highest tier) down; any one criterion of a level suffices. A level's upper bound is the next
  higher level's lower bound, so criteria only carry lower bounds, except the linkage band.
- ``relocated_mode`` is a plan setting: ``either`` (2016 “或”, the default) or ``sum`` (2024 “和”).
- 联动启动 (``adjacent_linkage``): the evaluated unit's own sum lies in ``[min, max)`` and a
  neighbour in ``Context.adjacent`` reaches ``max``.
- 酌情调整: an adjustment whose ``region_code`` equals ``Context.region_code`` multiplies every
  threshold of the plan (drought percentage and linkage band included) by its ``factor``,
  rounded to 6 decimals; the neighbour's ``max`` in a linkage stays as written.
- The drought percentage applies only when the unit's 农牧业人口 is known and above 0.
- Figures use the field names of ``domain.md`` §3; missing ones count as 0, unknown names and
  negative values raise ``ValueError``.

Examples
--------
>>> from response_levels import builtin_plans, evaluate, Context
>>> plans = builtin_plans()
>>> result = evaluate(plans["national-2024"], {"deaths": 150, "missing": 60})
>>> result.level, [t.indicator for t in result.triggers]
('一级', ['deaths+missing'])
"""
from ._alignment import ActiveResponse, Misalignment, misaligned_responses, rank_zh
from ._evaluate import Context, CriterionValue, Evaluation, Gap, Trigger, evaluate
from ._model import (
    INDICATORS,
    NATIONAL,
    RELOCATED_MODES,
    STATUSES,
    UNIT_LEVELS,
    AdjacentLinkageCriterion,
    Adjustment,
    Criterion,
    DroughtCriterion,
    HousesCriterion,
    Level,
    Plan,
    RelocatedOrAidCriterion,
    SumCriterion,
    ThresholdCriterion,
)
from ._schema import (
    PlanError,
    Problem,
    builtin_plans,
    describe,
    dump_plan,
    dump_plan_text,
    load_plan,
    load_plans,
    parse_plan_text,
    plan_summary,
)
from ._table import evaluate_table

__all__ = [
    "INDICATORS",
    "NATIONAL",
    "RELOCATED_MODES",
    "STATUSES",
    "UNIT_LEVELS",
    "ActiveResponse",
    "AdjacentLinkageCriterion",
    "Adjustment",
    "Context",
    "Criterion",
    "CriterionValue",
    "DroughtCriterion",
    "Evaluation",
    "Gap",
    "HousesCriterion",
    "Level",
    "Misalignment",
    "Plan",
    "PlanError",
    "Problem",
    "RelocatedOrAidCriterion",
    "SumCriterion",
    "ThresholdCriterion",
    "Trigger",
    "builtin_plans",
    "describe",
    "dump_plan",
    "dump_plan_text",
    "evaluate",
    "evaluate_table",
    "load_plan",
    "load_plans",
    "misaligned_responses",
    "parse_plan_text",
    "plan_summary",
    "rank_zh",
]
