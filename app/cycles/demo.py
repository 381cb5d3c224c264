"""Demo step ``app.cycles.demo:load_cycles``: a few households in a demo village, a county fund
with a transitional budget line, and a transitional cycle (under survey, households put
forward by the rules) for the demo event when the loss-reporting demo created one.
Idempotent: what exists is left alone."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from gis import codes

from ..extensions import db
from ..regions import Region
from ..reports import Event
from .. import idcard
from .models import CYCLE_MACHINE, Beneficiary, Cycle, FundLine, FundSource, Household
from .rules import Standards, assess
from .service.funds import post_allocation

#: (head, birth date, sequence, members, damage class, flags)
DEMO_HOUSEHOLDS = (
    ("王建国", "19650312", "011", 4, "collapsed", {"no_housing": True}),
    ("李秀英", "19720908", "022", 3, "severely_damaged", {"no_housing": True, "dibao": True}),
    ("张德明", "19580101", "031", 2, "generally_damaged", {"no_self_rescue": True, "tekun": True}),
    ("赵春花", "19800623", "042", 5, "collapsed", {"no_housing": True, "no_livelihood": True}),
    ("刘福贵", "19901117", "051", 3, "none", {"no_livelihood": True}),
    ("陈小兰", "19850405", "062", 4, "generally_damaged", {}),
)


def _demo_event():
    return db.session.scalar(select(Event).where(Event.status != "closed").order_by(Event.id))


def _village_for(event) -> Region | None:
    """A village inside the event's regions (the demo county's first village otherwise)."""
    stmt = select(Region).where(Region.level == "village").order_by(Region.code)
    if event is not None:
        for code in event.region_codes:
            prefix = codes.prefix_of(code)
            found = db.session.scalar(stmt.where(Region.code.like(prefix + "%")))
            if found is not None:
                return found
    return db.session.scalar(stmt)


def load_cycles(echo) -> None:
    event = _demo_event()
    village = _village_for(event)
    if village is None:
        echo("没有村级区划，跳过救助周期演示数据。")
        return
    county = codes.normalise(village.code[:6])
    _households(echo, village, county)
    source = _fund(echo, event, county)
    if event is None:
        echo("没有演示灾害过程，跳过过渡期生活救助周期。")
        return
    _cycle(echo, event, village, county, source)


def _households(echo, village: Region, county: str) -> None:
    made = 0
    for head, born, seq, members, damage, flags in DEMO_HOUSEHOLDS:
        number = idcard.with_check_character(county + born + seq)
        if db.session.scalar(select(Household.id).filter_by(id_number=number)) is not None:
            continue
        db.session.add(Household(village_code=village.code, head_name=head, id_number=number, members=members,
                                 contact="1380000" + seq + "0", bank_account="6217" + born + seq + "01",
                                 bank_name="农村信用社", damage_class=damage, **flags))
        made += 1
    db.session.commit()
    echo(f"受灾户：新增 {made} 户（{village.name}）。")


def _fund(echo, event, county: str) -> FundSource:
    code = f"DEMO-{county}-TRANSITIONAL"
    source = db.session.scalar(select(FundSource).filter_by(code=code))
    if source is not None:
        return source
    source = FundSource(code=code, name="中央自然灾害救灾资金（演示）", level="central", region_code=county,
                        year=(event.started_at.year if event else 2025))
    db.session.add(source)
    db.session.flush()
    line = FundLine(source_id=source.id, relief_item="transitional", budget_fen=0, spent_fen=0, balance_fen=0)
    db.session.add(line)
    db.session.flush()
    post_allocation(None, line, 50_000_000, "演示：下达过渡期生活救助资金 50 万元")
    db.session.commit()
    echo("资金来源：中央自然灾害救灾资金（演示），过渡期生活救助指标 50 万元。")
    return source


def _cycle(echo, event, village: Region, county: str, source: FundSource) -> None:
    """A transitional cycle for the demo event, under survey, its eligible households put forward."""
    key = f"transitional:{event.id}:{county}"
    cycle = db.session.scalar(select(Cycle).filter_by(unique_key=key))
    if cycle is not None:
        echo(f"过渡期生活救助周期已存在（#{cycle.id}）。")
        return
    config = current_app.config
    region = db.session.get(Region, county)
    line = db.session.scalar(select(FundLine).filter_by(source_id=source.id, relief_item="transitional"))
    cycle = Cycle(kind="transitional", name=f"{event.name}·{region.name if region else county}过渡期生活救助",
                  region_code=county, event_id=event.id, year=event.started_at.year, unique_key=key, status="draft",
                  standards=Standards.from_config(config).to_dict(),
                  starts_on=(event.stabilised_at or event.started_at).astimezone(ZoneInfo(config["TIMEZONE"])).date(),
                  months=config["CYCLE_TRANSITIONAL_MONTHS"], notice_days=config["CYCLE_NOTICE_DAYS"],
                  fund_line_id=line.id if line else None)
    CYCLE_MACHINE.fire(cycle, "open_survey")
    db.session.add(cycle)
    db.session.flush()
    put_forward = 0
    for household in db.session.scalars(select(Household).filter_by(village_code=village.code)).all():
        result = assess("transitional", household.facts())
        if result.eligible:
            db.session.add(Beneficiary(cycle_id=cycle.id, household_id=household.id, persons=household.members,
                                       eligible=True, reasons=list(result.reasons), priority=result.priority,
                                       needs={}))
            put_forward += 1
    db.session.commit()
    echo(f"过渡期生活救助周期 #{cycle.id}：调查摸底中，按规则列入 {put_forward} 户。")
