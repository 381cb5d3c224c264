"""The allocation page and accepting a plan (调拨方案 → 调拨单): for one event the user picks,
what is needed by region and item, what is already sent, on the road or awaiting approval,
usable stock per depot and the proposed allocation with its options (max distance, a depot's
reserve released); accepting the plan, wholly or line by line, makes the dispatch orders
(status requested, each still approved by its depot) in one transaction, once per submission.
"""
from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import select

from gis import codes

from ... import audit
from ...database import insert_unless_exists
from ...extensions import db
from ...models_common import IdempotencyRecord
from ...permissions import can
from ...reports import visible_events
from ...validation import Field, validate
from ..models import TIERS, Dispatch
from .common import allow, raise_if
from .demand import PLAN_FIELDS, _allocate, _event, _plan_options, _supply, event_demand
from .dispatches import create_dispatch
from .inputs import DEPOT, ITEM, NOTE, QUANTITY, checked_lines, known_depot, known_item, lines_field, region_names

ACCEPT_LINE = {"from_depot": DEPOT, "to_region_code": Field("code", description="接收区划"), "item": ITEM,
               "quantity": QUANTITY}
ACCEPT_LINES_MESSAGE = "至少选择一行（物资库、接收区划、物资、数量）"
ACCEPT_FIELDS = {
    "lines": lines_field(ACCEPT_LINE, "[{from_depot, to_region_code, item, quantity}]：方案中选定的行",
                         message=ACCEPT_LINES_MESSAGE),
    "note": NOTE,
    "submission": Field("str", required=False, max_length=64,
                        description="提交标识：同一标识再次提交不再生成调拨单，返回首次生成的调拨单"),
}
#: The scope under which a submission is remembered (the idempotency table, never an API path).
_SCOPE = "allocation.accept"
#: Events offered in the picker.
EVENT_CHOICES = 100


# --- what is needed -------------------------------------------------------------------------

def _pending(event_id: int, units) -> dict[tuple[str, str], int]:
    """Units requested for each demand unit and item and not yet approved (待审批)."""
    pending: dict[tuple[str, str], int] = defaultdict(int)
    rows = db.session.scalars(select(Dispatch).where(Dispatch.event_id == event_id,
                                                     Dispatch.status == "requested")).all()
    for dispatch in rows:
        unit = next((u for u in units if codes.is_within(dispatch.to_region_code, u)), None)
        for line in dispatch.lines if unit is not None else ():
            pending[(unit, line.item_code)] += line.quantity
    return pending


def open_demand(event_id: int, items=None) -> list[dict]:
    """The event's demand lines (:func:`.demand.event_demand`) with ``pending`` (requested, not
    yet approved) and ``open`` = what is still to allocate (never below 0)."""
    lines = event_demand(None, event_id, items)
    pending = _pending(event_id, {line["region_code"] for line in lines})
    for line in lines:
        line["pending"] = pending.get((line["region_code"], line["item"]), 0)
        line["open"] = max(line["quantity"] - line["pending"], 0)
    return lines


# --- the page -------------------------------------------------------------------------------

def _mark_reserve(plan: dict, supply) -> None:
    """Each plan line's depot tier and whether it draws on the depot's reserve floor (动用保底)."""
    by_key = {(s.depot_code, s.item): s for s in supply}
    taken: dict[tuple[str, str], int] = defaultdict(int)
    for line in plan["lines"]:
        taken[(line["depot_code"], line["item"])] += line["quantity"]
    for line in plan["lines"]:
        source = by_key.get((line["depot_code"], line["item"]))
        line["tier"] = source.tier if source else ""
        line["reserve_used"] = bool(source and source.reserve_floor and
                                    taken[(line["depot_code"], line["item"])] > source.available - source.reserve_floor)


def _stock_rows(supply, depots, wanted: list[str]) -> list[dict]:
    """Usable stock of the wanted items per depot (the depots that hold any)."""
    by_depot: dict[str, dict[str, int]] = defaultdict(dict)
    for s in supply:
        by_depot[s.depot_code][s.item] = s.available
    rows = [{"code": code, "name": depots[code].name, "tier": depots[code].tier,
             "stock": [by_depot[code].get(item, 0) for item in wanted]} for code in by_depot]
    order = list(reversed(TIERS))  # the local tiers first
    return sorted(rows, key=lambda r: (order.index(r["tier"]) if r["tier"] in order else 99, r["code"]))


def allocation_page(user, event_id: int | None, data) -> dict:
    """What the allocation page shows: the events the user may pick; for the one picked, its
    demand (with what was sent, is on the road and awaits approval), usable stock per depot,
    the plan under the options ``data`` (``PLAN_FIELDS``) with each line's tier and reserve use,
    the open dispatches of the event, and whether the user may accept."""
    allow(user, "depot.view")
    events = db.session.scalars(visible_events(user).limit(EVENT_CHOICES)).all() if user is not None else []
    page = {"events": events, "event": None, "options": {"max_distance_km": None, "released": []},
            "can_accept": user is None or can(user, "allocation.accept"), "tiers": TIERS}
    if event_id is None:
        return page
    event = _event(user, event_id)
    options = _plan_options(data)
    demand = open_demand(event.id, options["items"])
    wanted = sorted({line["item"] for line in demand})
    plan = _allocate([{**line, "quantity": line["open"]} for line in demand if line["open"] > 0], options)
    supply, depots = _supply(set(wanted))
    _mark_reserve(plan, supply)
    moving = db.session.scalars(select(Dispatch).where(
        Dispatch.event_id == event.id, Dispatch.status.in_(("requested", "approved", "shipped")))
        .order_by(Dispatch.id)).all()
    names = {line["item"]: line["item_name"] for line in plan["lines"] + plan["unmet"]}
    names.update(_item_names(wanted, names))
    page.update(event=event, options={"max_distance_km": options["max_distance_km"],
                                      "released": options["released"] or []},
                demand=demand, plan=plan, moving=moving, items=[(code, names[code]) for code in wanted],
                stock=_stock_rows(supply, depots, wanted), submission=uuid.uuid4().hex,
                depot_choices=sorted((d.code, d.name) for d in depots.values()),
                moving_regions=region_names({d.to_region_code for d in moving}))
    return page


def _item_names(wanted, known: dict) -> dict[str, str]:
    from ..models import Item

    missing = [code for code in wanted if code not in known]
    return dict(db.session.execute(select(Item.code, Item.name).where(Item.code.in_(missing))).all()) \
        if missing else {}


# --- accepting ------------------------------------------------------------------------------

def _claimed(user, key: str) -> list[int] | None:
    """The dispatches a submission already made (``None``: not submitted before)."""
    if user is None:
        return None
    record = db.session.scalar(select(IdempotencyRecord).filter_by(user_id=user.id, key=key, scope=_SCOPE))
    return None if record is None or record.response is None else list(record.response["dispatch_ids"])


def _checked_accept(event_id: int, data, errors: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """``{(depot, region): [{item, quantity}]}`` from the chosen lines: depots that exist and
    are active, regions the event needs goods for, items in the catalogue (once per depot and
    region), never more than the depot's usable stock nor than the region's open demand."""
    demand = {(l["region_code"], l["item"]): l["open"] for l in open_demand(event_id)}
    usable = {(s.depot_code, s.item): s.available for s in _supply({item for _, item in demand})[0]}
    per_pair: dict[tuple[str, str], list[dict]] = defaultdict(list)
    by_depot: dict[tuple[str, str], int] = defaultdict(int)
    by_region: dict[tuple[str, str], int] = defaultdict(int)
    for line in checked_lines(data, ACCEPT_LINE, errors):
        where = f"lines[{line['index']}]"
        depot = known_depot(line["from_depot"], f"{where}.from_depot", errors)
        if depot is not None and not depot.active:
            errors.append({"field": f"{where}.from_depot", "message": "物资库已停用"})
        item = known_item(line["item"], f"{where}.item", errors)
        region, quantity = line["to_region_code"], line["quantity"]
        if region is not None and item is not None and (region, item.code) not in demand:
            errors.append({"field": f"{where}.to_region_code", "message": f"该灾害过程在此区划没有 {item.name} 的需求"})
            continue
        if depot is None or item is None or region is None or quantity is None:
            continue
        if any(taken["item"] == item.code for taken in per_pair[(depot.code, region)]):
            errors.append({"field": f"{where}.item", "message": f"同一物资库、同一区划的物资 {item.code} 重复"})
            continue
        by_depot[(depot.code, item.code)] += quantity
        by_region[(region, item.code)] += quantity
        if by_depot[(depot.code, item.code)] > usable.get((depot.code, item.code), 0):
            errors.append({"field": f"{where}.quantity",
                           "message": f"超过 {depot.name} 的可用库存 {usable.get((depot.code, item.code), 0)}"})
        elif by_region[(region, item.code)] > demand[(region, item.code)]:
            errors.append({"field": f"{where}.quantity",
                           "message": f"超过未满足的需求 {demand[(region, item.code)]}（已扣除待审批的调拨）"})
        per_pair[(depot.code, region)].append({"item": item.code, "quantity": quantity})
    return per_pair


def accept_plan(user, event_id: int, data) -> dict:
    """Accept an allocation plan, wholly or line by line: ``data["lines"]`` ``[{from_depot,
    to_region_code, item, quantity}]`` become one dispatch order (requested) per depot and
    region, in one transaction, audited. The same ``submission`` sent again (a double submit)
    makes nothing and answers with the dispatches of the first."""
    allow(user, "allocation.accept")
    event = _event(user, event_id)
    values, errors = validate(ACCEPT_FIELDS, data)
    key = f"allocation:{event.id}:{values['submission']}" if values["submission"] else None
    done = _claimed(user, key) if key else None
    if done is not None:
        return {"event_id": event.id, "dispatch_ids": done, "replayed": True}
    per_pair = _checked_accept(event.id, data, errors)
    if values["lines"] == []:
        errors.append({"field": "lines", "message": ACCEPT_LINES_MESSAGE})
    raise_if(errors)
    note = values["note"] or f"调拨方案（灾害过程 #{event.id}）"
    made = [create_dispatch(user, {"event_id": event.id, "from_depot": depot_code, "to_region_code": region,
                                   "lines": lines, "note": note}, commit=False)
            for (depot_code, region), lines in sorted(per_pair.items())]
    ids = [d.id for d in made]
    if key and user is not None and insert_unless_exists(
            IdempotencyRecord.__table__, ["user_id", "key"],
            {"user_id": user.id, "key": key, "scope": _SCOPE, "body_hash": "", "status": 201,
             "response": {"dispatch_ids": ids}}, IdempotencyRecord.__table__.c.id) is None:
        db.session.rollback()  # the same submission committed meanwhile: its dispatches stand
        return {"event_id": event.id, "dispatch_ids": _claimed(user, key) or [], "replayed": True}
    audit.record(user, "allocation.accept", "event", event.id, after={"dispatches": ids, "lines": values["lines"]},
                 region_code=(event.region_codes or [codes.NATIONAL])[0], note=values["note"])
    db.session.commit()
    return {"event_id": event.id, "dispatch_ids": ids, "replayed": False}
