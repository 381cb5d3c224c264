"""Statutory reporting deadlines (报送时限) of ``domain.md`` §3, computed without Flask or a database.

Every affected county owes, for one disaster process, on its own clock (a county added to the
event later starts when it was added, or at the first impact the clerk gave; one declared stable
on its own stops its updates and starts its verified report while the others go on):

- an initial report (初报) within ``initial_hours`` (default 2 h) of its start; a drought's
  (旱情初显时初报) within its first period instead, ``drought_initial_days`` (default 10) days
  after its start at the daily due time: no 2 h clock;
- an update (续报) due at ``daily_due`` (default 09:00, Asia/Shanghai) on each day after the start
  until the situation is declared stable (drought: every ``periodic_days`` = 10 days). The
  report for a due day D may be filed from 00:00 of the first day of its period (D for daily
  reports, D − 9 days for drought) — it covers up to 24:00 of the day before — and is on time
  when filed by the due time, late when filed later the same day. A period with no report stays
  overdue;
- a verified report (核报) ``verified_working_days`` working days (default 5) after stabilisation,
  at the same time of day, skipping weekends and ``holidays`` and counting ``extra_workdays``
  (调休). It is met by the county's own verified report, or when every region beneath it that
  reported has filed its verified report.

A county's report may be filed by the county itself or by any township or village beneath it
(the statistical unit is the township; the county's figures then come from the roll-up).

Each prefecture and province above the counties then forwards (逐级上报): it reviews the figures
from below and forwards them (审核上报, a forwarding of the same kind), or files a report for its
own region. The municipalities' 市辖区/县 and the 省直辖县级行政区划 groupings are not a level
(:func:`is_pass_through`): their counties report to the province. Each unit owes:

- its initial report ``forward_hours`` (default 2 h) after the first initial report reached it
  from below, or after the units below were due if none did;
- its daily updates at its own time (default 10:00 prefecture, 12:00 province), from its
  earliest county's start until every county below it is stable;
- its verified report ``verified_working_days`` of its level (default 5) after every unit below
  had filed its verified report, or after the last of their deadlines if that came first.

:func:`compute` lists every deadline with its status (``due``, ``overdue`` or ``met``) and
:func:`rates` summarises completeness (met ÷ fallen due) and timeliness (met on time ÷ fallen
due) per prefecture and province.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

from gis import codes

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Schedule:
    """The configurable rules (``REPORT_*``, ``HOLIDAYS``, ``EXTRA_WORKDAYS``).

    ``daily_due`` and ``verified_working_days`` are the county's; the prefecture and the
    province have their own in ``upper_daily_due`` and ``upper_verified_working_days``.
    """

    initial_hours: float = 2
    daily_due: time = time(9, 0)
    periodic_days: int = 1
    verified_working_days: int = 5
    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    tz: ZoneInfo = SHANGHAI
    forward_hours: float = 2
    upper_daily_due: tuple[tuple[str, time], ...] = (("prefecture", time(10, 0)), ("province", time(12, 0)))
    upper_verified_working_days: tuple[tuple[str, int], ...] = (("prefecture", 5), ("province", 5))
    #: drought (旱灾): the initial report is due this many days after the start, at the daily
    #: due time, instead of ``initial_hours``; ``None`` for every other hazard.
    drought_initial_days: int | None = None

    @classmethod
    def from_config(cls, config: Mapping, hazard: str) -> "Schedule":
        """Read the application configuration; drought events get the drought interval.

        ``REPORT_DAILY_DUE`` and ``REPORT_VERIFIED_WORKING_DAYS`` are either one value (the
        county's; the levels above keep their defaults) or a mapping by level, e.g.
        ``{"county": 2, "prefecture": 3, "province": 5}`` for the older verified-report rule.
        """
        daily = _by_level(config["REPORT_DAILY_DUE"], _parse_time,
                          {"county": cls.daily_due, **dict(cls.upper_daily_due)})
        verified = _by_level(config["REPORT_VERIFIED_WORKING_DAYS"], int,
                             {"county": cls.verified_working_days, **dict(cls.upper_verified_working_days)})
        return cls(
            initial_hours=float(config["REPORT_INITIAL_HOURS"]),
            daily_due=daily.pop("county"),
            periodic_days=int(config["REPORT_DROUGHT_INTERVAL_DAYS"]) if hazard == "drought" else 1,
            verified_working_days=verified.pop("county"),
            holidays=frozenset(date.fromisoformat(d) for d in config.get("HOLIDAYS", [])),
            extra_workdays=frozenset(date.fromisoformat(d) for d in config.get("EXTRA_WORKDAYS", [])),
            tz=ZoneInfo(config.get("TIMEZONE", "Asia/Shanghai")),
            forward_hours=float(config.get("REPORT_FORWARD_HOURS", 2)),
            upper_daily_due=tuple(sorted(daily.items())),
            upper_verified_working_days=tuple(sorted(verified.items())),
            drought_initial_days=int(config.get("REPORT_DROUGHT_INITIAL_DAYS", 10)) if hazard == "drought" else None,
        )

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def due_time(self, level: str) -> time:
        """The daily update's due time of a level (09:00 county, 10:00 prefecture, 12:00 province)."""
        return self.daily_due if level == "county" else dict(self.upper_daily_due)[level]

    def verified_days(self, level: str) -> int:
        """Working days a level has for its verified report, counted from the level below."""
        return self.verified_working_days if level == "county" else dict(self.upper_verified_working_days)[level]


def _parse_time(value) -> time:
    hours, minutes = (int(part) for part in str(value).split(":"))
    return time(hours, minutes)


def _by_level(value, parse, defaults: dict) -> dict:
    """``{"county": …, "prefecture": …, "province": …}`` from one value (the county's) or a
    mapping by level; levels not given keep ``defaults``."""
    if not isinstance(value, Mapping):
        return {**defaults, "county": parse(value)}
    unknown = set(value) - set(defaults)
    if unknown:
        raise ValueError(f"unknown levels {sorted(unknown)}; use county, prefecture, province")
    return {level: parse(value[level]) if level in value else default for level, default in defaults.items()}


@dataclass(frozen=True)
class Submission:
    """One report filed for the county or beneath it."""

    region_code: str
    kind: str
    submitted_at: datetime


@dataclass
class Deadline:
    region_code: str
    kind: str  # initial | update | final
    due_at: datetime
    status: str  # due | overdue | met
    met_at: datetime | None = None
    level: str = "county"  # county | prefecture | province
    reports_to: str | None = None  # the unit above, which the report goes to
    to_level: str | None = None  # a direct report (直报): province | nation


    @property
    def late(self) -> bool:
        return self.met_at is not None and self.met_at > self.due_at

    def to_dict(self) -> dict:
        out = {"region_code": self.region_code, "level": self.level, "kind": self.kind,
               "due_at": _utc(self.due_at), "status": self.status, "met_at": _utc(self.met_at),
               "late": self.late}
        if self.to_level:  # a direct report says to whom it goes
            out.update(to_level=self.to_level, reports_to=self.reports_to)
        return out


def _utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC, as every other time of the API."""
    return moment.astimezone(timezone.utc).isoformat() if moment else None


def add_working_days(start: date, days: int, schedule: Schedule) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself is not counted)."""
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if schedule.is_working_day(day):
            counted += 1
    return day


def periodic_due_times(started_at: datetime, until: datetime, schedule: Schedule,
                       include_next: bool, due_time: time | None = None) -> list[datetime]:
    """Due times of the updates: ``due_time`` (default: the county's) on start date + k ×
    interval, k = 1, 2, …, up to ``until`` (inclusive); with ``include_next``, also the first one
    after ``until``."""
    due_time = due_time or schedule.daily_due
    local_start = started_at.astimezone(schedule.tz).date()
    out: list[datetime] = []
    k = 1
    while True:
        due = datetime.combine(local_start + timedelta(days=k * schedule.periodic_days),
                               due_time, schedule.tz)
        if due > until:
            if include_next:
                out.append(due)
            return out
        out.append(due)
        k += 1


def _status(due_at: datetime, met_at: datetime | None, now: datetime) -> str:
    if met_at is not None:
        return "met"
    return "overdue" if now > due_at else "due"


LEVELS = ("county", "prefecture", "province")


def compute(*, started_at: datetime, stabilised_at: datetime | None, ended_at: datetime | None,
            counties: Iterable[str], submissions: Mapping[str, Iterable[Submission]],
            schedule: Schedule, now: datetime,
            parents: Mapping[str, str | None] | None = None,
            unit_started: Mapping[str, datetime] | None = None,
            unit_stabilised: Mapping[str, datetime] | None = None) -> list[Deadline]:
    """Every statutory report due for the event, met or not, unit by unit.

    Parameters
    ----------
    started_at, stabilised_at, ended_at : the event's start, the declared stabilisation of the
        whole event (or ``None``) and its closing (``None`` while open); aware datetimes.
    counties : the county codes that owe reports.
    submissions : county code → the reports filed for the county or beneath it; prefecture or
        province code → the reports filed for that region itself (its forwarded figures).
    schedule : the rules (:meth:`Schedule.from_config`).
    now : the time the statuses are evaluated at.
    parents : ``code → parent code`` for the counties and their prefectures. With it, every
        prefecture and province above the counties owes its forwarding deadlines too (逐级上报);
        without it, only the counties are listed.
    unit_started : county → its clock's start (added later, or its first impact); else ``started_at``.
    unit_stabilised : county → its own stabilisation (灾情稳定); the earlier of it and
        ``stabilised_at`` counts. A unit above is stable once every unit below it is.

    Returns
    -------
    list of :class:`Deadline`: the counties, then the prefectures, then the provinces, each unit
    with its initial, its updates in time order and its verified report.
    """
    period = timedelta(days=schedule.periodic_days)
    county_set = set(counties)
    tree = reporting_tree(county_set, parents or {})
    starts, stables = dict(unit_started or {}), dict(unit_stabilised or {})
    out: list[Deadline] = []
    by_unit: dict[str, list[Deadline]] = {}
    clocks: dict[str, tuple[datetime, datetime | None]] = {}  # unit → (start, stable)
    for level in LEVELS:
        units = sorted(county_set) if level == "county" else sorted(u for u, lv in tree.levels.items()
                                                                    if lv == level)
        # A level forwards the last update of the level below even when the situation was
        # declared stable between the two due times (a county's 09:00 report of that day is
        # still the prefecture's to forward at 10:00).
        lag = _later_by(schedule.due_time(level), schedule.due_time("county"))
        for unit in units:
            kids = [clocks[c] for c in tree.children.get(unit, ()) if c in clocks]
            start, stable = clocks[unit] = _unit_clock(unit, level, kids, started_at, stabilised_at,
                                                       starts, stables)
            due_times, opens = _update_times(level, start, stable, ended_at, now, lag, period, schedule)
            filed = sorted(submissions.get(unit, ()), key=lambda s: s.submitted_at)
            if level != "county":  # a unit above forwards for itself only
                filed = [s for s in filed if s.region_code == unit]
            children = [by_unit[c] for c in tree.children.get(unit, ()) if c in by_unit]
            items = _unit_deadlines(unit, level, filed, children, started_at=start,
                                    stabilised_at=stable, due_times=due_times, opens=opens,
                                    period=period, schedule=schedule, now=now)
            for item in items:
                item.reports_to = tree.reports_to.get(unit)
            by_unit[unit] = items
            out.extend(items)
    return out


def _update_times(level: str, start: datetime, stable: datetime | None, ended_at: datetime | None,
                  now: datetime, lag: timedelta, period: timedelta,
                  schedule: Schedule) -> tuple[list[datetime], list[datetime]]:
    """A unit's update due times, from its start to its stabilisation (or the closing, or the
    next one after now), and when each one's period opens."""
    until, include_next = (stable, False) if stable else (ended_at, False) if ended_at else (now, True)
    due_times = periodic_due_times(start, until if include_next else until + lag, schedule,
                                   include_next, due_time=schedule.due_time(level))
    return due_times, [_period_open(due, period, schedule) for due in due_times]


def _unit_clock(unit: str, level: str, kids: list[tuple[datetime, datetime | None]], started_at: datetime,
                stabilised_at: datetime | None, starts: Mapping[str, datetime],
                stables: Mapping[str, datetime]) -> tuple[datetime, datetime | None]:
    """A unit's start and stabilisation: a county's own (or the event's); a unit above starts
    with its earliest county and is stable once all of them are."""
    if level == "county" or not kids:
        start, stable = starts.get(unit, started_at), stables.get(unit)
    else:
        start = min(k[0] for k in kids)
        stable = None if any(k[1] is None for k in kids) else max(k[1] for k in kids)
    if stabilised_at is not None:
        stable = stabilised_at if stable is None else min(stable, stabilised_at)
    return start, None if stable is None else max(stable, start)


def _later_by(later: time, earlier: time) -> timedelta:
    minutes = (later.hour * 60 + later.minute) - (earlier.hour * 60 + earlier.minute)
    return timedelta(minutes=max(minutes, 0))


@dataclass
class ReportingTree:
    """Who forwards to whom above the counties (逐级上报)."""

    levels: dict[str, str] = field(default_factory=dict)  # prefecture/province code → level
    children: dict[str, list[str]] = field(default_factory=dict)  # unit → units reporting to it
    reports_to: dict[str, str] = field(default_factory=dict)  # unit → the unit above it


#: Provinces whose prefecture-level codes are only groupings (直辖市: 市辖区, 县).
MUNICIPALITIES = frozenset({"11", "12", "31", "50"})


def is_pass_through(code: str) -> bool:
    """A prefecture-level code that is not a reporting level: the 市辖区/县 groupings of the
    municipalities (110100 …) and the 省直辖县级行政区划 groupings (xx9000, e.g. 429000). Their
    counties report to the province directly."""
    return len(code) == 6 and code.endswith("00") and not code.endswith("0000") \
        and (code[:2] in MUNICIPALITIES or code[2:4] == "90")


def reporting_tree(counties: Iterable[str], parents: Mapping[str, str | None]) -> ReportingTree:
    """The prefectures and provinces above the counties, each with the units that report to it
    (a county directly under a province — 省直辖县, or a district of a municipality — reports
    to the province)."""
    tree = ReportingTree()
    for county in sorted(set(counties)):
        child = county
        parent = parents.get(county)
        while parent is not None:
            level = _level(parent)
            if level in ("prefecture", "province") and not is_pass_through(parent):
                tree.levels[parent] = level
                siblings = tree.children.setdefault(parent, [])
                if child not in siblings:
                    siblings.append(child)
                tree.reports_to[child] = parent
                child = parent
            parent = parents.get(parent)
    return tree


def _level(code: str) -> str | None:
    try:
        return codes.level_of(code)
    except codes.CodeError:
        return None


def _unit_deadlines(unit: str, level: str, filed: list[Submission], children: list[list[Deadline]], *,
                    started_at: datetime, stabilised_at: datetime | None, due_times: list[datetime],
                    opens: list[datetime], period: timedelta, schedule: Schedule,
                    now: datetime) -> list[Deadline]:
    out: list[Deadline] = []
    times = [s.submitted_at for s in filed]
    if level == "county":
        initial_due = _initial_due(started_at, schedule)
        initial_met = next((s.submitted_at for s in filed if s.kind == "initial"), None)
    else:
        # Forward within 2 h of the first report from below, and no later than 2 h after the
        # units below were due (a silent county does not hold the deadline open).
        child_initials = [d for items in children for d in items if d.kind == "initial"]
        received = min(_received(d) for d in child_initials)
        initial_due = received + timedelta(hours=schedule.forward_hours)
        initial_met = next((s.submitted_at for s in filed if s.region_code == unit and s.kind == "initial"),
                           None)
    out.append(Deadline(unit, "initial", initial_due, _status(initial_due, initial_met, now), initial_met,
                        level))

    for index, due in enumerate(due_times):
        window_open, window_close = opens[index], opens[index] + period
        position = bisect.bisect_left(times, window_open)
        met_at = times[position] if position < len(times) and times[position] < window_close else None
        out.append(Deadline(unit, "update", due, _status(due, met_at, now), met_at, level))

    if stabilised_at is not None:
        days = schedule.verified_days(level)
        if level == "county":
            anchor = stabilised_at
            met_at = _verified_at(unit, filed)
        else:
            # 接到下级核报后: counted from when every unit below had filed, or from the last
            # of their deadlines if that came first.
            finals = [d for items in children for d in items if d.kind == "final"]
            last_due = max(d.due_at for d in finals)
            everyone_in = None if any(d.met_at is None for d in finals) else max(d.met_at for d in finals)
            anchor = min(last_due, everyone_in) if everyone_in is not None else last_due
            met_at = next((s.submitted_at for s in filed if s.region_code == unit and s.kind == "final"), None)
        local = anchor.astimezone(schedule.tz)
        day = add_working_days(local.date(), days, schedule)
        verified_due = datetime.combine(day, local.timetz().replace(tzinfo=None), schedule.tz)
        out.append(Deadline(unit, "final", verified_due, _status(verified_due, met_at, now), met_at, level))
    return out


def _initial_due(start: datetime, schedule: Schedule) -> datetime:
    """A county's initial report: ``initial_hours`` after its start; a drought's within its
    first period (``drought_initial_days`` later, at the daily due time)."""
    if schedule.drought_initial_days is None:
        return start + timedelta(hours=schedule.initial_hours)
    day = start.astimezone(schedule.tz).date() + timedelta(days=schedule.drought_initial_days)
    return datetime.combine(day, schedule.daily_due, schedule.tz)


def _received(item: Deadline) -> datetime:
    """When the unit above could first act on a report: on its filing, or at its due time."""
    return min(item.met_at, item.due_at) if item.met_at is not None else item.due_at


def _period_open(due: datetime, period: timedelta, schedule: Schedule) -> datetime:
    """00:00 (local) of the first day of the period that ends on the due day."""
    local_day = due.astimezone(schedule.tz).date() - (period - timedelta(days=1))
    return datetime.combine(local_day, time(0, 0), schedule.tz)


def _verified_at(county: str, filed: list[Submission]) -> datetime | None:
    """When the county's verified report was in: its own, or the last of its reporting regions'."""
    own = next((s.submitted_at for s in filed if s.region_code == county and s.kind == "final"), None)
    if own is not None:
        return own
    finals: dict[str, datetime] = {}
    reporting: set[str] = set()
    for s in filed:
        reporting.add(s.region_code)
        if s.kind == "final":
            finals.setdefault(s.region_code, s.submitted_at)
    if reporting and reporting <= set(finals):
        return max(finals.values())
    return None


@dataclass
class Rate:
    """Completeness and timeliness of one unit (a prefecture or a province)."""

    region_code: str
    fallen_due: int = 0
    met: int = 0
    on_time: int = 0
    overdue: int = 0
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def completeness(self) -> float | None:
        return self.met / self.fallen_due if self.fallen_due else None

    @property
    def timeliness(self) -> float | None:
        return self.on_time / self.fallen_due if self.fallen_due else None

    def to_dict(self) -> dict:
        return {"region_code": self.region_code, "fallen_due": self.fallen_due, "met": self.met,
                "on_time": self.on_time, "overdue": self.overdue,
                "completeness": None if self.completeness is None else round(self.completeness, 4),
                "timeliness": None if self.timeliness is None else round(self.timeliness, 4),
                "by_kind": self.by_kind}


def rates(deadlines: Iterable[Deadline], units_of: Mapping[str, Iterable[str]],
          now: datetime) -> dict[str, Rate]:
    """Completeness and timeliness per unit.

    ``units_of`` maps a county to the units it counts towards (its prefecture and province).
    Only deadlines that have fallen due by ``now`` count; a report filed before its due time is
    on time, one filed after it is complete but late.
    """
    out: dict[str, Rate] = {}
    for item in deadlines:
        if item.due_at > now:
            continue
        for unit in units_of.get(item.region_code, ()):
            rate = out.setdefault(unit, Rate(unit))
            kind = rate.by_kind.setdefault(item.kind, {"fallen_due": 0, "met": 0, "on_time": 0})
            rate.fallen_due += 1
            kind["fallen_due"] += 1
            if item.met_at is not None:
                rate.met += 1
                kind["met"] += 1
                if not item.late:
                    rate.on_time += 1
                    kind["on_time"] += 1
            else:
                rate.overdue += 1
    return out
