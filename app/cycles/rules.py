"""The rules of the relief cycles (``domain.md`` §4): eligibility, amounts and timelines.

Pure: no Flask, no database. Money is in fen (分, integer) so that totals are exact; every
standard comes from :class:`Standards`, built from configuration when a cycle is created and
kept on the cycle, so a later change of configuration never alters an open cycle
(:meth:`Standards.from_config` reads the configuration, which is in whole CNY).

- :func:`assess` says whether a household is eligible for a kind of relief, and why.
- :func:`instalments` turns one roll entry into the dated (or staged) instalments it is owed.
- :func:`transitional_segments`, :func:`winter_spring_months`, :func:`split_evenly`,
  :func:`split_percent` are the building blocks, documented with worked examples.
- :func:`deadline_status`, :func:`winter_spring_deadlines`, :func:`report_due` are timelines.
- :func:`aggregate_needs` rolls the winter-spring needs table up the region tree.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

from gis import codes

from .seasons import (SEASON_PARTS, WINTER_MONTHS, due_day, split_evenly, winter_spring_months,  # noqa: F401
                      winter_spring_schedule)

KINDS = {
    "transitional": "过渡期生活救助",
    "winter_spring": "冬春生活救助",
    "reconstruction": "倒损住房恢复重建",
    "condolence": "遇难人员家属抚慰金",
    "drought": "旱灾临时生活救助",
    "emergency": "应急救助",
}
#: Kinds tied to one disaster event (the others are per year).
EVENT_KINDS = ("transitional", "reconstruction", "condolence", "drought", "emergency")
ONE_OFF_KINDS = ("condolence", "drought", "emergency")

DAMAGE_CLASSES = {
    "collapsed": "倒塌",
    "severely_damaged": "严重损坏",
    "generally_damaged": "一般损坏",
    "none": "未损坏",
}
FLAGS = {
    "no_housing": "无房可住",
    "no_livelihood": "无生活来源",
    "no_self_rescue": "无自救能力",
    "dibao": "低保",
    "tekun": "特困",
    "cannot_return": "因次生灾害不能返家",
}
STAGES = ("verified", "started", "main_structure", "completed", "moved_in")
STAGE_LABELS = {"verified": "已核查", "started": "已开工", "main_structure": "主体完工",
                "completed": "竣工验收", "moved_in": "已入住"}
WORK_TYPES = {"rebuild": "重建", "repair": "维修加固"}
#: What the house-by-house check (逐户核查) excludes from reconstruction (domain.md §4, checked):
#: long-empty houses, second homes, kitchens, sheds, temporary structures.
EXCLUSIONS = {"long_empty": "长期空置房屋", "second_home": "非主要居所（第二套住房）", "kitchen": "厨房",
              "shed": "畜禽圈舍、杂物棚", "temporary": "临时建筑", "other": "其他不属于救助范围的房屋"}
NEEDS = {"food": "口粮", "clothing": "衣被", "heating": "取暖"}
LEVELS = ("county", "prefecture", "province")
LEVEL_LABELS = {"county": "县级", "prefecture": "地市级", "province": "省级"}


@dataclass(frozen=True)
class Standards:
    """Every number a cycle uses, in fen where it is money (defaults: ``domain.md`` §4)."""

    transitional_daily_fen: int = 2_000
    transitional_months: int = 3
    transitional_max_months: int = 6
    winter_spring_per_person_fen: int = 13_000
    winter_spring_pay_from_month: int = 12
    winter_spring_pay_to_month: int = 5
    #: the winter share of the season's money in percent (``None``: by months, winter = Dec–Feb)
    winter_spring_winter_percent: int | None = None
    #: the part of the winter share paid before Spring Festival, in percent
    winter_spring_before_festival_percent: int = 100
    reconstruction_subsidy_fen: Mapping[str, int] = field(default_factory=lambda: {
        "collapsed": 2_000_000, "severely_damaged": 2_000_000, "generally_damaged": 200_000})
    reconstruction_instalments: Mapping[str, Mapping[str, int]] = field(default_factory=lambda: {
        "rebuild": {"started": 40, "main_structure": 30, "completed": 30},
        "repair": {"completed": 100}})
    condolence_per_death_fen: int = 1_000_000
    drought_per_person_fen: int = 6_000
    emergency_per_person_fen: int = 30_000
    payment_day: int = 1

    def to_dict(self) -> dict:
        return {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: Mapping) -> "Standards":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    @classmethod
    def from_config(cls, config: Mapping) -> "Standards":
        """The standards in force, from configuration (``CYCLE_*``, defaults in :mod:`app.config`),
        where money is in whole CNY: converted to fen here."""
        def fen(cny) -> int:
            return int(round(float(cny) * 100))

        return cls(
            transitional_daily_fen=fen(config["CYCLE_TRANSITIONAL_DAILY_CNY"]),
            transitional_months=int(config["CYCLE_TRANSITIONAL_MONTHS"]),
            transitional_max_months=int(config["CYCLE_TRANSITIONAL_MAX_MONTHS"]),
            winter_spring_per_person_fen=fen(config["CYCLE_WINTER_SPRING_PER_PERSON_CNY"]),
            winter_spring_pay_from_month=int(config["CYCLE_WINTER_SPRING_PAY_FROM_MONTH"]),
            winter_spring_pay_to_month=int(config["CYCLE_WINTER_SPRING_PAY_TO_MONTH"]),
            winter_spring_winter_percent=(None if config.get("CYCLE_WINTER_SPRING_WINTER_PERCENT") is None
                                          else int(config["CYCLE_WINTER_SPRING_WINTER_PERCENT"])),
            winter_spring_before_festival_percent=int(config.get("CYCLE_WINTER_SPRING_BEFORE_FESTIVAL_PERCENT", 100)),
            reconstruction_subsidy_fen={k: fen(v) for k, v in config["CYCLE_RECONSTRUCTION_SUBSIDY_CNY"].items()},
            reconstruction_instalments={k: dict(v) for k, v in config["CYCLE_RECONSTRUCTION_INSTALMENTS"].items()},
            condolence_per_death_fen=fen(config["CYCLE_CONDOLENCE_PER_DEATH_CNY"]),
            drought_per_person_fen=fen(config["CYCLE_DROUGHT_PER_PERSON_CNY"]),
            emergency_per_person_fen=fen(config.get("CYCLE_EMERGENCY_PER_PERSON_CNY", 300)),
            payment_day=int(config["CYCLE_PAYMENT_DAY"]),
        )


@dataclass(frozen=True)
class Assessment:
    """Whether a household is eligible, the reasons (Chinese, for pages), and its priority."""

    eligible: bool
    reasons: tuple[str, ...]
    priority: bool = False
    work_type: str | None = None  # reconstruction: rebuild or repair


@dataclass(frozen=True)
class Instalment:
    """One payment a roll entry is owed.

    ``period`` is unique per household within a cycle (the payment key): the segment start date
    for transitional aid, ``YYYY-MM`` for winter-spring months, ``stage:<stage>`` for
    reconstruction, ``once`` for one-off aid. ``due_on`` is when a dated instalment falls due;
    ``stage`` when it falls due as the house reaches that stage.
    """

    period: str
    amount_fen: int
    due_on: date | None = None
    stage: str | None = None
    label: str = ""

    def to_dict(self) -> dict:
        return {"period": self.period, "amount_fen": self.amount_fen,
                "due_on": self.due_on.isoformat() if self.due_on else None,
                "stage": self.stage, "label": self.label}

    @classmethod
    def from_dict(cls, data: Mapping) -> "Instalment":
        due = data.get("due_on")
        return cls(period=data["period"], amount_fen=int(data["amount_fen"]),
                   due_on=date.fromisoformat(due) if due else None, stage=data.get("stage"),
                   label=data.get("label", ""))


# --- eligibility -------------------------------------------------------------------------------

def assess(kind: str, household: Mapping, *, deceased: int = 0) -> Assessment:
    """Eligibility of ``household`` (a mapping with ``damage_class`` and the :data:`FLAGS`).

    - transitional: house collapsed or severely damaged **and** nowhere to live; or cannot go
      home because of secondary hazards; or no livelihood (domain.md §4, checked).
    - winter_spring: affected this year (any house damage) or in hardship (no housing, no
      livelihood, no capacity to help themselves); 低保 and 特困 households are marked priority.
    - reconstruction: collapsed or severely damaged → rebuild; generally damaged → repair.
    - condolence: at least one member died in the disaster (``deceased``).
    - drought: in hardship through the drought: no livelihood, no capacity to help themselves,
      低保 or 特困.
    - emergency (应急救助, the emergency phase): house collapsed or severely damaged, nowhere to
      live, cannot go home, no livelihood or no capacity to help themselves.

    >>> assess("transitional", {"damage_class": "collapsed", "no_housing": True}).eligible
    True
    >>> assess("transitional", {"damage_class": "collapsed"}).reasons
    ('房屋倒塌或严重损坏但仍有房可住，且无其他过渡期救助情形',)
    """
    damage = household.get("damage_class") or "none"
    flag = {name: bool(household.get(name)) for name in FLAGS}
    priority = flag["dibao"] or flag["tekun"]
    marks = tuple(label for name, label in (("dibao", "低保户"), ("tekun", "特困户")) if flag[name])
    if kind == "transitional":
        reasons = []
        if damage in ("collapsed", "severely_damaged") and flag["no_housing"]:
            reasons.append(f"住房{DAMAGE_CLASSES[damage]}且无房可住")
        if flag["cannot_return"]:
            reasons.append("因次生灾害隐患不能返家")
        if flag["no_livelihood"]:
            reasons.append("因灾失去生活来源")
        if reasons:
            return Assessment(True, tuple(reasons) + marks, priority)
        if damage in ("collapsed", "severely_damaged"):
            return Assessment(False, ("房屋倒塌或严重损坏但仍有房可住，且无其他过渡期救助情形",), priority)
        return Assessment(False, ("住房未倒塌或严重损坏，且能返家、有生活来源",), priority)
    if kind == "winter_spring":
        reasons = []
        if damage != "none":
            reasons.append(f"当年受灾，住房{DAMAGE_CLASSES[damage]}")
        reasons += [FLAGS[name] for name in ("no_housing", "no_livelihood", "no_self_rescue") if flag[name]]
        if reasons:
            return Assessment(True, tuple(reasons) + marks, priority)
        return Assessment(False, ("未受灾且无冬春生活困难情形（低保、特困由常规渠道保障）",), priority)
    if kind == "reconstruction":
        if damage in ("collapsed", "severely_damaged"):
            return Assessment(True, (f"住房{DAMAGE_CLASSES[damage]}，需重建",) + marks, priority, "rebuild")
        if damage == "generally_damaged":
            return Assessment(True, ("住房一般损坏，需维修加固",) + marks, priority, "repair")
        return Assessment(False, ("住房未倒塌或损坏",), priority)
    if kind in ONE_OFF_KINDS:
        return _assess_one_off(kind, damage, flag, marks, priority, deceased)
    raise ValueError(f"unknown kind {kind!r}")


def _assess_one_off(kind: str, damage: str, flag: dict, marks: tuple, priority: bool, deceased: int) -> Assessment:
    """Condolence, drought and emergency relief (see :func:`assess`)."""
    if kind == "condolence":
        if deceased >= 1:
            return Assessment(True, (f"因灾遇难 {deceased} 人",), priority)
        return Assessment(False, ("无因灾遇难人员",), priority)
    if kind == "drought":
        reasons = [FLAGS[name] for name in ("no_livelihood", "no_self_rescue", "dibao", "tekun") if flag[name]]
        if reasons:
            return Assessment(True, ("因旱生活困难：" + "、".join(reasons),), priority)
        return Assessment(False, ("无因旱生活困难情形",), priority)
    reasons = [f"住房{DAMAGE_CLASSES[damage]}"] if damage in ("collapsed", "severely_damaged") else []
    reasons += [FLAGS[name] for name in ("no_housing", "cannot_return", "no_livelihood", "no_self_rescue")
                if flag[name]]
    if reasons:
        return Assessment(True, ("需紧急生活救助：" + "、".join(reasons),) + marks, priority)
    return Assessment(False, ("无需紧急生活救助情形",), priority)

# --- building blocks -----------------------------------------------------------------------------

def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clipped to the month's end.

    >>> add_months(date(2025, 8, 31), 1)
    datetime.date(2025, 9, 30)
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def transitional_segments(starts_on: date, from_month: int, to_month: int) -> list[tuple[date, int]]:
    """Calendar-month pieces of the relief period ``[starts_on + from_month, starts_on + to_month)``.

    Returns ``(segment start, days)`` pairs; each piece is paid as one instalment.

    >>> transitional_segments(date(2025, 8, 16), 0, 3)
    [(datetime.date(2025, 8, 16), 16), (datetime.date(2025, 9, 1), 30), (datetime.date(2025, 10, 1), 31), (datetime.date(2025, 11, 1), 15)]
    """
    start, end = add_months(starts_on, from_month), add_months(starts_on, to_month)
    out = []
    cursor = start
    while cursor < end:
        next_month = add_months(cursor.replace(day=1), 1)
        piece_end = min(next_month, end)
        out.append((cursor, (piece_end - cursor).days))
        cursor = piece_end
    return out


def split_percent(total: int, percents: Iterable[int]) -> list[int]:
    """``total`` split by whole percentages summing to 100; the rounding goes into the last part.

    >>> split_percent(2_000_000, [40, 30, 30])
    [800000, 600000, 600000]
    """
    percents = list(percents)
    if sum(percents) != 100:
        raise ValueError(f"instalment percentages must sum to 100, got {sum(percents)}")
    parts = [total * p // 100 for p in percents]
    parts[-1] += total - sum(parts)
    return parts


# --- instalments -----------------------------------------------------------------------------------

def instalments(kind: str, standards: Standards, *, persons: int = 0, deceased: int = 0,
                damage_class: str = "none", starts_on: date | None = None, from_month: int = 0,
                to_month: int | None = None, year: int | None = None, pay_to_month: int | None = None,
                approved_on: date | None = None, festival: date | None = None) -> list[Instalment]:
    """What one roll entry is owed, instalment by instalment.

    - transitional: ``persons × daily standard × days`` for each calendar-month piece of
      ``[starts_on + from_month, starts_on + to_month)`` months, due on the piece's first day.
    - winter_spring: ``persons × season standard`` over the payment months of the season beginning
      in ``year`` (December to ``pay_to_month``), due on the payment day: the winter share before
      Spring Festival (``festival``), the spring share by the end of the shortage season
      (:func:`winter_spring_schedule`).
    - reconstruction: the subsidy of the damage class split over the stages of the work type.
    - condolence, drought, emergency: one instalment due on ``approved_on``.

    >>> [i.amount_fen for i in instalments("transitional", Standards(), persons=3,
    ...                                     starts_on=date(2025, 8, 1))]
    [186000, 180000, 186000]
    """
    if kind == "transitional":
        if starts_on is None:
            raise ValueError("transitional instalments need starts_on")
        end = standards.transitional_months if to_month is None else to_month
        return [Instalment(start.isoformat(), persons * standards.transitional_daily_fen * days, start,
                           label=f"{start.isoformat()} 起 {days} 天")
                for start, days in transitional_segments(starts_on, from_month, end)]
    if kind == "winter_spring":
        if year is None:
            raise ValueError("winter-spring instalments need the season year")
        months = winter_spring_months(year, standards.winter_spring_pay_from_month,
                                      pay_to_month or standards.winter_spring_pay_to_month)
        schedule = winter_spring_schedule(persons * standards.winter_spring_per_person_fen, months,
                                          festival=festival, payment_day=standards.payment_day,
                                          winter_percent=standards.winter_spring_winter_percent,
                                          before_percent=standards.winter_spring_before_festival_percent)
        return [Instalment(f"{y:04d}-{m:02d}", amount, due_day(y, m, standards.payment_day),
                           label=f"{y}年{m}月·{SEASON_PARTS[part]}") for y, m, amount, part in schedule]
    if kind == "reconstruction":
        work_type = "rebuild" if damage_class in ("collapsed", "severely_damaged") else "repair"
        subsidy = standards.reconstruction_subsidy_fen.get(damage_class, 0)
        if not subsidy:
            return []
        stages = standards.reconstruction_instalments[work_type]
        ordered = [s for s in STAGES if s in stages]
        amounts = split_percent(subsidy, [stages[s] for s in ordered])
        return [Instalment(f"stage:{stage}", amount, stage=stage, label=STAGE_LABELS[stage])
                for stage, amount in zip(ordered, amounts)]
    if kind == "condolence":
        return [Instalment("once", deceased * standards.condolence_per_death_fen, approved_on,
                           label="一次性抚慰金")]
    if kind == "drought":
        return [Instalment("once", persons * standards.drought_per_person_fen, approved_on,
                           label="一次性旱灾临时生活救助")]
    if kind == "emergency":
        return [Instalment("once", persons * standards.emergency_per_person_fen, approved_on,
                           label="一次性应急救助")]
    raise ValueError(f"unknown kind {kind!r}")


def is_due(instalment: Instalment, cutoff: datetime, *, tz: ZoneInfo, stage_reached: Mapping[str, datetime]) -> bool:
    """True when ``instalment`` falls due at or before ``cutoff``.

    Dated instalments are due from the start of ``due_on`` (local time); staged ones once the
    house reached the stage (``stage_reached[stage]``) at or before the cutoff.
    """
    if instalment.stage:
        reached = stage_reached.get(instalment.stage)
        return reached is not None and reached <= cutoff
    if instalment.due_on is None:
        return False
    return datetime.combine(instalment.due_on, time.min, tz) <= cutoff


# --- timelines ---------------------------------------------------------------------------------------

def notice_ends(started_at: datetime, days: int) -> datetime:
    """A public notice of ``days`` days ends that many whole days after it was posted."""
    return started_at + timedelta(days=days)


def deadline_status(due_at: datetime, met_at: datetime | None, now: datetime) -> str:
    """``met`` once done (even late; the met time is shown), else ``due`` or ``overdue``."""
    if met_at is not None:
        return "met"
    return "due" if now < due_at else "overdue"


def local_deadline(day: date, tz: ZoneInfo) -> datetime:
    """"By 15 October" means before the end of that day, local time."""
    return datetime.combine(day + timedelta(days=1), time.min, tz)


def winter_spring_deadlines(year: int, deadlines: Mapping[str, str], tz: ZoneInfo) -> dict[str, datetime]:
    """``{level: due_at}`` for the needs tables of the season starting in ``year``; ``deadlines``
    maps ``county``/``prefecture``/``province`` to ``MM-DD`` (defaults 10-15, 10-20, 10-25)."""
    out = {}
    for level in LEVELS:
        month, day = (int(x) for x in deadlines[level].split("-"))
        out[level] = local_deadline(date(year, month, day), tz)
    return out


def report_due(last_report_at: datetime, every_days: int) -> datetime:
    """When the next reconstruction progress report is due."""
    return last_report_at + timedelta(days=every_days)


def is_single_crop(county_code: str, single_crop_regions: Iterable[str]) -> bool:
    """A county is in a single-crop area when it lies inside one of the configured regions."""
    return any(codes.is_within(county_code, region) for region in single_crop_regions)


# --- the needs table ----------------------------------------------------------------------------------

NEEDS_COLUMNS = {
    "households": "需救助户数",
    "persons": "需救助人口",
    "food": "需口粮救助人口",
    "clothing": "需衣被救助人口",
    "heating": "需取暖救助人口",
    "priority": "其中低保、特困人口",
    "funds_fen": "需救助资金（分）",
}


def aggregate_needs(rows: Iterable[Mapping], root: str) -> dict[str, dict[str, int]]:
    """Sum village-level needs rows up the region tree, for every region from the villages up to
    ``root`` (受灾人员冬春生活需救助情况统计表). Each row has ``village_code`` and the
    :data:`NEEDS_COLUMNS` counts; rows outside ``root`` are ignored.

    >>> table = aggregate_needs([{"village_code": "140105001200", "households": 1, "persons": 3,
    ...                           "food": 3, "clothing": 0, "heating": 3, "priority": 0,
    ...                           "funds_fen": 39000}], "140100")
    >>> table["140105"]["persons"], sorted(table)
    (3, ['140100', '140105', '140105001', '140105001200'])
    """
    root = codes.normalise(root)
    table: dict[str, dict[str, int]] = {}
    for row in rows:
        village = row["village_code"]
        if not codes.is_within(village, root):
            continue
        chain = [village] + codes.ancestors(village)
        if root == codes.NATIONAL:
            chain.append(root)
        for code in chain:
            if not codes.is_within(code, root):
                break
            totals = table.setdefault(code, {name: 0 for name in NEEDS_COLUMNS})
            for name in NEEDS_COLUMNS:
                totals[name] += int(row.get(name, 0))
    if root not in table:
        table[root] = {name: 0 for name in NEEDS_COLUMNS}
    return table
