"""The statutory loss indicators (灾情指标) of ``domain.md`` §3 and their consistency rules.

Pure: no Flask, no database. Field names are the API's; labels and units are for pages and
Excel. ``check(figures)`` returns every violated rule, so a 422 can name them all.
"""
from __future__ import annotations

import math

from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class Indicator:
    field: str
    label: str
    unit: str
    integer: bool = True
    key: bool = False  # shown in trend charts and summaries


INDICATORS: tuple[Indicator, ...] = (
    Indicator("affected_population", "受灾人口", "人", key=True),
    Indicator("deaths", "因灾死亡人口", "人", key=True),
    Indicator("missing", "因灾失踪人口", "人", key=True),
    Indicator("injured", "因灾伤病人口", "人"),
    Indicator("evacuated_population", "紧急避险转移人口", "人"),
    Indicator("relocated_population", "紧急转移安置人口", "人", key=True),
    Indicator("needing_aid_population", "需紧急生活救助人口", "人", key=True),
    Indicator("needing_transitional_aid", "需过渡期生活救助人口", "人"),
    Indicator("drought_needing_aid_population", "因旱需生活救助人口", "人"),
    Indicator("water_shortage_population", "饮水困难人口", "人"),
    Indicator("water_shortage_livestock", "饮水困难大牲畜", "头"),
    Indicator("collapsed_rooms", "倒塌房屋（间）", "间", key=True),
    Indicator("collapsed_households", "倒塌房屋（户）", "户"),
    Indicator("severely_damaged_rooms", "严重损坏房屋（间）", "间"),
    Indicator("severely_damaged_households", "严重损坏房屋（户）", "户"),
    Indicator("generally_damaged_rooms", "一般损坏房屋（间）", "间"),
    Indicator("generally_damaged_households", "一般损坏房屋（户）", "户"),
    Indicator("crop_affected_ha", "农作物受灾面积", "公顷", integer=False),
    Indicator("crop_disaster_ha", "农作物成灾面积", "公顷", integer=False),
    Indicator("crop_failed_ha", "农作物绝收面积", "公顷", integer=False),
    Indicator("direct_loss_10k_cny", "直接经济损失", "万元", integer=False, key=True),
)
FIELDS: tuple[str, ...] = tuple(i.field for i in INDICATORS)
BY_FIELD: dict[str, Indicator] = {i.field: i for i in INDICATORS}

#: (rule id, larger field, smaller field): larger ≥ smaller.
CONSISTENCY_RULES: tuple[tuple[str, str, str], ...] = (
    ("affected_ge_deaths", "affected_population", "deaths"),
    ("affected_ge_missing", "affected_population", "missing"),
    ("affected_ge_injured", "affected_population", "injured"),
    ("affected_ge_water_shortage", "affected_population", "water_shortage_population"),
    ("affected_ge_relocated", "affected_population", "relocated_population"),
    ("affected_ge_needing_aid", "affected_population", "needing_aid_population"),
    ("needing_aid_ge_transitional", "needing_aid_population", "needing_transitional_aid"),
    ("crop_affected_ge_disaster", "crop_affected_ha", "crop_disaster_ha"),
    ("crop_disaster_ge_failed", "crop_disaster_ha", "crop_failed_ha"),
    ("collapsed_rooms_ge_households", "collapsed_rooms", "collapsed_households"),
    ("severely_damaged_rooms_ge_households", "severely_damaged_rooms", "severely_damaged_households"),
    ("generally_damaged_rooms_ge_households", "generally_damaged_rooms", "generally_damaged_households"),
)


def zero() -> dict[str, float]:
    return {f: 0 for f in FIELDS}


def normalise(figures: Mapping[str, object], maximum: float | None = None) -> tuple[dict[str, float], list[dict]]:
    """Fill omitted fields with 0 and check types; return ``(figures, errors)``.

    Counts must be integers ≥ 0; hectares and 万元 may be decimals ≥ 0; none may exceed
    ``maximum`` (the configured ceiling, far below what the totals of a whole country can hold).
    Unknown fields are errors, so a typo is never silently dropped.
    """
    errors: list[dict] = []
    out = zero()
    for name, value in figures.items():
        indicator = BY_FIELD.get(name)
        path = f"figures.{name}"
        if indicator is None:
            errors.append({"field": path, "message": "未知指标"})
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append({"field": path, "message": "必须是数字"})
            continue
        if not math.isfinite(value):
            errors.append({"field": path, "message": "必须是有限的数字（不能是 NaN 或 Infinity）"})
            continue
        if value < 0:
            errors.append({"field": path, "message": "不能为负数"})
            continue
        if maximum is not None and value > maximum:
            limit = int(maximum) if float(maximum).is_integer() else maximum
            errors.append({"field": path, "message": f"{indicator.label}不能超过 {limit}（上限 REPORT_FIGURE_MAX）"})
            continue
        if indicator.integer:
            if int(value) != value:
                errors.append({"field": path, "message": f"{indicator.label}必须是整数"})
                continue
            value = int(value)
        out[name] = value
    return out, errors


def check(figures: Mapping[str, float]) -> list[dict]:
    """Every violated consistency rule, each naming its rule and the smaller field."""
    errors = []
    for rule, larger, smaller in CONSISTENCY_RULES:
        if figures.get(smaller, 0) > figures.get(larger, 0):
            errors.append({
                "field": f"figures.{smaller}",
                "rule": rule,
                "message": f"{BY_FIELD[smaller].label}（{figures.get(smaller, 0)}）不能大于"
                           f"{BY_FIELD[larger].label}（{figures.get(larger, 0)}）",
            })
    return errors


def validate(figures: Mapping[str, object], maximum: float | None = None) -> tuple[dict[str, float], list[dict]]:
    """:func:`normalise` then :func:`check`; all errors together.

    The consistency rules are checked among the fields that did parse, so one 422 names a bad
    type and a broken rule at once; a rule involving a field with a bad value is not reported
    (that field's own error already is).
    """
    clean, errors = normalise(figures, maximum)
    bad = {e["field"] for e in errors}
    errors += [e for e in check(clean)
               if not any(f"figures.{name}" in bad for name in _rule_fields(e["rule"]))]
    return clean, errors


def _rule_fields(rule_id: str) -> tuple[str, str]:
    for rule, larger, smaller in CONSISTENCY_RULES:
        if rule == rule_id:
            return larger, smaller
    raise KeyError(rule_id)


def jumps(previous: Mapping[str, float], current: Mapping[str, float], up: float,
          down: float) -> list[dict]:
    """Figures that changed sharply since the previous report (突增突减), each named.

    A figure jumps when it rises above ``up`` × its previous value or falls below ``down`` × it
    (``domain.md`` §3: such changes need a written explanation). A previous value of 0 has no
    ratio and never counts as a jump.
    """
    out = []
    for name in FIELDS:
        before, after = previous.get(name, 0) or 0, current.get(name, 0) or 0
        if before <= 0:
            continue
        label = BY_FIELD[name].label
        if after > before * up:
            out.append({"field": f"figures.{name}", "rule": "jump_up",
                        "message": f"{label}由 {before} 增至 {after}，超过上次的 {up:g} 倍，须在说明（note）中解释原因"})
        elif after < before * down:
            out.append({"field": f"figures.{name}", "rule": "jump_down",
                        "message": f"{label}由 {before} 降至 {after}，低于上次的 {down:g} 倍，须在说明（note）中解释原因"})
    return out


def deaths_and_missing(figures: Mapping[str, float]) -> float:
    return (figures.get("deaths", 0) or 0) + (figures.get("missing", 0) or 0)
