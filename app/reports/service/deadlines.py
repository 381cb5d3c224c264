"""Statutory deadlines of an event (报送时限) and the completeness and timeliness rates built on
them (报送完整率、及时率), read from the database and computed by the pure
:mod:`app.reports.deadlines`: who owes what (the counties, then the prefectures and provinces
that forward, 逐级上报), which of those a user sees, and the event page's summary of them.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select

from gis import codes

from ...extensions import db
from ...models_common import utcnow
from ...permissions import require
from ...regions import Region
from ...validation import Field
from .. import deadlines as dl
from .. import direct
from ..models import Event, LossReport, ReportForward
from ..totals import parent_lookup
from ._common import CODE_ARG, config, county_of, query
from .alerts import direct_crossings
from .events import affected_counties, get_event, overlaps
from .units import unit_clocks

DEADLINE_STATUSES = ("due", "overdue", "met")
_DEADLINE_ARGS = {
    "status": Field("str", required=False, choices=DEADLINE_STATUSES, description="due | overdue | met"),
    "region_code": CODE_ARG,
}
#: Deadlines listed on the event page as needing attention (not met), soonest first.
ATTENTION_LIMIT = 50


def _submissions_by_unit(event: Event, counties: set[str],
                         upper_units: set[str]) -> dict[str, list[dl.Submission]]:
    """County → the reports filed for it or beneath it; prefecture or province → its
    forwardings (审核上报) and any report it filed for its own region."""
    rows = db.session.execute(select(LossReport.region_code, LossReport.kind, LossReport.submitted_at)
                              .where(LossReport.event_id == event.id)).all()
    rows += db.session.execute(select(ReportForward.region_code, ReportForward.kind, ReportForward.forwarded_at)
                               .where(ReportForward.event_id == event.id)).all()
    out: dict[str, list[dl.Submission]] = {}
    for code, kind, submitted_at in rows:
        unit = code if code in upper_units else county_of(code)
        if unit in counties or unit in upper_units:
            out.setdefault(unit, []).append(dl.Submission(code, kind, submitted_at))
    return out


def reporting_tree(event: Event) -> tuple[list[str], dict[str, str | None], dl.ReportingTree]:
    """The counties that owe reports, their ancestors and who forwards to whom above them."""
    counties = affected_counties(event)
    parents = parent_lookup(counties)
    return counties, parents, dl.reporting_tree(counties, parents)


def compute_deadlines(event: Event, now: datetime | None = None) -> list[dl.Deadline]:
    """Every statutory deadline of the event: each county's on its own clock (added later,
    stable on its own: :func:`unit_clocks`), then the forwarding deadlines of the prefectures and
    provinces above them, then the direct reports (直报) of the counties that crossed a
    threshold, with their status at ``now``."""
    counties, parents, tree = reporting_tree(event)
    submissions = _submissions_by_unit(event, set(counties), set(tree.levels))
    schedule = dl.Schedule.from_config(current_app.config, event.hazard)
    now = now or utcnow()
    starts, stables = unit_clocks(event)
    items = dl.compute(started_at=event.started_at, stabilised_at=event.stabilised_at,
                       ended_at=event.closed_at, counties=counties, submissions=submissions,
                       schedule=schedule, now=now, parents=parents, unit_started=starts,
                       unit_stabilised=stables)
    provinces = {county: county[:2] + "0000" for county in counties}
    return items + direct.direct_deadlines(direct_crossings(event, counties), submissions, provinces,
                                           schedule, now)


def concerns(deadline: dl.Deadline, region_code: str) -> bool:
    """A deadline of a unit inside the region, or the county deadline a township or village
    beneath it reports towards (a county does not see its prefecture's forwarding)."""
    return codes.is_within(deadline.region_code, region_code) or (
        deadline.level == "county" and codes.is_within(region_code, deadline.region_code))


def event_deadlines(user, event_id: int, *, region_code: str | None = None, status: str | None = None,
                    now: datetime | None = None) -> list[dl.Deadline]:
    """The deadlines the user may see: of the units inside their jurisdiction and of the county
    they report towards (optionally only those :func:`concerns` a region)."""
    event = get_event(user, event_id)
    args = query(_DEADLINE_ARGS, {"status": status, "region_code": region_code or None})
    items = [d for d in compute_deadlines(event, now) if concerns(d, user.region_code)]
    if args["region_code"]:
        items = [d for d in items if concerns(d, args["region_code"])]
    if args["status"]:
        items = [d for d in items if d.status == args["status"]]
    return items


def timeliness(user, event_id: int, now: datetime | None = None,
               deadlines: list[dl.Deadline] | None = None) -> dict:
    """Completeness and timeliness rates per prefecture and province (报送完整率、及时率).

    A user sees the rates of every unit their jurisdiction overlaps: a county officer those of
    their prefecture and province too, as the statistics of the chain they report into (the
    deadline list itself shows them only their own units). ``deadlines``: every deadline of the
    event, when the caller has just computed them."""
    event = get_event(user, event_id)
    now = now or utcnow()
    items = deadlines if deadlines is not None else compute_deadlines(event, now)
    rates = dl.rates(items, _units_of({d.region_code for d in items}), now)
    names = dict(db.session.execute(select(Region.code, Region.name)
                                    .where(Region.code.in_(list(rates)))).all()) if rates else {}
    units = []
    for code in sorted(rates, key=lambda c: (len(codes.prefix_of(c)), c)):
        if not overlaps(code, user.region_code):
            continue
        item = rates[code].to_dict()
        item.update(name=names.get(code, code), level=codes.level_of(code))
        units.append(item)
    return {"event_id": event.id, "as_at": now.isoformat(), "units": units}


def _units_of(owing: set[str]) -> dict[str, list[str]]:
    """Each unit that owes reports → the prefectures and provinces its deadlines count towards
    (a prefecture's own forwarding deadlines count towards it and its province)."""
    parents = parent_lookup(owing)
    units_of: dict[str, list[str]] = {}
    for code in owing:
        units = [code] if codes.level_of(code) in ("prefecture", "province") else []
        parent = parents.get(code)
        while parent is not None:
            if codes.level_of(parent) in ("prefecture", "province"):
                units.append(parent)
            parent = parents.get(parent)
        units_of[code] = units
    return units_of


def deadline_panel(user, event: Event) -> dict:
    """The event page's deadlines: counts by status of those the user sees, the ones needing
    attention (with their units' names), the rates and the rules in force."""
    require(user, "event.view")
    everything = compute_deadlines(event)  # once for the list and the rates
    items = [d for d in everything if concerns(d, user.region_code)]
    counts = {s: sum(1 for d in items if d.status == s) for s in DEADLINE_STATUSES}
    attention = sorted((d for d in items if d.status != "met"),
                       key=lambda d: (d.due_at, d.region_code))[:ATTENTION_LIMIT]
    names = dict(db.session.execute(select(Region.code, Region.name).where(
        Region.code.in_({d.region_code for d in attention}))).all()) if attention else {}
    return {"deadline_counts": counts, "attention": attention, "region_names": names,
            "rates": timeliness(user, event.id, deadlines=everything)["units"], "rules": deadline_rules(event)}


def deadline_rules(event: Event) -> dict:
    """The rules in force for the event, as the page states them (hours, due times, days)."""
    schedule = dl.Schedule.from_config(current_app.config, event.hazard)
    return {"initial_hours": f"{schedule.initial_hours:g}", "forward_hours": f"{schedule.forward_hours:g}",
            "interval_days": config("REPORT_DROUGHT_INTERVAL_DAYS"),
            **{f"due_{level}": schedule.due_time(level).strftime("%H:%M") for level in dl.LEVELS},
            **{f"days_{level}": schedule.verified_days(level) for level in dl.LEVELS},
            "drought_initial_days": schedule.drought_initial_days,
            "direct_deaths": f"{config('REPORT_DIRECT_ALERT_DEATHS_MISSING'):g}",
            "direct_rooms": f"{config('REPORT_DIRECT_COLLAPSED_ROOMS'):g}",
            "direct_households": f"{config('REPORT_DIRECT_COLLAPSED_HOUSEHOLDS'):g}"}


def overdue_count(user, event: Event) -> int:
    """How many deadlines the user sees are overdue (the home panel)."""
    return sum(1 for d in compute_deadlines(event) if d.status == "overdue" and concerns(d, user.region_code))
