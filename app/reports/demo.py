"""Demo step ``演示灾害过程与灾情``: a flood in Shanxi with initial and update reports.

Idempotent (an event of the demo's name is left alone) and skipped when the demo users or the
Shanxi geography are missing. The event covers two prefectures (太原市 and 晋中市 when present);
in each, the first three counties report, deterministically, in three ways: from their villages,
from their townships, or as the county itself. One county reaches 10 deaths + missing, so the
direct-report alert (直报) fires. Report times fall in the 100 minutes before the load, so every
rule of the live system (``as_of`` not in the future, the jump check) holds.
"""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from gis import codes

from ..auth import User
from ..extensions import db
from ..models_common import utcnow
from ..regions import Region
from . import service
from .indicators import CONSISTENCY_RULES
from .models import Event

NAME = "山西太原、晋中暴雨洪涝（演示）"
#: Earlier names of the same demo event: a database loaded with one of them is not loaded again.
FORMER_NAMES = ("2026年7月山西太原、晋中暴雨洪涝（演示）",)
SEED = 140700
PREFERRED_PREFECTURES = ("140100", "140700")


def load_event(echo) -> None:
    users = {u.username: u for u in db.session.scalars(
        select(User).where(User.username.in_(["coordinator", "officer"]))).all()}
    if "coordinator" not in users:
        echo("缺少演示用户 coordinator，跳过演示灾害过程。")
        return
    if db.session.scalar(select(Event.id).where(Event.name.in_((NAME, *FORMER_NAMES)))) is not None:
        echo(f"演示灾害过程「{NAME}」已存在，跳过。")
        return
    prefectures = _prefectures()
    if len(prefectures) < 2:
        echo("山西省区划不完整（需要至少两个地市），跳过演示灾害过程。")
        return

    coordinator = users["coordinator"]
    officer = users.get("officer")
    now = utcnow().replace(second=0, microsecond=0)
    started = now - timedelta(minutes=100)
    event = service.create_event(coordinator, {
        "name": NAME, "hazard": "flood", "started_at": started.isoformat(),
        "region_codes": [p.code for p in prefectures]})
    rng = random.Random(SEED)
    made = 0
    for p_index, prefecture in enumerate(prefectures):
        counties = db.session.scalars(select(Region).where(Region.parent_code == prefecture.code,
                                                           Region.level == "county")
                                      .order_by(Region.code).limit(3)).all()
        for c_index, county in enumerate(counties):
            units = _units(county, mode=c_index % 3)
            severe = p_index == 0 and c_index == 0
            for u_index, unit in enumerate(units):
                reporter = officer if officer is not None and _inside(unit.code, officer.region_code) else coordinator
                first = _figures(rng, unit.population, severe=severe, index=u_index, count=len(units), step=0)
                second = _figures(rng, unit.population, severe=severe, index=u_index, count=len(units),
                                  step=1, before=first)
                for kind, as_of, figures in (("initial", started + timedelta(minutes=30), first),
                                             ("update", started + timedelta(minutes=75), second)):
                    service.submit_report(reporter, event.id, {
                        "region_code": unit.code, "kind": kind, "as_of": as_of.isoformat(), "figures": figures,
                        "note": "演示数据（合成）"})
                    made += 1
    # The first prefecture has reviewed its counties' reports and forwarded them (审核上报); the
    # second has not yet, so the deadline panel shows both.
    service.forward(coordinator, event.id, {"region_code": prefectures[0].code, "kind": "initial",
                                            "note": "演示数据：已审核下级报告"})
    echo(f"已创建演示灾害过程「{NAME}」（编号 {event.id}）：{len(prefectures)} 个地市，{made} 份报告，"
         f"{prefectures[0].name}已逐级上报。")


def _inside(code: str, jurisdiction: str) -> bool:
    return codes.is_within(code, jurisdiction)


def _prefectures() -> list[Region]:
    rows = db.session.scalars(select(Region).where(Region.parent_code == "140000", Region.level == "prefecture")
                              .order_by(Region.code)).all()
    preferred = [r for r in rows if r.code in PREFERRED_PREFECTURES]
    others = [r for r in rows if r.code not in PREFERRED_PREFECTURES]
    return (preferred + others)[:2]


def _units(county: Region, mode: int) -> list[Region]:
    """Who reports for the county: villages (mode 0), townships (1) or the county itself (2);
    counties without townships in the database report themselves."""
    townships = db.session.scalars(select(Region).where(Region.parent_code == county.code)
                                   .order_by(Region.code).limit(2)).all()
    if mode == 2 or not townships:
        return [county]
    if mode == 1:
        return townships
    villages = []
    for township in townships:
        villages += db.session.scalars(select(Region).where(Region.parent_code == township.code)
                                       .order_by(Region.code).limit(3)).all()
    return villages or townships


def _figures(rng: random.Random, population: int, *, severe: bool, index: int, count: int, step: int,
             before: dict | None = None) -> dict:
    """Consistent synthetic figures; an update grows the previous one by 10–50 %."""
    population = max(population or 0, 200)
    if before is not None:
        grow = 1.1 + 0.4 * rng.random()
        out = {k: (round(v * grow, 2) if isinstance(v, float) else int(v * grow)) for k, v in before.items()}
        if severe:
            # the severe county ends at 10 deaths + missing or more, spread over its units
            out["deaths"] = before["deaths"] + (1 if index < 6 else 0)
            out["missing"] = before["missing"] + (1 if index == 0 else 0)
        out["deaths"] = max(out["deaths"], before["deaths"])
        return _consistent(out)
    affected = int(population * (0.05 + 0.15 * rng.random()))
    deaths = (2 if index < max(1, 8 // max(count, 1)) else 1) if severe else rng.randint(0, 1)
    missing = (1 if index < 2 else 0) if severe else rng.randint(0, 1)
    needing = int(affected * (0.2 + 0.1 * rng.random()))
    collapsed_households = rng.randint(0, max(1, affected // 400))
    severely_households = rng.randint(0, max(1, affected // 200))
    generally_households = rng.randint(0, max(1, affected // 100))
    crop = round(affected * (0.02 + 0.03 * rng.random()), 2)
    return _consistent({
        "affected_population": affected, "deaths": deaths, "missing": missing,
        "injured": rng.randint(0, 6), "evacuated_population": int(affected * 0.4),
        "relocated_population": int(affected * 0.25), "needing_aid_population": needing,
        "needing_transitional_aid": int(needing * 0.2), "water_shortage_population": int(affected * 0.1),
        "collapsed_households": collapsed_households, "collapsed_rooms": collapsed_households * rng.randint(2, 4),
        "severely_damaged_households": severely_households,
        "severely_damaged_rooms": severely_households * rng.randint(2, 3),
        "generally_damaged_households": generally_households,
        "generally_damaged_rooms": generally_households * rng.randint(1, 3),
        "crop_affected_ha": crop, "crop_disaster_ha": round(crop * 0.5, 2), "crop_failed_ha": round(crop * 0.1, 2),
        "direct_loss_10k_cny": round(affected * 0.05 + crop * 0.3, 2),
    })


def _consistent(figures: dict) -> dict:
    """Keep the statutory consistency rules (rounding may not break them)."""
    for _ in range(3):  # a raised figure may itself be the smaller side of another rule
        for _rule, larger, smaller in CONSISTENCY_RULES:
            if figures.get(smaller, 0) > figures.get(larger, 0):
                figures[larger] = figures[smaller]
    return figures
