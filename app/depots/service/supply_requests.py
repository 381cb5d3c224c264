"""Supply requests (物资申请): a written request to the level above when local stock is short,
which that level's coordinators fill from their own depots (one dispatch order per depot),
forward (转报) to the next level up with what is still short (prefecture → province → central),
or refuse with a reason (不予调拨); which requests a user sees. Every step is kept on the request
(:class:`..models.SupplyRequestStep`) and the requester is told of each one.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from gis import codes

from ... import audit
from ...errors import Conflict
from ...auth import User
from ...extensions import db
from ...models_common import utcnow
from ...notifications import coordinators_covering, notify
from ...permissions import Target
from ...regions import Region
from ...validation import Field, validate
from ..models import SUPPLY_REQUEST_MACHINE, Depot, SupplyRequest, SupplyRequestLine, SupplyRequestStep
from .common import allow, get_supply_request, goods_value, raise_if, readable, who
from .depots import depots_query
from .dispatches import create_dispatch
from .pickers import check_quantities
from .inputs import (DEPOT, EVENT, ITEM, LINE, LINES_MESSAGE, NOTE, QUANTITY, checked_lines, item_lines,
                     known_depot, known_event, known_region, lines_field)

SUPPLY_FIELDS = {
    "from_region_code": Field("code", description="申请区划"),
    "to_region_code": Field("code", required=False, description="受理区划，默认直接上级"),
    "event_id": EVENT, "to_depot": Field("str", required=False, max_length=40, description="接收物资库"),
    "lines": lines_field(LINE, "[{item, quantity}]"),
    "reason": Field("str", max_length=4000, multiline=True, description="书面申请理由"),
}
FILL_LINE = {"from_depot": DEPOT, "item": ITEM, "quantity": QUANTITY}
FILL_LINES_MESSAGE = "至少需要一行（物资库、物资、数量）"
FILL_FIELDS = {"lines": lines_field(FILL_LINE, "[{from_depot, item, quantity}]", message=FILL_LINES_MESSAGE),
               "note": NOTE}
REJECT_FIELDS = {"reason": Field("str", max_length=4000, multiline=True)}
FORWARD_FIELDS = {"note": NOTE,
                  "level": Field("str", required=False, max_length=12,
                                 description="转报的级别（页面所示的当前受理级别）；已不是该级别时 409，重复提交不会再转报一次")}
#: What the requester's page and notifications call the central level.
CENTRAL = "中央"


# --- reading ---------------------------------------------------------------------------------

def supply_requests_query(user=None, *, status: str | None = None, region_code: str | None = None):
    """Requests raised inside, or addressed to a level inside, the user's jurisdiction (all for
    ``None``), newest first."""
    stmt = select(SupplyRequest).order_by(SupplyRequest.id.desc())
    if status:
        stmt = stmt.where(SupplyRequest.status == status)
    if region_code:
        prefix = codes.prefix_of(region_code) + "%"
        stmt = stmt.where(SupplyRequest.from_region_code.like(prefix) | SupplyRequest.to_region_code.like(prefix))
    if user is not None and user.region_code != codes.NATIONAL:
        prefix = codes.prefix_of(user.region_code) + "%"
        stmt = stmt.where(SupplyRequest.from_region_code.like(prefix) | SupplyRequest.to_region_code.like(prefix))
    return stmt


def supply_requests_for(user, *, status: str | None = None, region_code: str | None = None):
    """The requests a user lists (:func:`supply_requests_query`), as a ``select`` to page."""
    allow(user, "depot.view")
    return supply_requests_query(user, status=status, region_code=region_code)


def supply_request_for(user, request_id: int) -> SupplyRequest:
    """A supply request the user may read (the rule of :func:`supply_requests_query`)."""
    allow(user, "depot.view")
    return readable(SupplyRequest, request_id, supply_requests_query(user))


# --- raising ---------------------------------------------------------------------------------

def _region_managers(region_code: str) -> frozenset[int]:
    depots = db.session.scalars(depots_query(region_code)).all()
    return frozenset(uid for depot in depots for uid in depot.manager_ids)


def _addressee(source: Region | None, code: str | None, errors: list[dict]) -> Region | None:
    """The level a request goes to: the one named (above the source), else the source's parent."""
    if any(error["field"] == "to_region_code" for error in errors):
        return None
    if code is not None:
        target = known_region(code, "to_region_code", errors)
        if target is not None and source is not None and (
                target.code == source.code or not codes.is_within(source.code, target.code)):
            errors.append({"field": "to_region_code", "message": "只能向上级区划申请"})
            return None
        return target
    if source is None:
        return None
    target = db.session.get(Region, source.parent_code) if source.parent_code else None
    if target is None:
        errors.append({"field": "to_region_code", "message": "该区划没有上级区划，请指定"})
    return target


def raise_supply_request(user, data) -> SupplyRequest:
    """A written request (申请) to the level above when local stock is short: ``from_region_code``,
    ``lines``, ``reason``; optional ``to_region_code`` (default: the parent region), ``event_id``,
    ``to_depot`` (the depot that will receive the goods)."""
    allow(user, "supply_request.raise")
    values, errors = validate(SUPPLY_FIELDS, data)
    source = known_region(values["from_region_code"], "from_region_code", errors)
    if source is not None:
        allow(user, "supply_request.raise", Target(source.code, _region_managers(source.code)))
    target = _addressee(source, values["to_region_code"], errors)
    event_id = known_event(values["event_id"], "event_id", errors)
    to_depot = known_depot(values["to_depot"] or None, "to_depot", errors)
    if to_depot is not None and source is not None and not codes.is_within(to_depot.region_code, source.code):
        errors.append({"field": "to_depot", "message": "接收物资库必须在申请区划内"})
    checked = checked_lines(data, LINE, errors)
    lines = item_lines(checked, errors)
    if values["lines"] == []:
        errors.append({"field": "lines", "message": LINES_MESSAGE})
    if user is not None:
        check_quantities(checked, errors, event_id=event_id, region_code=source.code if source else None,
                         reason=values["reason"], reason_field="reason")
    raise_if(errors)
    request = SupplyRequest(event_id=event_id, from_region_code=source.code, to_region_code=target.code,
                            to_depot_code=to_depot.code if to_depot else None, status="open",
                            reason=values["reason"], raised_by=who(user), raised_at=utcnow())
    request.lines = [SupplyRequestLine(item_code=item.code, quantity=q) for item, q in lines]
    db.session.add(request)
    db.session.flush()
    add_step(request, user, "raise", source.code, to_level=target.code,
             lines=[{"item": i.code, "quantity": q} for i, q in lines], note=request.reason)
    audit.record(user, "supply_request.raise", "supply_request", request.id, after=request.to_dict(),
                 region_code=source.code)
    coordinators = coordinators_covering(target.code, levels=[codes.level_of(target.code)])
    notify(coordinators, "supply_request.raised", "%(source)s申请调拨物资（#%(id)s）", "%(lines)s。理由：%(reason)s",
           link=f"/depots/supply-requests/{request.id}",
           params={"source": source.name, "id": request.id, "reason": request.reason,
                   "lines": goods_value((i.code, q) for i, q in lines)})
    db.session.commit()
    return request


# --- filling and refusing --------------------------------------------------------------------

def _fill_lines(request: SupplyRequest, data, errors: list[dict]) -> dict[str, list[dict]]:
    """``{depot: [{item, quantity}]}``: depots of the filling level, active; items of the
    request, once per depot; never more in all than the request still lacks."""
    outstanding = {l["item"]: l["outstanding"] for l in request.to_dict()["lines"]}
    per_depot: dict[str, list[dict]] = defaultdict(list)
    totals: dict[str, int] = defaultdict(int)
    for line in checked_lines(data, FILL_LINE, errors):
        where = f"lines[{line['index']}]"
        depot = known_depot(line["from_depot"], f"{where}.from_depot", errors)
        if depot is None:
            pass
        elif not serves_level(depot, request):
            errors.append({"field": f"{where}.from_depot", "message": "只能从受理级别辖区内的物资库调拨"})
        elif not depot.active:
            errors.append({"field": f"{where}.from_depot", "message": "物资库已停用"})
        item, quantity = line["item"], line["quantity"]
        if item is not None and item not in outstanding:
            errors.append({"field": f"{where}.item", "message": f"申请中没有物资 {item}"})
        if depot is None or item not in outstanding or quantity is None:
            continue
        if any(taken["item"] == item for taken in per_depot[depot.code]):
            errors.append({"field": f"{where}.item", "message": f"同一物资库的物资 {item} 重复"})
            continue
        totals[item] += quantity
        if totals[item] > outstanding[item]:
            errors.append({"field": f"{where}.quantity", "message": f"超过申请未满足数量 {outstanding[item]}"})
        per_depot[depot.code].append({"item": item, "quantity": quantity})
    return per_depot


def fill_supply_request(user, request_id: int, data) -> SupplyRequest:
    """The level above fills a request from its own depots: ``data["lines"]`` ``[{"from_depot",
    "item", "quantity"}]`` become one dispatch per depot (status requested) to the requesting
    region, with the optional ``data["note"]``."""
    request = get_supply_request(request_id, lock=True)
    allow(user, "supply_request.fill", request.addressee_code)
    SUPPLY_REQUEST_MACHINE.next_state(request.status, "fill")
    values, errors = validate(FILL_FIELDS, data)
    per_depot = _fill_lines(request, data, errors)
    if values["lines"] == []:
        errors.append({"field": "lines", "message": FILL_LINES_MESSAGE})
    raise_if(errors)
    note = values["note"] or None
    made = [create_dispatch(user, {"event_id": request.event_id, "from_depot": depot_code,
                                   "to_region_code": request.from_region_code, "to_depot": request.to_depot_code,
                                   "lines": depot_lines, "note": note or f"物资申请 #{request.id}"},
                            supply_request=request, commit=False)
            for depot_code, depot_lines in sorted(per_depot.items())]
    before, _ = SUPPLY_REQUEST_MACHINE.fire(request, "fill")
    db.session.flush()
    db.session.expire(request, ["dispatches"])
    add_step(request, user, "fill", request.addressee_code, note=note,
             lines=[{"from_depot": d.from_depot_code, "item": l.item_code, "quantity": l.quantity, "dispatch_id": d.id}
                    for d in made for l in d.lines])
    complete = all(line["outstanding"] == 0 for line in request.to_dict()["lines"])
    if complete:
        SUPPLY_REQUEST_MACHINE.fire(request, "complete")
        add_step(request, user, "complete", request.addressee_code)
    audit.record(user, "supply_request.fill", "supply_request", request.id, before={"status": before},
                 after={"status": request.status, "dispatches": [d.id for d in made]},
                 region_code=request.from_region_code, note=note)
    _tell_requester(request, "supply_request.filled",
                    "物资申请 #%(id)s：%(level)s已安排调拨，已全部满足" if complete else "物资申请 #%(id)s：%(level)s已安排调拨",
                    "%(lines)s", {"id": request.id, "level": level_name(request.addressee_code),
                                  "lines": goods_value(((l.item_code, l.quantity, d.from_depot_code)
                                                        for d in made for l in d.lines),
                                                       {d.from_depot_code: d.from_depot.name for d in made})})
    db.session.commit()
    return request


def reject_supply_request(user, request_id: int, data) -> SupplyRequest:
    """Refuse a request (不予调拨) with ``data["reason"]``; the one who raised it is told."""
    request = get_supply_request(request_id, lock=True)
    allow(user, "supply_request.fill", request.addressee_code)
    values, errors = validate(REJECT_FIELDS, data)
    raise_if(errors)
    reason = values["reason"]
    before, after = SUPPLY_REQUEST_MACHINE.fire(request, "reject")
    request.closed_by, request.closed_at, request.close_reason = who(user), utcnow(), reason
    add_step(request, user, "reject", request.addressee_code, note=reason)
    audit.record(user, "supply_request.reject", "supply_request", request.id, before={"status": before},
                 after={"status": after}, region_code=request.from_region_code, note=reason)
    _tell_requester(request, "supply_request.rejected", "物资申请 #%(id)s：%(level)s不予调拨", "%(reason)s",
                    {"id": request.id, "level": level_name(request.addressee_code), "reason": reason})
    db.session.commit()
    return request


# --- up the tiers (转报上级) ----------------------------------------------------------------------

def _next_level(request: SupplyRequest) -> str | None:
    """The level above the one addressed now: the nearest existing ancestor region, else the
    central level (``000000``); ``None`` above central."""
    if request.to_central:
        return None
    for code in codes.ancestors(request.to_region_code):
        if db.session.get(Region, code) is not None:
            return code
    return codes.NATIONAL


def forward_supply_request(user, request_id: int, data) -> SupplyRequest:
    """The addressed level forwards what it cannot fill to the next level up (转报上级):
    prefecture → province → central, with an optional ``data["note"]``. What was filled stays
    filled; the request keeps its state and its trail; the next level's coordinators and the
    requester are told. ``409`` above central or with nothing left to send."""
    request = get_supply_request(request_id, lock=True)
    allow(user, "supply_request.forward", request.addressee_code)
    SUPPLY_REQUEST_MACHINE.next_state(request.status, "forward")
    values, errors = validate(FORWARD_FIELDS, data)
    raise_if(errors)
    if values["level"] and values["level"] != request.addressee_code:
        raise Conflict(f"物资申请 #{request.id} 已由{level_name(values['level'])}转报{level_name(request.addressee_code)}，"
                       "未再转报。")
    target = _next_level(request)
    if target is None:
        raise Conflict(f"物资申请 #{request.id} 已在中央级，无法再转报。")
    short = [line for line in request.to_dict()["lines"] if line["outstanding"] > 0]
    if not short:
        raise Conflict(f"物资申请 #{request.id} 已没有尚缺的物资，无需转报。")
    note = values["note"] or None
    level = request.addressee_code
    if target == codes.NATIONAL:
        request.to_central = True
    else:
        request.to_region_code = target
    before, after = SUPPLY_REQUEST_MACHINE.fire(request, "forward")
    add_step(request, user, "forward", level, to_level=target, note=note,
             lines=[{"item": line["item"], "quantity": line["outstanding"]} for line in short])
    audit.record(user, "supply_request.forward", "supply_request", request.id,
                 before={"status": before, "addressee": level}, after={"status": after, "addressee": target},
                 region_code=request.from_region_code, note=note)
    params = {"id": request.id, "level": level_name(level), "target": level_name(target),
              "requester": level_name(request.from_region_code), "note": note or "",
              "listed": goods_value((line["item"], line["outstanding"]) for line in short)}
    body = "尚缺：%(listed)s。说明：%(note)s" if note else "尚缺：%(listed)s。"
    notify(addressee_coordinators(request), "supply_request.raised",
           "%(level)s转报物资申请 #%(id)s（%(requester)s）", body,
           link=f"/depots/supply-requests/{request.id}", params=params)
    _tell_requester(request, "supply_request.forwarded", "物资申请 #%(id)s：%(level)s已转报%(target)s", body, params)
    db.session.commit()
    return request


# --- the trail ------------------------------------------------------------------------------------

def add_step(request: SupplyRequest, user, action: str, level: str, *, to_level: str | None = None,
             lines: list | None = None, note: str | None = None) -> SupplyRequestStep:
    step = SupplyRequestStep(action=action, level_code=level, to_level_code=to_level, lines=lines, note=note,
                             username=who(user), at=utcnow())
    request.steps.append(step)
    return step


def level_name(code: str) -> str:
    """A level as people call it: the region's name, 中央 for the nation."""
    if code == codes.NATIONAL:
        return CENTRAL
    region = db.session.get(Region, code)
    return region.name if region is not None else code


def serves_level(depot: Depot, request: SupplyRequest) -> bool:
    """Whether a depot belongs to the level a request is addressed to (the central depots for
    central; those inside the region otherwise)."""
    if request.to_central:
        return depot.tier == "central"
    return codes.is_within(depot.region_code, request.to_region_code)


def addressee_coordinators(request: SupplyRequest) -> list:
    if request.to_central:
        return coordinators_covering(request.from_region_code, levels=["nation"])
    return coordinators_covering(request.to_region_code, levels=[codes.level_of(request.to_region_code)])


def _tell_requester(request: SupplyRequest, kind: str, title: str, body: str, params: dict) -> None:
    """Notify who raised the request; ``title`` and ``body`` are messages with ``params``."""
    raiser = db.session.scalar(select(User).filter_by(username=request.raised_by))
    if raiser is not None:
        notify([raiser], kind, title, body, link=f"/depots/supply-requests/{request.id}", params=params)
