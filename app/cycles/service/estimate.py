"""What an event needs, and the request to the level above (资金需求测算与资金申请).

For each county the event's loss reports reach (within the user's jurisdiction), the money each
relief kind needs is its loss figure times the configured norm (domain.md §4; all configurable):

- 应急救助: 需紧急生活救助人口 × ``CYCLE_EMERGENCY_PER_PERSON_CNY`` (300);
- 过渡期生活救助: 需过渡期生活救助人口 × ``CYCLE_TRANSITIONAL_DAILY_CNY`` (20) ×
  ``CYCLE_ESTIMATE_TRANSITIONAL_DAYS`` (90, three months);
- 遇难人员家属抚慰金: 因灾死亡人口 × ``CYCLE_CONDOLENCE_PER_DEATH_CNY`` (10 000);
- 旱灾临时生活救助: 因旱需生活救助人口 × ``CYCLE_DROUGHT_PER_PERSON_CNY`` (60);
- 倒损住房恢复重建: 倒塌及严重损坏房屋（户）× the subsidy of the class, 一般损坏房屋（户）× its subsidy.

It is set against the funds the county has received for the event's year (the budget of the
fund lines of sources registered for the county or a region inside it, by relief item); the gap
is what the request (资金申请, a printable page and a workbook) asks of the level above. The
allocation received is then registered as a fund source with its line (:func:`.funds.register_source`).
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from gis import codes

from ...extensions import db
from ...permissions import can, require
from ...reports import event_totals, get_event, total_for
from ..bankfile import write_reconciliation
from ..models import FUND_LEVELS, FundSource
from ..rules import KINDS, Standards
from .base import local_today, region_names, tz

#: Relief kinds an event's estimate covers, in the order of the request.
ESTIMATED = ("emergency", "transitional", "condolence", "drought", "reconstruction")
#: The loss figures an estimate reads.
FIGURES = ("needing_aid_population", "needing_transitional_aid", "deaths", "drought_needing_aid_population",
           "collapsed_households", "severely_damaged_households", "generally_damaged_households")


def _needs(figures: dict, std: Standards, days: int) -> dict[str, int]:
    """Fen each relief kind needs from one region's figures."""
    def count(name: str) -> int:
        return int(figures.get(name) or 0)

    subsidy = std.reconstruction_subsidy_fen
    return {
        "emergency": count("needing_aid_population") * std.emergency_per_person_fen,
        "transitional": count("needing_transitional_aid") * std.transitional_daily_fen * days,
        "condolence": count("deaths") * std.condolence_per_death_fen,
        "drought": count("drought_needing_aid_population") * std.drought_per_person_fen,
        "reconstruction": count("collapsed_households") * subsidy.get("collapsed", 0)
        + count("severely_damaged_households") * subsidy.get("severely_damaged", 0)
        + count("generally_damaged_households") * subsidy.get("generally_damaged", 0),
    }


def _received(county: str, year: int) -> dict[str, int]:
    """Fen the county has received for ``year``, by relief item."""
    prefix = codes.prefix_of(county)
    sources = db.session.scalars(select(FundSource).where(FundSource.year == year,
                                                          FundSource.region_code.like(prefix + "%"))).all()
    found = {kind: 0 for kind in ESTIMATED}
    for source in sources:
        for line in source.lines:
            if line.relief_item in found:
                found[line.relief_item] += line.budget_fen
    return found


def event_estimate(user, event_id: int, region_code: str | None = None) -> dict:
    """The estimate of the event's counties within ``region_code`` (the user's own by default)."""
    region_code = region_code or user.region_code
    require(user, "cycle.view", region_code)
    event = get_event(user, event_id)
    std = Standards.from_config(current_app.config)
    days = int(current_app.config["CYCLE_ESTIMATE_TRANSITIONAL_DAYS"])
    year = event.started_at.astimezone(tz()).year
    totals = event_totals(event.id)
    counties = sorted(code for code in totals if codes.level_of(code) == "county"
                      and codes.is_within(code, region_code) and can(user, "cycle.view", code))
    rows, sums = [], {k: {"need": 0, "received": 0, "gap": 0} for k in ESTIMATED}
    for county in counties:
        figures = total_for(county, totals).figures
        needs, received = _needs(figures, std, days), _received(county, year)
        row = {"region_code": county, "figures": {k: figures.get(k, 0) for k in FIGURES}, "kinds": {}}
        for kind in ESTIMATED:
            gap = max(needs[kind] - received[kind], 0)
            row["kinds"][kind] = {"need": needs[kind] / 100, "received": received[kind] / 100, "gap": gap / 100}
            for key, value in (("need", needs[kind]), ("received", received[kind]), ("gap", gap)):
                sums[kind][key] += value
        row["need"] = sum(v["need"] for v in row["kinds"].values())
        row["received"] = sum(v["received"] for v in row["kinds"].values())
        row["gap"] = sum(v["gap"] for v in row["kinds"].values())
        rows.append(row)
    total = {kind: {key: value / 100 for key, value in v.items()} for kind, v in sums.items()}
    names = region_names([*counties, region_code])
    return {"event": {"id": event.id, "name": event.name, "hazard": event.hazard, "year": year},
            "region_code": region_code, "region_name": names.get(region_code, region_code),
            "kinds": {k: KINDS[k] for k in ESTIMATED}, "rows": rows, "total": total,
            "need": sum(v["need"] for v in total.values()), "received": sum(v["received"] for v in total.values()),
            "gap": sum(v["gap"] for v in total.values()), "names": names,
            "norms": {"emergency": std.emergency_per_person_fen / 100, "transitional_daily": std.transitional_daily_fen / 100,
                      "transitional_days": days, "condolence": std.condolence_per_death_fen / 100,
                      "drought": std.drought_per_person_fen / 100,
                      "reconstruction": {k: v / 100 for k, v in std.reconstruction_subsidy_fen.items()}},
            "made_on": local_today().isoformat()}


def estimate_page(user, event_id: int, region_code: str | None = None) -> dict:
    """The estimate and request page, and whether ``user`` may record an allocation received."""
    found = event_estimate(user, event_id, region_code)
    return {**found, "levels": FUND_LEVELS,
            "can_allocate": can(user, "payment.manage", found["region_code"])}


def request_workbook(user, event_id: int, region_code: str | None = None) -> tuple[bytes, str]:
    """The 资金申请 of the estimate as a workbook: per county and relief kind, need, received, gap."""
    found = event_estimate(user, event_id, region_code)
    rows = []
    for row in found["rows"]:
        name = found["names"].get(row["region_code"], row["region_code"])
        for kind, label in found["kinds"].items():
            k = row["kinds"][kind]
            rows.append([row["region_code"], name, label, k["need"], k["received"], k["gap"]])
    for kind, label in found["kinds"].items():
        k = found["total"][kind]
        rows.append(["合计", "", label, k["need"], k["received"], k["gap"]])
    rows.append(["总计", "", "", found["need"], found["received"], found["gap"]])
    content = write_reconciliation(
        f"{found['event']['name']}救灾资金申请表",
        f"申请单位：{found['region_name']}    测算日期：{found['made_on']}    单位：元（损失数据 × 补助标准）",
        ["区划代码", "县（市、区）", "救助项目", "测算需求", "已到位资金", "申请金额"], rows, [12, 16, 20, 16, 16, 16])
    return content, f"资金申请-{found['event']['id']}-{found['region_code']}.xlsx"
