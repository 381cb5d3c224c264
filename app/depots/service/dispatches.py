"""Dispatch orders (调拨单): the request (调拨申请) of goods from a depot to a region (or into
another depot there), which dispatches a user sees, and what one holds (lines and the lots its
approval took). The steps after the request move stock: :mod:`.dispatch_steps`.
"""
from __future__ import annotations

from sqlalchemy import select

from gis import codes

from ... import audit
from ...errors import Forbidden
from ...extensions import db
from ...models_common import utcnow
from ...notifications import notify
from ...permissions import can
from ...regions import Region
from ...validation import Field, validate
from ..models import Depot, Dispatch, DispatchLine, StockMovement, SupplyRequest, depot_manager
from .common import IN_TRANSIT_STATUSES, allow, goods_value, raise_if, readable, who
from .pickers import check_quantities
from .inputs import (DEPOT, EVENT, LINE, LINES_MESSAGE, NOTE, checked_lines, item_lines, known_depot,
                     known_event, known_region, lines_field)

DISPATCH_FIELDS = {
    "event_id": EVENT, "from_depot": DEPOT, "to_region_code": Field("code", description="接收区划"),
    "to_depot": Field("str", required=False, max_length=40, description="调入物资库（库间调拨）"),
    "lines": lines_field(LINE, "[{item, quantity}]"), "note": NOTE,
}


# --- reading ---------------------------------------------------------------------------------

def dispatches_query(user=None, *, status: str | None = None, depot: str | None = None,
                     event_id: int | None = None, region_code: str | None = None):
    """Dispatches a user may see (all for ``None``): from depots they manage or inside their
    jurisdiction (either end), newest first."""
    stmt = select(Dispatch).order_by(Dispatch.id.desc())
    if status:
        stmt = stmt.where(Dispatch.status == status)
    if depot:
        stmt = stmt.where(Dispatch.from_depot_code == depot)
    if event_id is not None:
        stmt = stmt.where(Dispatch.event_id == event_id)
    if region_code:
        stmt = stmt.where(Dispatch.to_region_code.like(codes.prefix_of(region_code) + "%"))
    if user is not None and user.region_code != codes.NATIONAL:
        prefix = codes.prefix_of(user.region_code) + "%"
        depot_codes = select(Depot.code).where(Depot.region_code.like(prefix))
        if user.role == "depot_manager":
            depot_codes = depot_codes.union(select(depot_manager.c.depot_code)
                                            .where(depot_manager.c.user_id == user.id))
        stmt = stmt.where(Dispatch.to_region_code.like(prefix) | Dispatch.from_depot_code.in_(depot_codes))
    return stmt


def dispatches_for(user, *, status: str | None = None, depot: str | None = None, event_id: int | None = None,
                   region_code: str | None = None):
    """The dispatches a user lists (:func:`dispatches_query`), as a ``select`` to page."""
    allow(user, "depot.view")
    return dispatches_query(user, status=status, depot=depot, event_id=event_id, region_code=region_code)


def dispatch_for(user, dispatch_id: int) -> Dispatch:
    """A dispatch the user may read (the same rule as :func:`dispatches_query`): 404 when there
    is none, 403 when it lies outside the user's jurisdiction and depots."""
    allow(user, "depot.view")
    return readable(Dispatch, dispatch_id, dispatches_query(user))


def dispatch_detail(dispatch: Dispatch) -> dict:
    """The dispatch with the lots its approval took (批次、有效期)."""
    body = dispatch.to_dict()
    taken = db.session.scalars(select(StockMovement).where(
        StockMovement.document_type == "dispatch", StockMovement.document_id == str(dispatch.id),
        StockMovement.depot_code == dispatch.from_depot_code).order_by(StockMovement.id)).all()
    body["movements"] = [m.to_dict() for m in taken]
    return body


def dispatches_in_transit(event_id: int | None = None) -> list[dict]:
    """Plain data for the map: approved and shipped dispatches with both ends' locations. No
    permission check: the dashboard's service checked ``dashboard.view``."""
    stmt = select(Dispatch).where(Dispatch.status.in_(IN_TRANSIT_STATUSES)).order_by(Dispatch.id)
    if event_id is not None:
        stmt = stmt.where(Dispatch.event_id == event_id)
    out = []
    for d in db.session.scalars(stmt):
        region = db.session.get(Region, d.to_region_code)
        out.append({"id": d.id, "from_depot": d.from_depot_code, "from_lon": d.from_depot.lon,
                    "from_lat": d.from_depot.lat, "to_region_code": d.to_region_code,
                    "to_lon": region.lon if region else None, "to_lat": region.lat if region else None,
                    "status": d.status, "lines": [{"item": l.item_code, "quantity": l.quantity} for l in d.lines]})
    return out


# --- the request -----------------------------------------------------------------------------

def _ends(values: dict, errors: list[dict]) -> tuple[Depot | None, Region | None, Depot | None]:
    """The source depot (existing, active), the receiving region and the optional receiving
    depot (inside that region, not the source)."""
    depot = known_depot(values["from_depot"], "from_depot", errors)
    if depot is not None and not depot.active:
        errors.append({"field": "from_depot", "message": "物资库已停用"})
    region = known_region(values["to_region_code"], "to_region_code", errors)
    to_depot = known_depot(values["to_depot"] or None, "to_depot", errors)
    if to_depot is None:
        pass
    elif depot is not None and to_depot.code == depot.code:
        errors.append({"field": "to_depot", "message": "调入库不能与调出库相同"})
    elif region is not None and not codes.is_within(to_depot.region_code, region.code):
        errors.append({"field": "to_depot", "message": "调入库必须在接收区划内"})
    return depot, region, to_depot


def create_dispatch(user, data, *, supply_request: SupplyRequest | None = None, commit: bool = True) -> Dispatch:
    """A dispatch request (调拨申请): ``event_id`` (optional), ``from_depot``, ``to_region_code``,
    ``to_depot`` (optional: receive the goods into that depot, a transfer), ``lines``, ``note``.
    A user requests for their own jurisdiction, or from a depot inside it."""
    allow(user, "dispatch.request")
    values, errors = validate(DISPATCH_FIELDS, data)
    depot, region, to_depot = _ends(values, errors)
    if user is not None and depot is not None and region is not None and supply_request is None:
        if not (can(user, "dispatch.request", region.code) or can(user, "dispatch.request", depot.region_code)):
            raise Forbidden("只能为本辖区申请调拨，或从本辖区的物资库调出。")
    event_id = known_event(values["event_id"], "event_id", errors)
    checked = checked_lines(data, LINE, errors)
    lines = item_lines(checked, errors)
    if values["lines"] == []:
        errors.append({"field": "lines", "message": LINES_MESSAGE})
    if user is not None and supply_request is None:
        check_quantities(checked, errors, event_id=event_id, region_code=region.code if region else None,
                         reason=values["note"], reason_field="note")
    raise_if(errors)
    dispatch = Dispatch(event_id=event_id, from_depot_code=depot.code, to_region_code=region.code,
                        to_depot_code=to_depot.code if to_depot else None, status="requested",
                        note=values["note"] or "", requested_by=who(user), requested_at=utcnow(),
                        supply_request_id=supply_request.id if supply_request else None)
    dispatch.lines = [DispatchLine(item_code=item.code, quantity=quantity) for item, quantity in lines]
    db.session.add(dispatch)
    db.session.flush()
    audit.record(user, "dispatch.request", "dispatch", dispatch.id, after=dispatch.to_dict(),
                 region_code=region.code)
    if depot.managers:
        notify(depot.managers, "dispatch.requested", "调拨单 #%(id)s 待审批", "%(depot)s → %(region)s：%(lines)s",
               link=f"/depots/dispatches/{dispatch.id}",
               params={"id": dispatch.id, "depot": depot.name, "region": region.name,
                       "lines": goods_value((i.code, q) for i, q in lines)})
    if commit:
        db.session.commit()
    return dispatch
