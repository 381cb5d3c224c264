"""Statutory reporting deadlines (报送时限) of ``domain.md`` §3, computed without Flask or a database.

Every affected county owes, for one disaster process:

- an initial report (初报) within ``initial_hours`` (default 2 h) of the start;
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

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Schedule:
    """The configurable rules (``REPORT_*``, ``HOLIDAYS``, ``EXTRA_WORKDAYS``)."""

    initial_hours: float = 2
    daily_due: time = time(9, 0)
    periodic_days: int = 1
    verified_working_days: int = 5
    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    tz: ZoneInfo = SHANGHAI

    @classmethod
    def from_config(cls, config: Mapping, hazard: str) -> "Schedule":
        """Read the application configuration; drought events get the drought interval."""
        hours, minutes = (int(part) for part in str(config["REPORT_DAILY_DUE"]).split(":"))
        return cls(
            initial_hours=float(config["REPORT_INITIAL_HOURS"]),
            daily_due=time(hours, minutes),
            periodic_days=int(config["REPORT_DROUGHT_INTERVAL_DAYS"]) if hazard == "drought" else 1,
            verified_working_days=int(config["REPORT_VERIFIED_WORKING_DAYS"]),
            holidays=frozenset(date.fromisoformat(d) for d in config.get("HOLIDAYS", [])),
            extra_workdays=frozenset(date.fromisoformat(d) for d in config.get("EXTRA_WORKDAYS", [])),
            tz=ZoneInfo(config.get("TIMEZONE", "Asia/Shanghai")),
        )

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


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

    @property
    def late(self) -> bool:
        return self.met_at is not None and self.met_at > self.due_at

    def to_dict(self) -> dict:
        return {"region_code": self.region_code, "kind": self.kind, "due_at": _utc(self.due_at),
                "status": self.status, "met_at": _utc(self.met_at), "late": self.late}


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
                       include_next: bool) -> list[datetime]:
    """Due times of the updates: the due time on start date + k × interval, k = 1, 2, …, up to
    ``until`` (inclusive); with ``include_next``, also the first one after ``until``."""
    local_start = started_at.astimezone(schedule.tz).date()
    out: list[datetime] = []
    k = 1
    while True:
        due = datetime.combine(local_start + timedelta(days=k * schedule.periodic_days),
                               schedule.daily_due, schedule.tz)
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


def compute(*, started_at: datetime, stabilised_at: datetime | None, ended_at: datetime | None,
            counties: Iterable[str], submissions: Mapping[str, Iterable[Submission]],
            schedule: Schedule, now: datetime) -> list[Deadline]:
    """Every statutory report due for the event, met or not, county by county.

    Parameters
    ----------
    started_at, stabilised_at, ended_at : the event's start, the declared stabilisation (or
        ``None``) and its closing (``None`` while open); aware datetimes.
    counties : the county codes that owe reports.
    submissions : county code → the reports filed for the county or beneath it.
    schedule : the rules (:meth:`Schedule.from_config`).
    now : the time the statuses are evaluated at.

    Returns
    -------
    list of :class:`Deadline`, by county, then initial, updates in time order, verified.
    """
    if stabilised_at is not None:
        until, include_next = stabilised_at, False
    elif ended_at is not None:
        until, include_next = ended_at, False
    else:
        until, include_next = now, True
    due_times = periodic_due_times(started_at, until, schedule, include_next)
    period = timedelta(days=schedule.periodic_days)
    opens = [_period_open(due, period, schedule) for due in due_times]
    verified_due = None
    if stabilised_at is not None:
        local = stabilised_at.astimezone(schedule.tz)
        day = add_working_days(local.date(), schedule.verified_working_days, schedule)
        verified_due = datetime.combine(day, local.timetz().replace(tzinfo=None), schedule.tz)

    out: list[Deadline] = []
    for county in sorted(set(counties)):
        filed = sorted(submissions.get(county, ()), key=lambda s: s.submitted_at)
        times = [s.submitted_at for s in filed]

        initial_due = started_at + timedelta(hours=schedule.initial_hours)
        first_initial = next((s.submitted_at for s in filed if s.kind == "initial"), None)
        out.append(Deadline(county, "initial", initial_due, _status(initial_due, first_initial, now),
                            first_initial))

        for index, due in enumerate(due_times):
            window_open = opens[index]
            window_close = opens[index] + period
            position = bisect.bisect_left(times, window_open)
            met_at = times[position] if position < len(times) and times[position] < window_close else None
            out.append(Deadline(county, "update", due, _status(due, met_at, now), met_at))

        if verified_due is not None:
            met_at = _verified_at(county, filed)
            out.append(Deadline(county, "final", verified_due, _status(verified_due, met_at, now), met_at))
    return out


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
