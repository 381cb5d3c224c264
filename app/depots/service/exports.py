"""Excel exports of the depots area, for a user who may see depots: a depot's stock report, the
stock report of the active depots in a region, and a dispatch note (调拨单). The workbooks are
drawn by :mod:`app.depots.excel` from what is read here.
"""
from __future__ import annotations

from gis import codes

from ...extensions import db
from ...regions import Region
from .. import excel
from .catalogue import list_items
from .common import allow, get_depot, today
from .depots import depots_query
from .dispatches import dispatch_detail, dispatch_for
from .levels import levels

#: An export: the workbook's bytes and the file name it is offered under.
Export = tuple[bytes, str]


def depot_stock_workbook(user, depot_code: str) -> Export:
    allow(user, "depot.view")
    depot = get_depot(depot_code)
    on = today()
    return excel.stock_report([(depot, levels(depot.code, on))], on), f"stock-{depot.code}-{on.isoformat()}.xlsx"


def region_stock_workbook(user, region_code: str | None = None) -> Export:
    """The active depots inside ``region_code`` (default: the user's jurisdiction)."""
    allow(user, "depot.view")
    region_code = region_code or (None if user.region_code == codes.NATIONAL else user.region_code)
    depots = db.session.scalars(depots_query(region_code, active_only=True)).all()
    on = today()
    data = excel.stock_report([(depot, levels(depot.code, on)) for depot in depots], on)
    return data, f"stock-{region_code or 'all'}-{on.isoformat()}.xlsx"


def dispatch_workbook(user, dispatch_id: int) -> Export:
    dispatch = dispatch_for(user, dispatch_id)
    data = excel.dispatch_note(dispatch, dispatch_detail(dispatch), {i.code: i for i in list_items()},
                               db.session.get(Region, dispatch.to_region_code))
    return data, f"dispatch-{dispatch.id}.xlsx"
