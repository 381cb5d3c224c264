"""The direct report (直报, ``domain.md`` §3) as a tracked deadline, without Flask or a database.

When a county's deaths + missing reach ``REPORT_DIRECT_ALERT_DEATHS_MISSING`` (default 10), or its
collapsed houses reach ``REPORT_DIRECT_COLLAPSED_ROOMS`` rooms or
``REPORT_DIRECT_COLLAPSED_HOUSEHOLDS`` households (大量房屋倒塌; defaults of ours), the county
reports to the province and to the national ministry at the same time, within the initial
report's hours (default 2 h) of the moment its figures crossed the threshold. Each county that
crossed owes two deadlines of kind ``direct`` (``to_level`` province and nation); both are met by
the county's own report (filed for the county itself, not a village beneath it) at or after
that moment: the one that crossed, when the county filed it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Iterable, Mapping, Sequence

from gis import codes

from . import indicators
from .deadlines import Deadline, Schedule, Submission, _status
from .rollup import Latest, roll_up, total_for


@dataclass(frozen=True)
class Thresholds:
    """``REPORT_DIRECT_*``: any one reached makes the direct report due."""

    deaths_missing: float = 10
    collapsed_rooms: float = 1000
    collapsed_households: float = 300

    @classmethod
    def from_config(cls, config: Mapping) -> "Thresholds":
        return cls(float(config["REPORT_DIRECT_ALERT_DEATHS_MISSING"]),
                   float(config.get("REPORT_DIRECT_COLLAPSED_ROOMS", cls.collapsed_rooms)),
                   float(config.get("REPORT_DIRECT_COLLAPSED_HOUSEHOLDS", cls.collapsed_households)))

    def reached(self, figures: Mapping[str, float]) -> bool:
        return (indicators.deaths_and_missing(figures) >= self.deaths_missing
                or (figures.get("collapsed_rooms") or 0) >= self.collapsed_rooms
                or (figures.get("collapsed_households") or 0) >= self.collapsed_households)


@dataclass(frozen=True)
class Filed:
    """One report beneath (or of) a county, as the roll-up reads it."""

    region_code: str
    submitted_at: datetime
    figures: Mapping[str, float]
    as_of: datetime


def crossed_at(county: str, filed: Sequence[Filed], parent_of: Callable[[str], str | None],
               thresholds: Thresholds) -> datetime | None:
    """When the county's rolled-up figures first reached a threshold (``None``: never).

    ``filed`` in the order the reports came in. Cumulative figures grow, so the first report
    after which the total is at the threshold is found by halving (a later drop below it and a
    rise again keeps the first crossing)."""
    def reached_after(count: int) -> bool:
        latest: dict[str, Latest] = {}
        for item in filed[:count]:
            latest[item.region_code] = Latest(item.figures, item.as_of)
        return thresholds.reached(total_for(county, roll_up(latest, parent_of)).figures)

    if not filed or not reached_after(len(filed)):
        return None
    lo, hi = 1, len(filed)
    while lo < hi:
        middle = (lo + hi) // 2
        if reached_after(middle):
            hi = middle
        else:
            lo = middle + 1
    return filed[lo - 1].submitted_at


def direct_deadlines(crossings: Mapping[str, datetime], submissions: Mapping[str, Iterable[Submission]],
                     province_of: Mapping[str, str], schedule: Schedule, now: datetime) -> list[Deadline]:
    """The direct-report deadlines of the counties that crossed (``county → moment``): one to
    the province and one to the nation each, due ``initial_hours`` after the crossing."""
    out: list[Deadline] = []
    for county in sorted(crossings):
        moment = crossings[county]
        due = moment + timedelta(hours=schedule.initial_hours)
        met = min((s.submitted_at for s in submissions.get(county, ())
                   if s.region_code == county and s.submitted_at >= moment), default=None)
        for to_level, to in (("province", province_of.get(county)), ("nation", codes.NATIONAL)):
            out.append(Deadline(county, "direct", due, _status(due, met, now), met, "county",
                                reports_to=to, to_level=to_level))
    return out
