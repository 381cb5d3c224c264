"""The depots service (救灾物资), by subject: the catalogue and demand norms (:mod:`.catalogue`),
depots and their managers and reserve floors (:mod:`.depots`), stock movements and the book that
posts them (:mod:`.stock`, :mod:`.book`), reading stock and the ledger (:mod:`.levels`), dispatch
orders (:mod:`.dispatches`, :mod:`.dispatch_steps`), demand and allocation (:mod:`.demand`),
supply requests (:mod:`.supply_requests`), warnings (:mod:`.warnings`), what each page shows
(:mod:`.screens`) and the Excel exports (:mod:`.exports`).

Every function a page or the API calls takes the user first and checks permission first (reads
too); it validates its input by its operation's ``Field`` s (``RECEIPT_FIELDS`` …, the very
sets the API documents), a JSON body or a posted page form alike, gathering every error into
one 422; it runs one transaction and writes the audit log. ``user=None`` is the system (demo,
CLI): no permission check. The stock-moving functions keep one lock order (:mod:`.book`).
"""
from __future__ import annotations

from .allocation import ACCEPT_FIELDS, accept_plan, allocation_page, open_demand
from .book import Book
from .catalogue import (NORMS_FIELDS, ensure_catalogue, ensure_default_norms, items_for, list_items,
                        norms_as_dicts, norms_for, norms_of_region, set_norms)
from .common import get_depot, get_dispatch, get_supply_request, today
from .demand import PLAN_FIELDS, allocation_plan, event_demand, needs_allocation
from .depots import (DEPOT_FIELDS, DEPOT_UPDATE_FIELDS, MANAGER_FIELDS, RESERVE_FIELDS, assign_manager,
                     create_depot, depot_for, depots_for, remove_manager, set_reserve, update_depot)
from .dispatch_steps import (CANCEL_FIELDS, RECEIVE_FIELDS, SHIP_FIELDS, approve_dispatch, cancel_dispatch,
                             receive_dispatch, ship_dispatch)
from .dispatches import (DISPATCH_FIELDS, create_dispatch, dispatch_detail, dispatch_for, dispatches_for,
                         dispatches_in_transit)
from .exports import depot_stock_workbook, dispatch_workbook, region_stock_workbook
from .inputs import MAX_QUANTITY
from .pickers import destinations, event_choices, stock_by_item
from .levels import LedgerMismatch, check_ledger, depot_stock_table, ledger_for, stock_levels
from .screens import (depot_index, depot_page, dispatch_list, dispatch_page, home_panel, ledger_page,
                      supply_request_list, supply_request_page)
from .stock import (ADJUSTMENT_FIELDS, RECEIPT_FIELDS, WRITEOFF_FIELDS, post_adjustment, post_receipt,
                    post_writeoff, receive_stock)
from .supply_requests import (FILL_FIELDS, FORWARD_FIELDS, REJECT_FIELDS, SUPPLY_FIELDS, fill_supply_request,
                              forward_supply_request, level_name, raise_supply_request, reject_supply_request,
                              supply_request_for, supply_requests_for)
from .replenishment import (AREA_VERDICTS, HORIZONS, REPLENISH_FIELDS, ROTATION_ACTIONS, area_check,
                            area_standard_for, obligation_dict, replenish, replenishment_for, replenishments_for,
                            replenishments_page, rotation_page, rotation_proposals)
from .warnings import stock_warnings

__all__ = [
    "ACCEPT_FIELDS", "accept_plan", "allocation_page", "destinations", "event_choices", "open_demand",
    "stock_by_item", "ADJUSTMENT_FIELDS", "Book", "CANCEL_FIELDS", "DEPOT_FIELDS", "DEPOT_UPDATE_FIELDS", "DISPATCH_FIELDS",
    "FILL_FIELDS", "LedgerMismatch", "MANAGER_FIELDS", "MAX_QUANTITY", "NORMS_FIELDS", "PLAN_FIELDS",
    "RECEIPT_FIELDS", "RECEIVE_FIELDS", "REJECT_FIELDS", "RESERVE_FIELDS", "SHIP_FIELDS", "SUPPLY_FIELDS",
    "WRITEOFF_FIELDS", "allocation_plan", "approve_dispatch", "assign_manager", "cancel_dispatch",
    "check_ledger", "create_depot", "create_dispatch", "depot_for", "depot_index", "depot_page",
    "depot_stock_table", "depot_stock_workbook", "depots_for", "dispatch_detail", "dispatch_for",
    "dispatch_list", "dispatch_page", "dispatch_workbook", "dispatches_for", "dispatches_in_transit",
    "ensure_catalogue", "ensure_default_norms", "event_demand", "fill_supply_request", "needs_allocation", "get_depot",
    "get_dispatch", "get_supply_request", "home_panel", "items_for", "ledger_for", "ledger_page", "list_items",
    "norms_as_dicts", "norms_for", "norms_of_region", "post_adjustment", "post_receipt", "post_writeoff",
    "raise_supply_request", "receive_dispatch", "receive_stock", "region_stock_workbook", "reject_supply_request",
    "remove_manager", "set_norms", "set_reserve", "ship_dispatch", "stock_levels", "stock_warnings",
    "supply_request_for", "supply_request_list", "supply_request_page", "supply_requests_for", "today",
    "update_depot",
    "AREA_VERDICTS", "FORWARD_FIELDS", "HORIZONS", "REPLENISH_FIELDS", "ROTATION_ACTIONS", "area_check",
    "area_standard_for", "forward_supply_request", "level_name", "obligation_dict", "replenish",
    "replenishment_for", "replenishments_for", "replenishments_page", "rotation_page", "rotation_proposals",
]
