"""What each page of the depots area shows, read for one user who may see depots: the list of
depots with their warnings, a depot with its stock and the actions the user may take there, the
ledger, the lists of dispatches and supply requests and one of each, and the home-page panel.
Pages render these dicts as they are; the decisions (which buttons) are made here.
"""
from __future__ import annotations

from sqlalchemy import func, select

from gis import codes

from ...errors import Invalid
from ...i18n import named
from ...extensions import db
from ...permissions import can
from ...regions import Region
from ..models import (DISPATCH_MACHINE, MOVEMENT_KINDS, SUPPLY_REQUEST_MACHINE, TIERS, Depot, Dispatch,
                      SupplyRequest)
from .catalogue import list_items
from .common import WAITING_STATUSES, allow, depot_target, get_depot, today
from .depots import depots_query, managed_depots
from .dispatches import dispatch_detail, dispatch_for, dispatches_query
from .inputs import region_names
from .pickers import event_choices, stock_by_item
from .levels import depot_stock_table, ledger_query, levels
from .replenishment import area_check, obligation_dict, replenishments_query
from .supply_requests import serves_level, supply_request_for, supply_requests_query
from .warnings import stock_warnings

#: Rows on one page of a ledger, and on a list page.
LEDGER_PAGE = 200
LIST_ROWS = 200
#: The depot actions a page offers, by the names the templates use.
DEPOT_ACTIONS = (("receive", "stock.receive"), ("adjust", "stock.adjust"), ("configure", "stock.configure"),
                 ("approve", "dispatch.approve"), ("ship", "dispatch.ship"), ("cancel", "dispatch.cancel"))


def _home_region(user) -> str | None:
    """The region a list starts from: the user's jurisdiction (nothing for a national user)."""
    return None if user.region_code == codes.NATIONAL else user.region_code


def item_choices() -> list[tuple[str, str]]:
    from flask_babel import gettext

    return [(i.code, named(gettext(i.name), gettext(i.unit))) for i in list_items()]


def depot_actions(user, depot: Depot) -> dict[str, bool]:
    """Which of a depot's actions the user may take there (the buttons a page shows)."""
    target = depot_target(depot)
    return {name: can(user, action, target) for name, action in DEPOT_ACTIONS}


def depot_index(user, region_code: str | None = None, tier: str | None = None) -> dict:
    """The depots inside ``region_code`` (default: the user's jurisdiction) with their warnings
    and the dispatches waiting at each, and the depots the user manages. A malformed region
    code lists every depot and is returned as ``refusal`` for the page to show."""
    allow(user, "depot.view")
    region_code = region_code or _home_region(user)
    refusal = None
    try:
        stmt = depots_query(region_code, tier=tier or None)
    except Invalid as exc:
        refusal, stmt = exc, depots_query(None, tier=tier or None)
    depots = db.session.scalars(stmt.limit(500)).all()
    mine = managed_depots(user)
    pending = dict(db.session.execute(
        select(Dispatch.from_depot_code, func.count()).where(Dispatch.status.in_(WAITING_STATUSES))
        .group_by(Dispatch.from_depot_code)).all())
    return {"depots": depots, "mine": mine, "warnings": stock_warnings([d.code for d in {*depots, *mine}]),
            "pending": pending, "tiers": TIERS, "region_code": region_code or "", "tier": tier or "",
            "refusal": refusal}


def depot_page(user, depot_code: str) -> dict:
    """A depot: its stock, the dispatches it has to approve, ship or see arrive, and the actions
    the user may take there."""
    allow(user, "depot.view")
    depot = get_depot(depot_code)
    dispatches = db.session.scalars(select(Dispatch).where(
        Dispatch.from_depot_code == depot.code, Dispatch.status.in_(("requested", "approved", "shipped")))
        .order_by(Dispatch.id)).all()
    owed = db.session.scalars(replenishments_query(None, status="open", depot=depot.code)).all()
    return {"depot": depot, "region": db.session.get(Region, depot.region_code), "stock": levels(depot.code),
            "dispatches": dispatches, "actions": depot_actions(user, depot), "tiers": TIERS, "today": today(),
            "item_choices": item_choices(), "area": area_check(depot),
            "owed": [obligation_dict(r) for r in owed], "item_names": {i.code: i.name for i in list_items()},
            "region_names": region_names({d.to_region_code for d in dispatches})}


def ledger_page(user, depot_code: str, item: str | None = None, page_no: int = 1) -> dict:
    """One page of a depot's ledger (of one item, or all)."""
    allow(user, "depot.view")
    depot = get_depot(depot_code)
    stmt = ledger_query(depot.code, item)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(LEDGER_PAGE).offset((page_no - 1) * LEDGER_PAGE)).all()
    return {"depot": depot, "rows": rows, "item": item or "", "items": item_choices(), "kinds": MOVEMENT_KINDS,
            "total": total, "page_no": page_no, "pages": max((total + LEDGER_PAGE - 1) // LEDGER_PAGE, 1)}


def dispatch_list(user, status: str | None = None, depot: str | None = None) -> dict:
    """The dispatches a user sees (of a status, from a depot), the depots they may request
    from (those of their jurisdiction and those they manage) and whether they may request."""
    allow(user, "depot.view")
    visible = db.session.scalars(depots_query(_home_region(user), active_only=True)).all()
    rows = db.session.scalars(dispatches_query(user, status=status, depot=depot).limit(LIST_ROWS)).all()
    return {"rows": rows, **_names_of_rows(rows, []), "depot_choices": sorted((d.code, named(d.name, d.code))
                                                  for d in {*visible, *managed_depots(user)}),
            "items": list_items(), "statuses": DISPATCH_MACHINE.labels, "status": status or "",
            "can_request": can(user, "dispatch.request"), "stock": stock_by_item(),
            "event_choices": event_choices(user)}


def dispatch_page(user, dispatch_id: int) -> dict:
    """A dispatch the user may read, with the lots taken and the steps the user may take."""
    dispatch = dispatch_for(user, dispatch_id)
    actions = depot_actions(user, dispatch.from_depot)
    actions["receive_goods"] = can(user, "dispatch.receive", dispatch.to_region_code)
    return {"dispatch": dispatch, "detail": dispatch_detail(dispatch), "actions": actions,
            "allowed": DISPATCH_MACHINE.allowed(dispatch.status),
            "region": db.session.get(Region, dispatch.to_region_code), "items": {i.code: i for i in list_items()}}


def supply_request_list(user, status: str | None = None) -> dict:
    allow(user, "depot.view")
    rows = db.session.scalars(supply_requests_query(user, status=status).limit(LIST_ROWS)).all()
    home = db.session.get(Region, user.region_code) if user is not None else None
    return {"rows": rows, **_names_of_rows([], rows), "items": list_items(), "statuses": SUPPLY_REQUEST_MACHINE.labels,
            "status": status or "",
            "can_raise": can(user, "supply_request.raise"), "stock": stock_by_item(),
            "event_choices": event_choices(user),
            "home_label": named(home.name, home.code) if home is not None and home.code != codes.NATIONAL else ""}


def supply_request_page(user, request_id: int) -> dict:
    """A supply request the user may read, with its trail up the tiers; for a coordinator of
    the addressed level, the depots of that level with their available stock and whether they
    may forward it to the next level up."""
    made = supply_request_for(user, request_id)
    level = made.addressee_code
    can_fill = can(user, "supply_request.fill", level)
    depots = []
    if can_fill:
        stmt = depots_query(None if made.to_central else made.to_region_code, active_only=True)
        depots = [d for d in db.session.scalars(stmt) if serves_level(d, made)]
    stock = depot_stock_table(region_code=None if made.to_central else made.to_region_code) if can_fill else []
    step_levels = {c for step in made.steps for c in (step.level_code, step.to_level_code) if c}
    names = region_names({made.from_region_code, made.to_region_code, *step_levels} - {codes.NATIONAL})
    names[codes.NATIONAL] = "中央"
    trail_depots = {line["from_depot"] for step in made.steps for line in (step.lines or []) if line.get("from_depot")}
    depot_names = dict(db.session.execute(select(Depot.code, Depot.name).where(Depot.code.in_(trail_depots))).all()) \
        if trail_depots else {}
    return {"req": made, "depot_names": depot_names, "body": made.to_dict(), "can_fill": can_fill, "depots": depots,
            "stock": {row["code"]: row["stock"] for row in stock}, "items": {i.code: i for i in list_items()},
            "names": names, "level": level, "level_name": names.get(level, level),
            "can_forward": can(user, "supply_request.forward", level) and not made.to_central,
            "allowed": SUPPLY_REQUEST_MACHINE.allowed(made.status)}


def home_panel(user) -> dict | None:
    """For depot managers: their depots with warnings and dispatches waiting for them; for
    coordinators: supply requests addressed to their level and dispatches awaiting approval."""
    if not can(user, "depot.view"):
        return None
    if user.role == "depot_manager":
        return _manager_panel(user)
    if user.role == "coordinator":
        return _coordinator_panel(user)
    return None


def _manager_panel(user) -> dict:
    depots = managed_depots(user)
    if not depots:
        return {"template": "depots/_home_panel.html", "depots": [], "warnings": {}, "waiting": [], "requests": []}
    depot_codes = [d.code for d in depots]
    waiting = db.session.scalars(select(Dispatch).where(
        Dispatch.from_depot_code.in_(depot_codes), Dispatch.status.in_(WAITING_STATUSES))
        .order_by(Dispatch.id)).all()
    return {"template": "depots/_home_panel.html", "depots": depots,
            "warnings": stock_warnings(depot_codes), "waiting": waiting, "requests": [],
            **_names_of_rows(waiting, [])}


def _coordinator_panel(user) -> dict | None:
    prefix = codes.prefix_of(user.region_code) + "%"
    requests = db.session.scalars(select(SupplyRequest).where(
        SupplyRequest.status.in_(("open", "in_progress")), SupplyRequest.to_region_code.like(prefix))
        .order_by(SupplyRequest.id)).all()
    waiting = db.session.scalars(dispatches_query(user, status="requested").limit(20)).all()
    if not requests and not waiting:
        return None
    return {"template": "depots/_home_panel.html", "depots": [], "warnings": {}, "waiting": waiting,
            "requests": requests, **_names_of_rows(waiting, requests)}


def _names_of_rows(dispatches, requests) -> dict:
    """The names a list of dispatches and supply requests shows where its rows hold codes."""
    depot_codes = {d.from_depot_code for d in dispatches}
    depot_names = dict(db.session.execute(select(Depot.code, Depot.name).where(Depot.code.in_(depot_codes))).all()) \
        if depot_codes else {}
    regions = {d.to_region_code for d in dispatches} | {r.from_region_code for r in requests} | \
        {r.to_region_code for r in requests}
    return {"depot_names": depot_names, "region_names": region_names(regions)}
