"""The plan data model: 应急预案, 响应等级 and 启动条件 as frozen dataclasses.

A plan (应急预案) is pure data. It is loaded from YAML by :mod:`response_levels._schema`, which
validates every field; the constructors here do not re-validate.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import ClassVar, Union

#: Indicator field names of ``domain.md`` §3 (灾情指标).
INDICATORS: tuple[str, ...] = (
    "affected_population",
    "deaths",
    "missing",
    "injured",
    "evacuated_population",
    "relocated_population",
    "needing_aid_population",
    "needing_transitional_aid",
    "drought_needing_aid_population",
    "water_shortage_population",
    "water_shortage_livestock",
    "collapsed_rooms",
    "collapsed_households",
    "severely_damaged_rooms",
    "severely_damaged_households",
    "generally_damaged_rooms",
    "generally_damaged_households",
    "crop_affected_ha",
    "crop_disaster_ha",
    "crop_failed_ha",
    "direct_loss_10k_cny",
)

#: Confidence marks of ``domain.md``: 核对原文, 二手来源, 默认解读, 示例数据.
STATUSES: tuple[str, ...] = ("checked", "secondary", "default", "sample")

#: The kind of unit a plan evaluates (评估单元).
UNIT_LEVELS: tuple[str, ...] = ("province", "prefecture", "county")

#: How 紧急转移安置人口 and 需紧急生活救助人口 combine: ``either`` (“或”) or ``sum`` (“和”).
RELOCATED_MODES: tuple[str, ...] = ("either", "sum")

#: Indicators of the 房屋 criterion.
HOUSE_ROOMS: tuple[str, str] = ("collapsed_rooms", "severely_damaged_rooms")
HOUSE_HOUSEHOLDS: tuple[str, str] = ("collapsed_households", "severely_damaged_households")
RELOCATED_OR_AID: tuple[str, str] = ("relocated_population", "needing_aid_population")
DROUGHT: str = "drought_needing_aid_population"

#: The national jurisdiction (全国), which covers every region.
NATIONAL: str = "000000"

Number = Union[int, float]


@dataclass(frozen=True)
class ThresholdCriterion:
    """One indicator at or above a bound, e.g. 死亡 200 人以上.

    Attributes
    ----------
    id : str
        Identifier, unique within its level.
    indicator : str
        A field name of ``domain.md`` §3.
    min : int or float
        Lower bound, included ("X以上" includes X).
    description : str
        Human-readable wording, normally the plan's own Chinese text.
    status : str or None
        Confidence mark when it differs from the level's.
    """

    id: str
    indicator: str
    min: Number
    description: str = ""
    status: str | None = None
    kind: ClassVar[str] = "threshold"


@dataclass(frozen=True)
class SumCriterion:
    """The sum of several indicators at or above a bound, e.g. 死亡和失踪 200 人以上 (2024).

    Attributes
    ----------
    id : str
        Identifier, unique within its level.
    indicators : tuple of str
        Two or more field names of ``domain.md`` §3, added together.
    min : int or float
        Lower bound, included.
    description : str
        Human-readable wording.
    status : str or None
        Confidence mark when it differs from the level's.
    """

    id: str
    indicators: tuple[str, ...]
    min: Number
    description: str = ""
    status: str | None = None
    kind: ClassVar[str] = "sum"


@dataclass(frozen=True)
class RelocatedOrAidCriterion:
    """紧急转移安置 / 需紧急生活救助 persons at or above a bound.

    How the two indicators combine is the plan's ``relocated_mode``: ``either`` (the larger of the
    two meets the bound, 2016 “或”) or ``sum`` (their sum, 2024 “和”).

    Attributes
    ----------
    id : str
        Identifier, unique within its level.
    min : int or float
        Lower bound in persons, included.
    description : str
        Human-readable wording.
    status : str or None
        Confidence mark when it differs from the level's.
    """

    id: str
    min: Number
    description: str = ""
    status: str | None = None
    kind: ClassVar[str] = "relocated_or_aid"


@dataclass(frozen=True)
class HousesCriterion:
    """倒塌和严重损坏房屋: rooms (间) at or above ``rooms_min`` or households (户) at or above
    ``households_min``.

    Attributes
    ----------
    id : str
        Identifier, unique within its level.
    rooms_min : int or float or None
        Bound on ``collapsed_rooms + severely_damaged_rooms``; ``None`` when the plan has none.
    households_min : int or float or None
        Bound on ``collapsed_households + severely_damaged_households``; ``None`` when absent.
    description : str
        Human-readable wording.
    status : str or None
        Confidence mark when it differs from the level's.
    """

    id: str
    rooms_min: Number | None = None
    households_min: Number | None = None
    description: str = ""
    status: str | None = None
    kind: ClassVar[str] = "houses"


@dataclass(frozen=True)
class DroughtCriterion:
    """因旱需政府救助人口 at or above ``percent`` % of the unit's 农牧业人口, or at or above ``min``,
    whichever is met first.

    Attributes
    ----------
    id : str
        Identifier, unique within its level.
    percent : int or float or None
        Share of the unit's agricultural population (农牧业人口), in percent. It applies only when
        the evaluation context gives that population.
    min : int or float or None
        Absolute bound in persons.
    description : str
        Human-readable wording.
    status : str or None
        Confidence mark when it differs from the level's.
    """

    id: str
    percent: Number | None = None
    min: Number | None = None
    description: str = ""
    status: str | None = None
    kind: ClassVar[str] = "drought"


@dataclass(frozen=True)
class AdjacentLinkageCriterion:
    """相邻省联动启动 (2024): a unit whose own sum lies in ``[min, max)`` may start jointly when an
    adjacent unit of the same disaster process reaches ``max``.

    The 2024 plan: “一省死亡和失踪 200 人以上可启动响应，其相邻省死亡和失踪 160 人以上 200 人以下的
    可联动启动”. The evaluated unit is the adjacent province; ``Context.adjacent`` carries the figures
    of its neighbours.

    Attributes
    ----------
    id : str
        Identifier, unique within its level.
    indicators : tuple of str
        Indicators added together, normally ``("deaths", "missing")``.
    min : int or float
        Lower bound of the unit's own sum, included.
    max : int or float
        Upper bound of the unit's own sum, excluded; a neighbour's sum must reach it.
    description : str
        Human-readable wording.
    status : str or None
        Confidence mark when it differs from the level's.
    """

    id: str
    indicators: tuple[str, ...]
    min: Number
    max: Number
    description: str = ""
    status: str | None = None
    kind: ClassVar[str] = "adjacent_linkage"


#: A start condition (启动条件): one of the tagged criterion kinds.
Criterion = Union[
    ThresholdCriterion,
    SumCriterion,
    RelocatedOrAidCriterion,
    HousesCriterion,
    DroughtCriterion,
    AdjacentLinkageCriterion,
]

#: Criterion class by its ``kind`` tag.
CRITERION_KINDS: dict[str, type] = {
    cls.kind: cls
    for cls in (
        ThresholdCriterion,
        SumCriterion,
        RelocatedOrAidCriterion,
        HousesCriterion,
        DroughtCriterion,
        AdjacentLinkageCriterion,
    )
}


@dataclass(frozen=True)
class Level:
    """One response level (响应等级) of a plan.

    Attributes
    ----------
    label : str
        The plan's own label, e.g. ``"Ⅳ"`` or ``"四级"``.
    rank : int
        1 is the highest tier; a four-tier plan ranks 1 to 4.
    criteria : tuple of Criterion
        Start conditions; any one of them suffices (出现下列情况之一).
    status : str
        Confidence mark: ``checked``, ``secondary``, ``default`` or ``sample``.
    """

    label: str
    rank: int
    criteria: tuple[Criterion, ...]
    status: str = "checked"


@dataclass(frozen=True)
class Adjustment:
    """A per-region adjustment (酌情调整) of start conditions for a weak-capacity or sensitive area.

    Attributes
    ----------
    region_code : str
        The evaluated unit it applies to (exact match on ``Context.region_code``).
    factor : float
        Every threshold of the plan is multiplied by this factor (0.8 lowers them by a fifth).
    reason : str
        Why, e.g. 脆弱地区 or 敏感地区.
    """

    region_code: str
    factor: Number
    reason: str


@dataclass(frozen=True)
class Plan:
    """An emergency plan (自然灾害救助应急预案) with its response levels.

    Attributes
    ----------
    id : str
        Stable identifier, e.g. ``"national-2016"``.
    name : str
        Title of the plan.
    jurisdiction_code : str
        Region code of the issuing government; ``"000000"`` for the State Council.
    unit_level : str
        Kind of unit evaluated: ``province``, ``prefecture`` or ``county``. The national plans
        evaluate each affected province.
    version : str
        Version of the plan, e.g. ``"2024"``.
    issued : datetime.date
        Date of issue.
    relocated_mode : str
        ``either`` or ``sum``, see :class:`RelocatedOrAidCriterion`.
    levels : tuple of Level
        Levels sorted by rank, the highest tier (rank 1) first.
    adjustments : tuple of Adjustment
        Per-region adjustments (酌情调整).
    source : str
        Document number or citation, e.g. ``国办函〔2016〕25号``.
    notes : str
        Free text: provenance, choices made, what is sample data.
    """

    id: str
    name: str
    jurisdiction_code: str
    unit_level: str
    version: str
    issued: _dt.date
    relocated_mode: str
    levels: tuple[Level, ...]
    adjustments: tuple[Adjustment, ...] = field(default=())
    source: str = ""
    notes: str = ""

    def level(self, rank: int) -> Level:
        """The level with ``rank``.

        Raises
        ------
        KeyError
            When the plan has no such rank.
        """
        for level in self.levels:
            if level.rank == rank:
                return level
        raise KeyError(f"plan {self.id!r} has no level of rank {rank}")

    def adjustment_for(self, region_code: str | None) -> Adjustment | None:
        """The adjustment (酌情调整) for ``region_code``, or ``None``."""
        if region_code is None:
            return None
        for adjustment in self.adjustments:
            if adjustment.region_code == region_code:
                return adjustment
        return None
