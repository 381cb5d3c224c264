"""Plan files: a hand-written schema validator, loaders and the dump for round trips.

Validation gathers every problem, each with its path (``levels[2].criteria[0].min``), before
raising a single :class:`PlanError`.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import numbers
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ._model import (
    CRITERION_KINDS,
    INDICATORS,
    RELOCATED_MODES,
    STATUSES,
    UNIT_LEVELS,
    Adjustment,
    AdjacentLinkageCriterion,
    Criterion,
    DroughtCriterion,
    HousesCriterion,
    Level,
    Plan,
    RelocatedOrAidCriterion,
    SumCriterion,
    ThresholdCriterion,
)

#: Chinese names of indicators (domain.md §3), used in generated descriptions.
INDICATOR_NAMES_ZH: dict[str, str] = {
    "affected_population": "受灾人口",
    "deaths": "死亡",
    "missing": "失踪",
    "injured": "伤病",
    "evacuated_population": "紧急避险转移",
    "relocated_population": "紧急转移安置",
    "needing_aid_population": "需紧急生活救助",
    "needing_transitional_aid": "需过渡期生活救助",
    "drought_needing_aid_population": "因旱需生活救助",
    "water_shortage_population": "饮水困难人口",
    "water_shortage_livestock": "饮水困难大牲畜",
    "collapsed_rooms": "倒塌房屋间数",
    "collapsed_households": "倒塌房屋户数",
    "severely_damaged_rooms": "严重损坏房屋间数",
    "severely_damaged_households": "严重损坏房屋户数",
    "generally_damaged_rooms": "一般损坏房屋间数",
    "generally_damaged_households": "一般损坏房屋户数",
    "crop_affected_ha": "农作物受灾面积",
    "crop_disaster_ha": "农作物成灾面积",
    "crop_failed_ha": "农作物绝收面积",
    "direct_loss_10k_cny": "直接经济损失",
}

_UNITS_ZH: dict[str, str] = {
    "water_shortage_livestock": "头",
    "collapsed_rooms": "间",
    "collapsed_households": "户",
    "severely_damaged_rooms": "间",
    "severely_damaged_households": "户",
    "generally_damaged_rooms": "间",
    "generally_damaged_households": "户",
    "crop_affected_ha": "公顷",
    "crop_disaster_ha": "公顷",
    "crop_failed_ha": "公顷",
    "direct_loss_10k_cny": "万元",
}

_PLAN_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_JURISDICTION = re.compile(r"^\d{6}$")
_REGION = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")

_PLAN_FIELDS = {
    "id", "name", "jurisdiction_code", "unit_level", "version", "issued", "relocated_mode",
    "levels", "adjustments", "source", "notes",
}
_LEVEL_FIELDS = {"label", "rank", "status", "criteria"}
_ADJUSTMENT_FIELDS = {"region_code", "factor", "reason"}
_COMMON_CRITERION_FIELDS = {"id", "kind", "description", "status"}
_KIND_FIELDS = {
    "threshold": {"indicator", "min"},
    "sum": {"indicators", "min"},
    "relocated_or_aid": {"min"},
    "houses": {"rooms_min", "households_min"},
    "drought": {"percent", "min"},
    "adjacent_linkage": {"indicators", "min", "max"},
}


@dataclass(frozen=True)
class Problem:
    """One schema problem: where (``levels[0].criteria[1].min``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class PlanError(ValueError):
    """A plan that does not match the schema; ``errors`` lists every problem found.

    Attributes
    ----------
    errors : list of Problem
        Every problem, in document order, each with its path.
    """

    def __init__(self, errors: list[Problem]):
        self.errors = list(errors)
        lines = "\n".join(f"  - {problem}" for problem in self.errors)
        super().__init__(f"预案数据有误 (invalid plan), {len(self.errors)} problem(s):\n{lines}")

    def to_list(self) -> list[dict[str, str]]:
        """Problems as ``[{"field", "message"}]``, the shape of the API's 422 ``errors``."""
        return [{"field": problem.path, "message": problem.message} for problem in self.errors]


class _Collector:
    """Gathers problems while a plan mapping is walked."""

    def __init__(self) -> None:
        self.errors: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append(Problem(path, message))

    def mapping(self, value: Any, path: str, allowed: set[str]) -> Mapping | None:
        if not isinstance(value, Mapping):
            self.add(path, f"must be a mapping (got {type(value).__name__})")
            return None
        for key in value:
            if key not in allowed:
                self.add(_join(path, str(key)), "unknown field")
        return value

    def text(self, data: Mapping, key: str, path: str, *, required: bool = True,
             pattern: re.Pattern | None = None, hint: str = "") -> str | None:
        where = _join(path, key)
        if key not in data or data[key] is None:
            if required:
                self.add(where, "is required")
            return None
        value = data[key]
        if not isinstance(value, str) or (required and not value.strip()):
            self.add(where, f"must be a non-empty string{hint}")
            return None
        if pattern is not None and not pattern.match(value):
            self.add(where, f"must match {pattern.pattern}{hint} (got {value!r})")
            return None
        return value

    def choice(self, data: Mapping, key: str, path: str, choices: tuple[str, ...], *,
               default: str | None = None) -> str | None:
        where = _join(path, key)
        if key not in data or data[key] is None:
            if default is None:
                self.add(where, f"is required, one of {', '.join(choices)}")
            return default
        value = data[key]
        if value not in choices:
            self.add(where, f"must be one of {', '.join(choices)} (got {value!r})")
            return None
        return value

    def number(self, data: Mapping, key: str, path: str, *, required: bool = True,
               positive: bool = False, upper: float | None = None) -> int | float | None:
        where = _join(path, key)
        if key not in data or data[key] is None:
            if required:
                self.add(where, "is required")
            return None
        value = data[key]
        ok = _is_number(value) and (value > 0 if positive else value >= 0)
        ok = ok and (upper is None or value <= upper)
        if not ok:
            bound = "> 0" if positive else "≥ 0"
            if upper is not None:
                bound += f" and ≤ {upper:g}"
            self.add(where, f"must be a number {bound} (got {value!r})")
            return None
        return value

    def indicator(self, value: Any, where: str) -> str | None:
        if value not in INDICATORS:
            self.add(where, f"must be an indicator of domain.md §3 (got {value!r})")
            return None
        return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is_number(value: Any) -> bool:
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value))


def _fmt(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}"


def describe(criterion: Criterion, relocated_mode: str = "either") -> str:
    """A Chinese description of ``criterion`` in the wording of the national plans.

    >>> describe(ThresholdCriterion("deaths", "deaths", 200))
    '死亡 200 人以上'
    """
    names = INDICATOR_NAMES_ZH
    if isinstance(criterion, ThresholdCriterion):
        unit = _UNITS_ZH.get(criterion.indicator, "人")
        return f"{names[criterion.indicator]} {_fmt(criterion.min)} {unit}以上"
    if isinstance(criterion, SumCriterion):
        unit = _UNITS_ZH.get(criterion.indicators[0], "人")
        return f"{'和'.join(names[i] for i in criterion.indicators)} {_fmt(criterion.min)} {unit}以上"
    if isinstance(criterion, RelocatedOrAidCriterion):
        joint = "和" if relocated_mode == "sum" else "或"
        return f"紧急转移安置{joint}需紧急生活救助 {_fmt(criterion.min)} 人以上"
    if isinstance(criterion, HousesCriterion):
        parts = []
        if criterion.rooms_min is not None:
            parts.append(f"{_fmt(criterion.rooms_min)} 间")
        if criterion.households_min is not None:
            parts.append(f"{_fmt(criterion.households_min)} 户")
        return f"倒塌和严重损坏房屋 {'或'.join(parts)}以上"
    if isinstance(criterion, DroughtCriterion):
        parts = []
        if criterion.percent is not None:
            parts.append(f"占农牧业人口 {_fmt(criterion.percent)}%")
        if criterion.min is not None:
            parts.append(f"{_fmt(criterion.min)} 人")
        return f"因旱需政府救助人口{'或'.join(parts)}以上"
    joined = "和".join(names[i] for i in criterion.indicators)
    return (f"相邻单元{joined} {_fmt(criterion.max)} 以上时，本单元{joined} "
            f"{_fmt(criterion.min)} 以上 {_fmt(criterion.max)} 以下可联动启动")


def _criterion(data: Any, path: str, col: _Collector, relocated_mode: str | None
               ) -> Criterion | None:
    if not isinstance(data, Mapping):
        col.add(path, f"must be a mapping (got {type(data).__name__})")
        return None
    kind = data.get("kind")
    if kind not in CRITERION_KINDS:
        col.add(_join(path, "kind"), f"must be one of {', '.join(CRITERION_KINDS)} (got {kind!r})")
        col.mapping(data, path, _COMMON_CRITERION_FIELDS | set().union(*_KIND_FIELDS.values()))
        return None
    col.mapping(data, path, _COMMON_CRITERION_FIELDS | _KIND_FIELDS[kind])
    before = len(col.errors)
    cid = col.text(data, "id", path)
    description = col.text(data, "description", path, required=False)
    status = col.choice(data, "status", path, STATUSES, default="") or None
    fields: dict[str, Any] = {}
    if kind == "threshold":
        if "indicator" not in data:
            col.add(_join(path, "indicator"), "is required")
        else:
            fields["indicator"] = col.indicator(data["indicator"], _join(path, "indicator"))
        fields["min"] = col.number(data, "min", path)
    elif kind in ("sum", "adjacent_linkage"):
        fields["indicators"] = _indicator_list(data, path, col)
        fields["min"] = col.number(data, "min", path)
        if kind == "adjacent_linkage":
            fields["max"] = col.number(data, "max", path)
            if fields["min"] is not None and fields["max"] is not None \
                    and not fields["max"] > fields["min"]:
                col.add(_join(path, "max"), f"must be greater than min ({fields['min']!r})")
    elif kind == "relocated_or_aid":
        fields["min"] = col.number(data, "min", path)
    elif kind == "houses":
        fields["rooms_min"] = col.number(data, "rooms_min", path, required=False)
        fields["households_min"] = col.number(data, "households_min", path, required=False)
        if data.get("rooms_min") is None and data.get("households_min") is None:
            col.add(path, "needs rooms_min or households_min (or both)")
    elif kind == "drought":
        fields["percent"] = col.number(data, "percent", path, required=False, positive=True,
                                       upper=100)
        fields["min"] = col.number(data, "min", path, required=False)
        if data.get("percent") is None and data.get("min") is None:
            col.add(path, "needs percent or min (or both)")
    if len(col.errors) > before:
        return None
    criterion = CRITERION_KINDS[kind](id=cid, status=status, **fields)
    if not description:
        description = describe(criterion, relocated_mode or "either")
    return _replace_description(criterion, description)


def _replace_description(criterion: Criterion, description: str) -> Criterion:
    return replace(criterion, description=description)


def _indicator_list(data: Mapping, path: str, col: _Collector) -> tuple[str, ...] | None:
    where = _join(path, "indicators")
    value = data.get("indicators")
    if value is None:
        col.add(where, "is required")
        return None
    if not isinstance(value, (list, tuple)) or len(value) < 2:
        col.add(where, "must be a list of at least two indicators")
        return None
    out = [col.indicator(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if any(item is None for item in out):
        return None
    if len(set(out)) != len(out):
        col.add(where, f"must not repeat an indicator (got {list(value)!r})")
        return None
    return tuple(out)


def _level(data: Any, path: str, col: _Collector, relocated_mode: str | None) -> Level | None:
    if col.mapping(data, path, _LEVEL_FIELDS) is None:
        return None
    before = len(col.errors)
    label = col.text(data, "label", path)
    rank = data.get("rank")
    if rank is None:
        col.add(_join(path, "rank"), "is required")
    elif not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
        col.add(_join(path, "rank"), f"must be an integer ≥ 1 (got {rank!r})")
    status = col.choice(data, "status", path, STATUSES)
    raw = data.get("criteria")
    criteria: list[Criterion | None] = []
    if not isinstance(raw, list) or not raw:
        col.add(_join(path, "criteria"), "must be a non-empty list")
    else:
        seen: set[str] = set()
        for i, item in enumerate(raw):
            where = f"{path}.criteria[{i}]"
            criterion = _criterion(item, where, col, relocated_mode)
            criteria.append(criterion)
            if criterion is not None:
                if criterion.id in seen:
                    col.add(_join(where, "id"), f"duplicate criterion id {criterion.id!r} "
                                                "in this level")
                seen.add(criterion.id)
    if len(col.errors) > before:
        return None
    return Level(label=label, rank=rank, criteria=tuple(criteria), status=status)


def _adjustment(data: Any, path: str, col: _Collector) -> Adjustment | None:
    if col.mapping(data, path, _ADJUSTMENT_FIELDS) is None:
        return None
    before = len(col.errors)
    code = col.text(data, "region_code", path, pattern=_REGION,
                    hint=" of 6, 9 or 12 digits (quote it in YAML)")
    factor = col.number(data, "factor", path, positive=True)
    reason = col.text(data, "reason", path)
    if len(col.errors) > before:
        return None
    return Adjustment(region_code=code, factor=factor, reason=reason)


def _issued(data: Mapping, col: _Collector) -> _dt.date | None:
    value = data.get("issued")
    if value is None:
        col.add("issued", "is required")
        return None
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            pass
    col.add("issued", f"must be a date YYYY-MM-DD (got {value!r})")
    return None


def validate_plan(data: Any) -> Plan:
    """Validate a plan mapping and build the :class:`Plan`.

    Parameters
    ----------
    data : Mapping
        The plan as parsed from YAML or JSON.

    Returns
    -------
    Plan

    Raises
    ------
    PlanError
        With every problem found, each with its path.
    """
    col = _Collector()
    if col.mapping(data, "", _PLAN_FIELDS) is None:
        raise PlanError(col.errors)
    plan_id = col.text(data, "id", "", pattern=_PLAN_ID)
    name = col.text(data, "name", "")
    jurisdiction = col.text(data, "jurisdiction_code", "", pattern=_JURISDICTION,
                            hint=" of 6 digits (quote it in YAML)")
    unit_level = col.choice(data, "unit_level", "", UNIT_LEVELS)
    version = data.get("version")
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
    if not isinstance(version, str) or not version.strip():
        col.add("version", f"must be a non-empty string (got {data.get('version')!r})")
    issued = _issued(data, col)
    relocated_mode = col.choice(data, "relocated_mode", "", RELOCATED_MODES, default="either")
    source = col.text(data, "source", "", required=False) or ""
    notes = col.text(data, "notes", "", required=False) or ""

    levels: list[Level] = []
    raw_levels = data.get("levels")
    if not isinstance(raw_levels, list) or not raw_levels:
        col.add("levels", "must be a non-empty list")
    else:
        for i, item in enumerate(raw_levels):
            level = _level(item, f"levels[{i}]", col, relocated_mode)
            if level is not None:
                levels.append(level)
        if len(levels) == len(raw_levels):
            ranks = sorted(level.rank for level in levels)
            if ranks != list(range(1, len(levels) + 1)):
                col.add("levels", f"ranks must be 1..{len(levels)}, each once (got {ranks})")
            labels = [level.label for level in levels]
            for label in sorted({x for x in labels if labels.count(x) > 1}):
                col.add("levels", f"duplicate level label {label!r}")

    adjustments: list[Adjustment] = []
    raw_adjustments = data.get("adjustments")
    if raw_adjustments is not None:
        if not isinstance(raw_adjustments, list):
            col.add("adjustments", "must be a list")
        else:
            seen: set[str] = set()
            for i, item in enumerate(raw_adjustments):
                adjustment = _adjustment(item, f"adjustments[{i}]", col)
                if adjustment is None:
                    continue
                if adjustment.region_code in seen:
                    col.add(f"adjustments[{i}].region_code",
                            f"duplicate region {adjustment.region_code!r}")
                seen.add(adjustment.region_code)
                adjustments.append(adjustment)

    if col.errors:
        raise PlanError(col.errors)
    return Plan(
        id=plan_id,
        name=name,
        jurisdiction_code=jurisdiction,
        unit_level=unit_level,
        version=version,
        issued=issued,
        relocated_mode=relocated_mode,
        levels=tuple(sorted(levels, key=lambda level: level.rank)),
        adjustments=tuple(adjustments),
        source=source,
        notes=notes,
    )


def _dump_criterion(criterion: Criterion) -> dict[str, Any]:
    out: dict[str, Any] = {"id": criterion.id, "kind": criterion.kind}
    if isinstance(criterion, ThresholdCriterion):
        out.update(indicator=criterion.indicator, min=criterion.min)
    elif isinstance(criterion, SumCriterion):
        out.update(indicators=list(criterion.indicators), min=criterion.min)
    elif isinstance(criterion, RelocatedOrAidCriterion):
        out.update(min=criterion.min)
    elif isinstance(criterion, HousesCriterion):
        if criterion.rooms_min is not None:
            out["rooms_min"] = criterion.rooms_min
        if criterion.households_min is not None:
            out["households_min"] = criterion.households_min
    elif isinstance(criterion, DroughtCriterion):
        if criterion.percent is not None:
            out["percent"] = criterion.percent
        if criterion.min is not None:
            out["min"] = criterion.min
    elif isinstance(criterion, AdjacentLinkageCriterion):
        out.update(indicators=list(criterion.indicators), min=criterion.min, max=criterion.max)
    out["description"] = criterion.description
    if criterion.status is not None:
        out["status"] = criterion.status
    return out


def dump_plan(plan: Plan) -> dict[str, Any]:
    """A plan as plain JSON-ready data; ``load_plan(dump_plan(p)) == p``.

    Parameters
    ----------
    plan : Plan

    Returns
    -------
    dict
        Only ``dict``, ``list``, ``str``, ``int`` and ``float`` values; ``issued`` is ISO 8601.
    """
    return {
        "id": plan.id,
        "name": plan.name,
        "jurisdiction_code": plan.jurisdiction_code,
        "unit_level": plan.unit_level,
        "version": plan.version,
        "issued": plan.issued.isoformat(),
        "relocated_mode": plan.relocated_mode,
        "source": plan.source,
        "notes": plan.notes,
        "levels": [
            {
                "label": level.label,
                "rank": level.rank,
                "status": level.status,
                "criteria": [_dump_criterion(c) for c in level.criteria],
            }
            for level in plan.levels
        ],
        "adjustments": [
            {"region_code": a.region_code, "factor": a.factor, "reason": a.reason}
            for a in plan.adjustments
        ],
    }


def dump_plan_text(plan: Plan, format: str = "yaml") -> str:
    """A plan as YAML or JSON text, for an admin to edit and upload with :func:`parse_plan_text`.

    Parameters
    ----------
    plan : Plan
    format : {"yaml", "json"}
    """
    data = dump_plan(plan)
    if format == "json":
        return json.dumps(data, ensure_ascii=False, indent=2)
    if format == "yaml":
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    raise ValueError(f"format must be 'yaml' or 'json' (got {format!r})")


def parse_plan_text(text: str) -> Plan:
    """Parse and validate a plan uploaded as YAML or JSON text.

    Raises
    ------
    PlanError
        When the text is not YAML/JSON, or the plan does not match the schema.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlanError([Problem("", f"not valid YAML or JSON: {exc}")]) from None
    return validate_plan(data)


def load_plan(source: str | Path | Mapping) -> Plan:
    """Load one plan from a YAML/JSON file path or from an already parsed mapping.

    Parameters
    ----------
    source : str, pathlib.Path or Mapping

    Raises
    ------
    PlanError
        With every problem found.
    """
    if isinstance(source, (str, os.PathLike)):
        return parse_plan_text(Path(source).read_text(encoding="utf-8"))
    return validate_plan(source)


def load_plans(directory: str | Path) -> dict[str, Plan]:
    """Load every ``*.yaml``, ``*.yml`` and ``*.json`` plan of ``directory``, keyed by plan id.

    Problems of all files are gathered; each path starts with the file name
    (``county-sample.yaml:levels[1].rank``).

    Raises
    ------
    PlanError
        When any file is invalid, or two files share a plan id.
    """
    paths = sorted(p for p in Path(directory).iterdir()
                   if p.suffix in (".yaml", ".yml", ".json") and p.is_file())
    return _load_texts([(p.name, p.read_text(encoding="utf-8")) for p in paths])


def _load_texts(named_texts: list[tuple[str, str]]) -> dict[str, Plan]:
    plans: dict[str, Plan] = {}
    errors: list[Problem] = []
    for name, text in named_texts:
        try:
            plan = parse_plan_text(text)
        except PlanError as exc:
            errors.extend(Problem(f"{name}:{p.path}", p.message) for p in exc.errors)
            continue
        if plan.id in plans:
            errors.append(Problem(f"{name}:id", f"duplicate plan id {plan.id!r}"))
            continue
        plans[plan.id] = plan
    if errors:
        raise PlanError(errors)
    return plans


@lru_cache(maxsize=1)
def _builtin() -> tuple[tuple[str, Plan], ...]:
    folder = resources.files("response_levels") / "plans"
    texts = sorted((entry.name, entry.read_text(encoding="utf-8"))
                   for entry in folder.iterdir() if entry.name.endswith(".yaml"))
    return tuple(_load_texts(texts).items())


def builtin_plans() -> dict[str, Plan]:
    """The plans shipped in ``response_levels/plans/``, keyed by plan id."""
    return dict(_builtin())


def plan_summary(plan: Plan) -> dict[str, Any]:
    """A plan in the shape of an item of ``GET /plans`` (API.md "Response levels").

    Levels carry ``level`` (the plan's own label), ``rank``, ``status`` and ``criteria``.
    """
    data = dump_plan(plan)
    data["levels"] = [
        {"level": level["label"], "rank": level["rank"], "status": level["status"],
         "criteria": level["criteria"]}
        for level in data["levels"]
    ]
    return data
