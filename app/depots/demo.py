"""Demo depots (示例数据): the catalogue, the default norms, Shanxi's provincial depot in Taiyuan,
one depot per prefecture and per county at their regions' points, with deterministic stock and
reserve floors; the demo user ``depot`` manages the provincial depot. Idempotent."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

import stockpile

from ..auth import User
from ..extensions import db
from ..regions import Region
from . import service
from .models import Depot, DepotReserve
from .service import Book

PROVINCE = "140000"
TAIYUAN = "140100"
PROVINCIAL_DEPOT = "SX-140000"

#: Base stock per tier: (item, units at a county depot); prefecture × 5, provincial × 25.
BASE_STOCK = (("tent", 300), ("quilt", 1500), ("cotton_coat", 800), ("folding_bed", 300), ("blanket", 1000),
              ("water", 6000), ("instant_food", 2000), ("life_jacket", 200), ("sandbag", 5000), ("pump", 4))
SCALE = {"county": 1, "prefecture": 5, "provincial": 25}
CAPACITY_M2 = {"county": (630, 800), "prefecture": (2900, 4100), "provincial": (9000, 12000)}
#: Reserve floor (保底储备) as a share of the base stock, for the items a depot must keep.
FLOOR_SHARE = {"tent": 0.3, "quilt": 0.3, "cotton_coat": 0.2}


def depot_code(region_code: str) -> str:
    return f"SX-{region_code}"


def load_depots(echo) -> None:
    added_items = service.ensure_catalogue()
    norms = service.ensure_default_norms()
    db.session.commit()
    echo(f"物资目录：新增 {added_items} 项" + ("；已写入默认需求定额（全国）" if norms else ""))
    province = db.session.get(Region, PROVINCE)
    if province is None:
        echo("未找到山西省区划（140000），跳过物资库。请先载入区划。")
        return
    taiyuan = db.session.get(Region, TAIYUAN) or province
    plan = [(PROVINCIAL_DEPOT, "山西省救灾物资储备库（太原）", "provincial", province, taiyuan)]
    for level, tier in (("prefecture", "prefecture"), ("county", "county")):
        regions = db.session.scalars(select(Region).where(Region.level == level, Region.code.like("14%"))
                                     .order_by(Region.code)).all()
        plan += [(depot_code(r.code), f"{r.name}救灾物资储备库", tier, r, r) for r in regions
                 if r.lon is not None and r.lat is not None]
    made = 0
    for code, name, tier, region, point in plan:
        if db.session.get(Depot, code) is not None:
            continue
        rng = random.Random(code)
        low, high = CAPACITY_M2[tier]
        service.create_depot(None, {"code": code, "name": name, "tier": tier, "region_code": region.code,
                                    "lon": round(point.lon, 5), "lat": round(point.lat, 5),
                                    "capacity_m2": float(rng.randint(low, high))})
        _stock(code, tier, rng)
        made += 1
    _assign_demo_manager(echo)
    counts = {tier: sum(1 for _, _, t, _, _ in plan if t == tier) for tier in SCALE}
    echo(f"物资库：新建 {made} 个（省级 {counts['provincial']}、市级 {counts['prefecture']}、"
         f"县级 {counts['county']}），均为示例数据")


def _stock(code: str, tier: str, rng: random.Random) -> None:
    """Receipts of every catalogue item in one or two lots, and reserve floors; a few county
    depots get a small expired lot of water or are under their floor, so warnings show."""
    today = service.today()
    items = {item.code: item for item in stockpile.DEFAULT_ITEMS}
    depot = service.get_depot(code, lock=True)
    book = Book(depot, None, "receipt", f"{today:%Y%m%d}-demo", [item for item, _ in BASE_STOCK])
    short = tier == "county" and rng.random() < 0.15
    for item_code, base in BASE_STOCK:
        if item_code not in items:
            continue
        target = base * SCALE[tier]
        quantity = max(int(target * rng.uniform(0.6, 1.3)), 1)
        if short and item_code in FLOOR_SHARE:
            quantity = max(int(target * FLOOR_SHARE[item_code] * 0.5), 1)
        shelf = items[item_code].shelf_life_days
        if shelf:
            first = quantity // 3
            lots = [(f"{item_code[:2].upper()}{rng.randint(1000, 9999)}A", first,
                     today + timedelta(days=rng.randint(20, shelf // 2))),
                    (f"{item_code[:2].upper()}{rng.randint(1000, 9999)}B", quantity - first,
                     today + timedelta(days=rng.randint(shelf // 2 + 1, shelf)))]
        else:
            lots = [(None, quantity, None)]
        for lot, units, expiry in lots:
            if units > 0:
                book.post(stockpile.Movement("receipt", item_code, units, lot=lot, expiry=expiry,
                                             reason="示例数据：初始库存"))
        if item_code in FLOOR_SHARE:
            db.session.add(DepotReserve(depot_code=code, item_code=item_code,
                                        floor=int(target * FLOOR_SHARE[item_code])))
    if tier == "county" and rng.random() < 0.1:
        book.post(stockpile.Movement("receipt", "water", rng.randint(50, 200), lot="WA-OLD",
                                     expiry=today - timedelta(days=rng.randint(1, 60)), reason="示例数据：临期库存"))
    db.session.commit()


def _assign_demo_manager(echo) -> None:
    user = db.session.scalar(select(User).filter_by(username="depot"))
    depot = db.session.get(Depot, PROVINCIAL_DEPOT)
    if user is None or depot is None or user.id in depot.manager_ids:
        return
    service.assign_manager(None, depot.code, {"username": user.username})
    echo(f"已指派演示用户 depot 管理 {depot.name}")


def received_demo_dispatch(event_id: int, to_region_code: str, lines: dict[str, int], note: str) -> int | None:
    """A dispatch of the demo event from the county depot above ``to_region_code`` to it,
    approved (the goods leave the depot's ledger), shipped and signed for in full, through the
    depots' own services as people would do it: the goods a distribution point of the demo takes
    in (:mod:`app.distribution.demo`). Its id, or ``None`` without that depot."""
    depot = db.session.get(Depot, depot_code(to_region_code[:6]))
    if depot is None:
        return None
    dispatch = service.create_dispatch(None, {"event_id": event_id, "from_depot": depot.code,
                                              "to_region_code": to_region_code, "note": note,
                                              "lines": [{"item": i, "quantity": q} for i, q in lines.items()]})
    service.approve_dispatch(None, dispatch.id)
    service.ship_dispatch(None, dispatch.id, {})
    service.receive_dispatch(None, dispatch.id, {})
    return dispatch.id
