"""Winter-spring relief (冬春生活救助): the yearly survey, the needs table
(受灾人员冬春生活需救助情况统计表) by region, its submission by county, prefecture and
province against the 15 / 20 / 25 October deadlines, and the Spring Festival check."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from gis import codes

from ... import audit
from ...errors import Conflict, Invalid, NotFound
from ...extensions import db
from ...models_common import utcnow
from ...notifications import coordinators_covering, notify
from ...permissions import can, require
from ...regions import Region
from ...validation import Field, check, validate
from .. import excel
from ..festival import spring_festival as festival_of
from ..models import CYCLE_MACHINE, Beneficiary, Cycle, NeedsSubmission
from ..rules import (KINDS, LEVEL_LABELS, LEVELS, NEEDS_COLUMNS, Standards, aggregate_needs,
                     deadline_status, is_single_crop, winter_spring_deadlines)
from .base import YEAR_FIELD, refuse, region_names
from .disbursement import frozen_entries, paid_keys

SUBMIT_FIELDS = {"region_code": Field("code", description="报送的县、市或省")}
REGION = Field("code", required=False, description="区划")


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _checked(year, region_code) -> tuple[int, str]:
    """The year (a path's) and a region code (a query's), checked by their fields."""
    errors: list[dict] = []
    year = check("year", year, YEAR_FIELD, errors)
    region_code = check("region_code", region_code, REGION, errors)
    if errors:
        raise Invalid("年度有误。" if errors[0]["field"] == "year" else "区划代码有误。", errors)
    return year, region_code


def target_counties() -> list[Region]:
    """Counties whose survey the yearly job opens (``CYCLE_WINTER_SPRING_REGIONS``; empty: all)."""
    counties = db.session.scalars(select(Region).where(Region.level == "county").order_by(Region.code)).all()
    wanted = current_app.config["CYCLE_WINTER_SPRING_REGIONS"]
    if wanted:
        counties = [c for c in counties if any(codes.is_within(c.code, w) for w in wanted)]
    return counties


def open_surveys(now: datetime) -> dict:
    """Create this year's winter-spring cycle of every target county, open for survey. Idempotent:
    a county that has its cycle already is left alone."""
    config = current_app.config
    year = now.astimezone(_tz()).year
    std = Standards.from_config(config)
    opened = []
    for county in target_counties():
        key = f"winter_spring:{year}:{county.code}"
        if db.session.scalar(select(Cycle.id).filter_by(unique_key=key)) is not None:
            continue
        single = is_single_crop(county.code, config["CYCLE_WINTER_SPRING_SINGLE_CROP_REGIONS"])
        cycle = Cycle(kind="winter_spring", name=f"{year}—{year + 1}年度{county.name}{KINDS['winter_spring']}",
                      region_code=county.code, year=year, unique_key=key, status="draft",
                      standards=std.to_dict(), notice_days=config["CYCLE_NOTICE_DAYS"],
                      pay_to_month=config["CYCLE_WINTER_SPRING_SINGLE_CROP_TO_MONTH" if single
                                          else "CYCLE_WINTER_SPRING_PAY_TO_MONTH"])
        CYCLE_MACHINE.fire(cycle, "open_survey")
        db.session.add(cycle)
        db.session.flush()
        audit.record(None, "cycle.open_survey", "relief_cycle", cycle.id, after=cycle.to_dict(),
                     region_code=county.code, note="年度冬春救助调查自动开启")
        due = winter_spring_deadlines(year, config["CYCLE_WINTER_SPRING_DEADLINES"], _tz())["county"]
        notify(coordinators_covering(county.code, levels=["county"]), "winter_spring.survey",
               "%(year)s—%(next)s年度冬春生活救助调查已开启",
               "%(county)s：请组织调查摸底，%(due)s 前报送台账和需救助情况统计表。",
               f"/cycles/{cycle.id}", dedupe_key=f"ws-open:{year}:{county.code}",
               params={"year": year, "next": year + 1, "county": county.name,
                       "due": f"{due.astimezone(_tz()) - timedelta(days=1):%Y-%m-%d}"})
        opened.append(county.code)
        db.session.commit()
    return {"year": year, "opened": opened}


def _needs_rows(year: int) -> list[dict]:
    """One row per beneficiary of the year's winter-spring cycles still in the running
    (not rejected at review; cancelled cycles excluded)."""
    rows = []
    cycles = db.session.scalars(select(Cycle).where(Cycle.kind == "winter_spring", Cycle.year == year,
                                                    Cycle.status != "cancelled")).all()
    for cycle in cycles:
        std = Standards.from_dict(cycle.standards)
        for b in db.session.scalars(select(Beneficiary).where(Beneficiary.cycle_id == cycle.id)).all():
            if not b.eligible or "reject" in (b.village_decision, b.township_decision):
                continue
            needs = b.needs or {}
            rows.append({"village_code": b.household.village_code, "households": 1, "persons": b.persons,
                         "food": b.persons if needs.get("food") else 0,
                         "clothing": b.persons if needs.get("clothing") else 0,
                         "heating": b.persons if needs.get("heating") else 0,
                         "priority": b.persons if b.priority else 0,
                         "funds_fen": b.persons * std.winter_spring_per_person_fen})
    return rows


def needs_table(user, year: int, region_code: str) -> dict:
    """The needs table for ``region_code``: one row per child region and the total."""
    require(user, "cycle.view")
    year, region_code = _checked(year, region_code)
    region = db.session.get(Region, region_code) if region_code != codes.NATIONAL else None
    if region is None and region_code != codes.NATIONAL:
        raise NotFound(f"区划 {region_code} 不存在。")
    require(user, "cycle.view", region_code)
    table = aggregate_needs(_needs_rows(year), region_code)
    children = db.session.scalars(select(Region).where(Region.parent_code == region_code)
                                  .order_by(Region.code)).all() if region is not None else \
        db.session.scalars(select(Region).where(Region.level == "province").order_by(Region.code)).all()
    empty = {name: 0 for name in NEEDS_COLUMNS}
    rows = [{"region_code": c.code, "name": c.name, **table.get(c.code, empty)} for c in children]
    total = {"region_code": region_code, "name": region.name if region else "全国", **table[region_code]}
    def convert(row: dict) -> dict:
        out = {k: v for k, v in row.items() if k != "funds_fen"}
        out["funds"] = row["funds_fen"] / 100
        return out

    return {"year": year, "region_code": region_code, "columns": {k if k != "funds_fen" else "funds": v.replace("（分）", "（元）")
                                                                  for k, v in NEEDS_COLUMNS.items()},
            "rows": [convert(dict(r)) for r in rows], "total": convert(dict(total))}


def expected_submissions(year: int, within: str | None = None) -> list[tuple[str, str]]:
    """``(region_code, level)`` that owe a needs table this year: every county with a
    winter-spring cycle, and the prefectures and provinces above them."""
    counties = db.session.scalars(select(Cycle.region_code).where(
        Cycle.kind == "winter_spring", Cycle.year == year, Cycle.status != "cancelled")).all()
    wanted: dict[str, str] = {}
    known = set(db.session.scalars(select(Region.code)).all())
    for county in counties:
        wanted[county] = "county"
        for ancestor in codes.ancestors(county):
            level = codes.level_of(ancestor)
            if level in ("prefecture", "province") and ancestor in known:
                wanted[ancestor] = level
    out = sorted(wanted.items(), key=lambda kv: (LEVELS.index(kv[1]), kv[0]))
    if within:
        out = [(code, level) for code, level in out if codes.is_within(code, within)]
    return out


def deadlines(user, year: int, region_code: str | None = None) -> list[dict]:
    """Each region that owes a needs table within ``region_code``: its deadline and whether it was met."""
    require(user, "cycle.view")
    year, region_code = _checked(year, region_code or user.region_code)
    require(user, "cycle.view", region_code)
    due = winter_spring_deadlines(year, current_app.config["CYCLE_WINTER_SPRING_DEADLINES"], _tz())
    submitted = {s.region_code: s for s in db.session.scalars(
        select(NeedsSubmission).where(NeedsSubmission.year == year)).all()}
    now = utcnow()
    out = []
    for code, level in expected_submissions(year, region_code):
        sub = submitted.get(code)
        met_at = sub.submitted_at if sub else None
        out.append({"region_code": code, "level": level, "level_label": LEVEL_LABELS[level],
                    "due_at": due[level].isoformat(),
                    "due_on": (due[level] - timedelta(days=1)).astimezone(_tz()).date().isoformat(), "status": deadline_status(due[level], met_at, now),
                    "met_at": met_at.isoformat() if met_at else None})
    return out


def submit_needs(user, year: int, data) -> NeedsSubmission:
    """Submit a region's needs table to the level above (county, prefecture or province):
    ``{"region_code"}``, a JSON body or the page's form."""
    require(user, "cycle.manage")
    year, _none = _checked(year, None)
    values, errors = validate(SUBMIT_FIELDS, data)
    refuse(errors, "区划代码有误。")
    region_code = values["region_code"]
    if db.session.get(Region, region_code) is None:
        raise NotFound(f"区划 {region_code} 不存在。")
    require(user, "cycle.manage", region_code)
    level = codes.level_of(region_code)
    if level not in LEVELS:
        raise Invalid("只有县、市、省报送需救助情况统计表。",
                      [{"field": "region_code", "message": "必须是县级、地市级或省级区划"}])
    if db.session.scalar(select(NeedsSubmission.id).filter_by(year=year, region_code=region_code)) is not None:
        raise Conflict(f"{year} 年度本区划的需救助情况统计表已报送。")
    table = needs_table(user, year, region_code)
    _check_below(year, region_code, level, table)
    submission = NeedsSubmission(year=year, region_code=region_code, level=level, figures=table,
                                 submitted_by=getattr(user, "username", "system"))
    db.session.add(submission)
    db.session.flush()
    audit.record(user, "winter_spring.submit", "winter_spring_submission", submission.id,
                 after={"year": year, "region_code": region_code, "persons": table["total"]["persons"]},
                 region_code=region_code)
    db.session.commit()
    return submission


def _check_below(year: int, region_code: str, level: str, table: dict) -> None:
    """A county submits once it has households registered; a prefecture or province notes which
    regions below it have not submitted (``missing_below``)."""
    if level == "county":
        cycle = db.session.scalar(select(Cycle).where(Cycle.kind == "winter_spring", Cycle.year == year,
                                                      Cycle.region_code == region_code, Cycle.status != "cancelled"))
        if cycle is None:
            raise Conflict("本县尚无本年度冬春救助周期。")
        if cycle.status in ("draft", "survey") and not table["total"]["households"]:
            raise Conflict("尚未登记任何需救助户，不能报送。")
    else:
        below = "county" if level == "prefecture" else "prefecture"
        expected = {code for code, lvl in expected_submissions(year, region_code) if lvl == below}
        done = set(db.session.scalars(select(NeedsSubmission.region_code).where(
            NeedsSubmission.year == year, NeedsSubmission.region_code.in_(expected))).all())
        table["missing_below"] = sorted(expected - done)


def check_deadlines(now: datetime) -> dict:
    """Reminders before and alerts after each level's deadline; the Spring Festival check."""
    config = current_app.config
    tz = _tz()
    year = now.astimezone(tz).year
    due = winter_spring_deadlines(year, config["CYCLE_WINTER_SPRING_DEADLINES"], tz)
    # "by 15 October" is due at the end of the 15th; reminders start N days before the 15th
    remind = timedelta(days=config["CYCLE_WINTER_SPRING_REMIND_DAYS"] + 1)
    submitted = set(db.session.scalars(select(NeedsSubmission.region_code).where(NeedsSubmission.year == year)).all())
    reminders = alerts = 0
    for code, level in expected_submissions(year):
        if code in submitted:
            continue
        deadline = due[level]
        region = db.session.get(Region, code)
        name = region.name if region else code
        local_due = (deadline - timedelta(days=1)).astimezone(tz)
        if deadline - remind <= now < deadline:
            made = notify(coordinators_covering(code, levels=[level]), "winter_spring.reminder",
                          "冬春救助：%(name)s需救助情况统计表即将到期",
                          "请于 %(due)s 前报送%(year)s—%(next)s年度台账和需救助情况统计表。",
                          "/cycles/winter-spring/%d" % year, dedupe_key=f"ws-remind:{year}:{code}",
                          params={"name": name, "due": f"{local_due:%Y-%m-%d}", "year": year, "next": year + 1})
            reminders += len(made)
        elif now >= deadline:
            parent = codes.parent_of(code)
            users = coordinators_covering(code, levels=[level])
            if parent:
                users += [u for u in coordinators_covering(code, levels=[codes.level_of(parent)]) if u not in users]
            made = notify(users, "winter_spring.overdue", "冬春救助：%(name)s需救助情况统计表逾期未报",
                          "%(level)s报送时限为 %(due)s，至今未报送。",
                          "/cycles/winter-spring/%d" % year, dedupe_key=f"ws-overdue:{year}:{code}",
                          params={"name": name, "level": LEVEL_LABELS[level], "due": f"{local_due:%Y-%m-%d}"})
            alerts += len(made)
    festival = spring_festival_check(now)
    db.session.commit()
    return {"year": year, "reminders": reminders, "alerts": alerts, **festival}


def spring_festival(year: int) -> date:
    """The Spring Festival that closes the winter-spring season beginning in ``year`` (from the
    Chinese calendar: :mod:`app.cycles.festival`)."""
    return festival_of(year + 1)


def unpaid_before_festival(cycle: Cycle, festival: date) -> int:
    """Fen of the cycle's frozen instalments due before ``festival`` and not paid (a payment the
    bank failed or returned is not paid)."""
    paid = paid_keys(cycle.id)
    return sum(i.amount_fen for entry in frozen_entries(cycle.id) for i in entry.plan()
               if i.due_on is not None and i.due_on < festival and (entry.household_id, i.period) not in paid)


def spring_festival_check(now: datetime) -> dict:
    """Warn the county weeks before Spring Festival (``CYCLE_SPRING_FESTIVAL_WARN_DAYS``) while a
    season's cycle is not paying yet or owes winter money due before the festival; alert after it."""
    config = current_app.config
    today = now.astimezone(_tz()).date()
    warnings = overdue = 0
    for year in (today.year - 1, today.year):
        festival = spring_festival(year)
        if not festival - timedelta(days=config["CYCLE_SPRING_FESTIVAL_WARN_DAYS"]) <= today <= festival + timedelta(days=30):
            continue
        cycles = db.session.scalars(select(Cycle).where(Cycle.kind == "winter_spring", Cycle.year == year,
                                                        Cycle.status.notin_(("cancelled", "closed")))).all()
        for cycle in cycles:
            disbursing = cycle.status == "disbursing"
            owed = unpaid_before_festival(cycle, festival) if disbursing else None
            if owed == 0:
                continue
            late = today >= festival
            body = ("春节为 %(festival)s；冬季救助款应在春节前发放到户，尚有 %(owed)s 元春节前应发款项未发放到户。"
                    if disbursing else "春节为 %(festival)s；冬季救助款应在春节前发放到户，尚未开始发放（%(status)s）。")
            made = notify(coordinators_covering(cycle.region_code), "winter_spring.festival",
                          "%(cycle)s：春节前未发放" if late else "%(cycle)s：春节前尚未发放完毕", body,
                          f"/cycles/{cycle.id}",
                          dedupe_key=f"ws-festival:{cycle.id}:{'late' if late else 'warn'}",
                          params={"cycle": cycle.name, "festival": f"{festival:%Y-%m-%d}", "status": cycle.status_label,
                                  "owed": f"{owed / 100:,.2f}" if owed is not None else ""})
            if late:
                overdue += len(made)
            else:
                warnings += len(made)
    return {"festival_warnings": warnings, "festival_overdue": overdue}


def needs_workbook(user, year: int, region_code: str | None = None) -> tuple[bytes, str]:
    """The needs table of ``region_code`` (the user's own by default) as a workbook, and its file name."""
    table = needs_table(user, year, region_code or user.region_code)
    return excel.write_needs_table(table), f"冬春需救助情况统计表-{year}-{table['region_code']}.xlsx"


def winter_page(user, year: int, region_code: str | None = None) -> dict:
    """The winter-spring page: the needs table of ``region_code`` (the user's own by default), the
    deadlines within it, and whether ``user`` may submit its table."""
    region_code = region_code or user.region_code
    table = needs_table(user, year, region_code)
    found = deadlines(user, year, region_code)
    level = codes.level_of(table["region_code"])
    return {"year": year, "table": table, "deadlines": found, "names": region_names(d["region_code"] for d in found),
            "can_submit": level in LEVEL_LABELS and can(user, "cycle.manage", table["region_code"]),
            "festival": spring_festival(year),
            "festival_warn_on": spring_festival(year) - timedelta(days=current_app.config["CYCLE_SPRING_FESTIVAL_WARN_DAYS"])}
