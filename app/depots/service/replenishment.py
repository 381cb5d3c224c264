"""Keeping the reserve whole: replenishment obligations (回补), rotation proposals (轮换) and
the depot area standard (建标121-2009). The rules are :mod:`stockpile`'s; this module stores
and serves them.

- When a dispatch requested by a higher level from a lower level's depot is approved (the stock
  leaves), :func:`record_draw` opens an obligation of the drawing level to the depot; the
  drawing level sends goods back from its own depots by :func:`replenish` (a dispatch into the
  owed depot, approved, shipped and received as every dispatch); each receipt updates the
  obligation (:func:`on_received`) until everything owed is received (settled). Cancelling the
  draw before anything was sent back cancels the obligation (:func:`on_cancelled`).
- :func:`rotation_page`: the lots expiring within a horizon, proposed for transfer to open
  supply requests for the item (nearest first) or for rotation.
- :func:`area_check`: a depot's floor area against its tier's band.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

import stockpile
from gis import codes, great_circle_km

from ... import audit
from ...auth import User
from ...errors import Conflict, Forbidden
from ...extensions import db
from ...models_common import utcnow
from ...notifications import coordinators_covering, notify
from ...permissions import can
from ...regions import Region
from ...validation import Field, validate
from ..models import (REPLENISHMENT_MACHINE, TIERS, Depot, Dispatch, Replenishment, StockBalance, SupplyRequest,
                      replenishment_dispatch)
from .catalogue import list_items
from .common import allow, get_depot, get_row, goods_value, raise_if, today
from .depots import depots_query
from .dispatches import create_dispatch
from .inputs import DEPOT, LINE, NOTE, checked_lines, known_depot, lines_field, region_names
from .levels import depot_stock_table

REPLENISH_FIELDS = {"from_depot": DEPOT,
                    "lines": lines_field(LINE, "[{item, quantity}]；省略时回补全部尚欠数量", required=False),
                    "note": NOTE,
                    "seen": Field("int", required=False, min=0,
                                  description="页面所示的回补调拨单数；已有新的回补调拨单时 409（重复提交不会回补两次）")}
MOVING = ("requested", "approved", "shipped")
#: Horizons the rotation page offers (days before expiry).
HORIZONS = (30, 60, 90, 180, 365)


# --- obligations ------------------------------------------------------------------------------------

def record_draw(dispatch: Dispatch, depot: Depot) -> Replenishment | None:
    """An obligation for an approved dispatch when it is a higher level's draw on this depot
    (:func:`stockpile.creates_obligation`; a central depot is the central level's own stock).
    Joins the approval's transaction."""
    if depot.tier == "central":
        return None
    requester = db.session.scalar(select(User).filter_by(username=dispatch.requested_by))
    drawer = requester.region_code if requester is not None else None
    if not stockpile.creates_obligation(depot.region_code, drawer, dispatch.to_region_code):
        return None
    obligation = Replenishment(dispatch_id=dispatch.id, depot_code=depot.code, owed_by=drawer, status="open",
                               created_at=utcnow())
    db.session.add(obligation)
    db.session.flush()
    audit.record(None, "replenishment.open", "replenishment", obligation.id, after=obligation_dict(obligation),
                 region_code=depot.region_code)
    notify([*depot.managers, *_owing_coordinators(drawer)], "replenishment.opened",
           "%(level)s动用%(depot)s库存，待回补（#%(id)s）", "调拨单 #%(dispatch)s：%(owed)s",
           link="/depots/replenishments",
           params={"level": _level_name(drawer), "depot": depot.name, "id": obligation.id, "dispatch": dispatch.id,
                   "owed": goods_value((line.item_code, line.quantity) for line in dispatch.lines)})
    return obligation


def settlement(obligation: Replenishment) -> stockpile.Settlement:
    owed = {line.item_code: line.quantity for line in obligation.draw.lines}
    received = [(line.item_code, line.received_quantity or 0) for d in obligation.dispatches
                if d.status == "received" for line in d.lines]
    moving = [(line.item_code, line.quantity) for d in obligation.dispatches if d.status in MOVING
              for line in d.lines]
    return stockpile.settle(owed, received, moving)


def obligation_dict(obligation: Replenishment) -> dict:
    state = settlement(obligation)
    return {"id": obligation.id, "status": obligation.status, "status_label": obligation.status_label,
            "depot_code": obligation.depot_code, "owed_by": obligation.owed_by,
            "draw_dispatch_id": obligation.dispatch_id,
            "lines": [{"item": item, "owed": state.owed[item], "received": state.received[item],
                       "in_transit": state.in_transit[item], "outstanding": state.outstanding[item]}
                      for item in state.owed],
            "dispatch_ids": [d.id for d in obligation.dispatches],
            "created_at": obligation.created_at.isoformat(),
            "settled_at": obligation.settled_at.isoformat() if obligation.settled_at else None}


def on_received(dispatch: Dispatch) -> None:
    """A replenishment dispatch was received: settle its obligation when everything is back."""
    obligation = _obligation_served_by(dispatch.id)
    if obligation is None or obligation.status != "open":
        return
    db.session.flush()
    db.session.expire(obligation, ["dispatches"])
    if settlement(obligation).status == "settled":
        before, after = REPLENISHMENT_MACHINE.fire(obligation, "settle")
        obligation.settled_at = utcnow()
        audit.record(None, "replenishment.settle", "replenishment", obligation.id, before={"status": before},
                     after={"status": after, "dispatch": dispatch.id}, region_code=obligation.depot.region_code)
        notify([*obligation.depot.managers, *_owing_coordinators(obligation.owed_by)], "replenishment.settled",
               "回补 #%(id)s 已完成（%(depot)s）", "", link="/depots/replenishments",
               params={"id": obligation.id, "depot": obligation.depot.name})


def on_cancelled(dispatch: Dispatch) -> None:
    """A draw cancelled before anything was sent back: its obligation goes with it."""
    obligation = db.session.scalar(select(Replenishment).where(Replenishment.dispatch_id == dispatch.id))
    if obligation is None or obligation.status != "open":
        return
    if any(d.status != "cancelled" for d in obligation.dispatches):
        return
    before, after = REPLENISHMENT_MACHINE.fire(obligation, "cancel")
    audit.record(None, "replenishment.cancel", "replenishment", obligation.id, before={"status": before},
                 after={"status": after}, region_code=obligation.depot.region_code)


def _obligation_served_by(dispatch_id: int) -> Replenishment | None:
    return db.session.scalar(select(Replenishment).join(
        replenishment_dispatch, replenishment_dispatch.c.replenishment_id == Replenishment.id)
        .where(replenishment_dispatch.c.dispatch_id == dispatch_id))


def _owing_coordinators(owed_by: str) -> list:
    return coordinators_covering(owed_by, levels=[codes.level_of(owed_by)])


def _level_name(code: str | None) -> str:
    if code is None:
        return ""
    if code == codes.NATIONAL:
        return "中央"
    region = db.session.get(Region, code)
    return region.name if region is not None else code


def replenishments_query(user=None, *, status: str | None = None, depot: str | None = None):
    """Obligations owed by a level inside the user's jurisdiction or owed to a depot inside it
    (all for a national user or ``None``), newest first."""
    stmt = select(Replenishment).join(Depot, Depot.code == Replenishment.depot_code).order_by(Replenishment.id.desc())
    if status:
        stmt = stmt.where(Replenishment.status == status)
    if depot:
        stmt = stmt.where(Replenishment.depot_code == depot)
    if user is not None and user.region_code != codes.NATIONAL:
        prefix = codes.prefix_of(user.region_code) + "%"
        stmt = stmt.where(Replenishment.owed_by.like(prefix) | Depot.region_code.like(prefix))
    return stmt


def replenishments_for(user, *, status: str | None = None, depot: str | None = None):
    allow(user, "depot.view")
    return replenishments_query(user, status=status, depot=depot)


def replenishment_for(user, obligation_id: int) -> Replenishment:
    allow(user, "depot.view")
    obligation = get_row(Replenishment, obligation_id)
    if db.session.scalar(replenishments_query(user).where(Replenishment.id == obligation_id)) is None:
        raise Forbidden(f"回补 {obligation_id} 不在您的管辖范围内。")
    return obligation


def owing_depots(obligation: Replenishment, active: list[Depot] | None = None) -> list[Depot]:
    """The depots the owing level replenishes from: its own (central depots for central), among
    ``active`` (the active depots, read here when not given)."""
    if active is None:
        active = db.session.scalars(depots_query(None, active_only=True)).all()
    return [d for d in active if d.code != obligation.depot_code and (
        d.tier == "central" if obligation.owed_by == codes.NATIONAL
        else d.region_code == obligation.owed_by and d.tier != "central")]


def replenish(user, obligation_id: int, data) -> Dispatch:
    """The owing level sends goods back (回补): a dispatch from one of its own depots
    (``from_depot``) into the owed depot, of ``lines`` (default: everything still outstanding),
    never more per item than is outstanding (owed − received − on its way)."""
    allow(user, "replenishment.make", get_row(Replenishment, obligation_id).owed_by)  # permission first,
    obligation = get_row(Replenishment, obligation_id, lock=True)  # then the lock
    if obligation.status != "open":
        raise Conflict(f"回补 #{obligation.id} {REPLENISHMENT_MACHINE.labels.get(obligation.status)}，无需再回补。")
    values, errors = validate(REPLENISH_FIELDS, data)
    if values["seen"] is not None and values["seen"] != len(obligation.dispatches):
        raise Conflict(f"回补 #{obligation.id} 已有新的回补调拨单（可能是重复提交），未再生成。")
    source = known_depot(values["from_depot"], "from_depot", errors)
    if source is not None and source.code not in {d.code for d in owing_depots(obligation)}:
        errors.append({"field": "from_depot", "message": "只能从回补责任级别本级的物资库调出"})
    outstanding = settlement(obligation).outstanding
    if values["lines"]:
        lines = []
        for line in checked_lines(data, LINE, errors):
            item, quantity = line["item"], line["quantity"]
            if item is None or quantity is None:
                continue
            if item not in outstanding:
                errors.append({"field": f"lines[{line['index']}].item", "message": f"回补中没有物资 {item}"})
            elif quantity > outstanding[item]:
                errors.append({"field": f"lines[{line['index']}].quantity",
                               "message": f"超过尚欠数量 {outstanding[item]}"})
            else:
                lines.append({"item": item, "quantity": quantity})
    else:
        lines = [{"item": item, "quantity": q} for item, q in outstanding.items() if q > 0]
        if not lines:
            errors.append({"field": "lines", "message": "没有尚欠的数量（其余已在途）"})
    raise_if(errors)
    depot = obligation.depot
    dispatch = create_dispatch(user, {"from_depot": source.code, "to_region_code": depot.region_code,
                                      "to_depot": depot.code, "lines": lines,
                                      "note": values["note"] or f"回补 #{obligation.id}（调拨单 #{obligation.dispatch_id}）"},
                               commit=False)
    obligation.dispatches.append(dispatch)
    db.session.flush()
    audit.record(user, "replenishment.make", "replenishment", obligation.id,
                 after={"dispatch": dispatch.id, "lines": lines}, region_code=depot.region_code)
    db.session.commit()
    return dispatch


def replenishments_page(user, status: str | None = None) -> dict:
    allow(user, "depot.view")
    rows = db.session.scalars(replenishments_query(user, status=status).limit(200)).all()
    makeable = {r.id: can(user, "replenishment.make", r.owed_by) and r.status == "open" for r in rows}
    active = db.session.scalars(depots_query(None, active_only=True)).all() if any(makeable.values()) else []
    sources = {r.id: owing_depots(r, active) for r in rows if makeable[r.id]}
    stock = {row["code"]: row["stock"] for row in depot_stock_table()} if sources else {}
    names = region_names({r.owed_by for r in rows if r.owed_by != codes.NATIONAL})
    names[codes.NATIONAL] = "中央"
    return {"rows": [(r, obligation_dict(r)) for r in rows], "makeable": makeable, "sources": sources,
            "stock": stock, "names": names, "items": {i.code: i for i in list_items()},
            "statuses": REPLENISHMENT_MACHINE.labels, "status": status or ""}


# --- rotation (轮换) --------------------------------------------------------------------------------

def rotation_proposals(user, horizon_days: int | None = None, region_code: str | None = None,
                       depot_code: str | None = None) -> list[dict]:
    """Lots of the depots inside ``region_code`` (default: the user's jurisdiction) or of one
    depot, expiring within ``horizon_days`` (default :data:`stockpile.ROTATION_HORIZON_DAYS`),
    with what to do with them: transfer to an open supply request for the item, rotate, or
    write off."""
    allow(user, "depot.view")
    horizon = stockpile.ROTATION_HORIZON_DAYS if horizon_days is None else horizon_days
    if depot_code:
        depots = [get_depot(depot_code)]
    else:
        home = region_code or (None if user is None or user.region_code == codes.NATIONAL else user.region_code)
        depots = db.session.scalars(depots_query(home, active_only=True)).all()
    by_code = {d.code: d for d in depots}
    on = today()
    rows = db.session.scalars(select(StockBalance).where(
        StockBalance.depot_code.in_(list(by_code)), StockBalance.on_hand > 0, StockBalance.expiry.is_not(None),
        StockBalance.expiry <= on + timedelta(days=horizon))).all()
    lots = [stockpile.StockLot(r.depot_code, r.item_code, r.on_hand, r.expiry, r.lot) for r in rows]
    wants, places = _wants({lot.item for lot in lots})

    def distance(depot: str, region: str):
        place = places.get(region)
        if place is None or place[0] is None:
            return None
        return round(float(great_circle_km(by_code[depot].lon, by_code[depot].lat, *place)), 1)

    proposals = stockpile.rotation_proposals(lots, wants, on, horizon, distance)
    return [{"depot_code": p.depot_code, "depot_name": by_code[p.depot_code].name, "item": p.item, "lot": p.lot,
             "expiry": p.expiry.isoformat(), "days_left": p.days_left, "quantity": p.quantity, "action": p.action,
             "supply_request_id": int(p.want) if p.want else None, "to_region_code": p.region_code,
             "distance_km": p.distance_km} for p in proposals]


def _wants(items: set[str]) -> tuple[list[stockpile.Want], dict[str, tuple]]:
    """What open supply requests still lack of ``items``, oldest first, and where they are."""
    if not items:
        return [], {}
    requests = db.session.scalars(select(SupplyRequest).where(
        SupplyRequest.status.in_(("open", "in_progress"))).order_by(SupplyRequest.id)).all()
    wants = [stockpile.Want(str(r.id), r.from_region_code, line["item"], line["outstanding"])
             for r in requests for line in r.to_dict()["lines"] if line["item"] in items and line["outstanding"] > 0]
    regions = {w.region_code for w in wants}
    places = {r.code: (r.lon, r.lat) for r in db.session.scalars(select(Region).where(Region.code.in_(regions)))}
    return wants, places


ROTATION_ACTIONS = {"transfer": "调往物资申请", "rotate": "轮换（动用后补新）", "write_off": "已过期，核销"}


def rotation_page(user, horizon_days: int | None = None) -> dict:
    proposals = rotation_proposals(user, horizon_days)
    return {"proposals": proposals, "horizon": horizon_days or stockpile.ROTATION_HORIZON_DAYS,
            "horizons": HORIZONS, "actions": ROTATION_ACTIONS, "items": {i.code: i for i in list_items()},
            "names": region_names({p["to_region_code"] for p in proposals if p["to_region_code"]})}


# --- 建标121-2009 ------------------------------------------------------------------------------------

AREA_VERDICTS = {"within": "符合标准", "below": "低于标准", "between": "介于两档之间", "above": "高于标准",
                 "no_standard": "该层级无标准（储备点）", "unknown": "未登记面积"}


def area_check(depot: Depot) -> dict:
    """The depot's area (``capacity_m2``) against 建标121-2009 for its tier."""
    check = stockpile.area_standard(depot.tier, depot.capacity_m2)
    return {"depot_code": depot.code, "tier": depot.tier, "tier_label": TIERS.get(depot.tier, depot.tier),
            "area_m2": check.area_m2, "verdict": check.verdict, "verdict_label": AREA_VERDICTS[check.verdict],
            "people_served": check.people,
            "bands": [{"size": b.size, "people_min": b.people_min, "people_max": b.people_max,
                       "area_min": b.area_min, "area_max": b.area_max} for b in check.bands],
            "band": None if check.band is None else {"size": check.band.size, "area_min": check.band.area_min,
                                                     "area_max": check.band.area_max}}


def area_standard_for(user, depot_code: str) -> dict:
    allow(user, "depot.view")
    return area_check(get_depot(depot_code))
