"""Relief materials (救灾物资): catalogue and norms, depots, the stock ledger, demand,
allocation, dispatch orders (调拨单) and supply requests (申请). The pure rules live in
:mod:`stockpile`; this area stores them and serves them.

Other areas read the names below. ``list_items``, ``depot_stock_table`` and
``dispatches_in_transit`` take no user: they are for other areas' services that checked
permission themselves (the dashboard checks ``dashboard.view``; ``needs_allocation`` proposes
an allocation for estimated figures, after the forecast area checked ``forecast.view``); this area's own pages and API
use the variants that take the user (``items_for`` …, in :mod:`.service`). The distribution
points (:mod:`app.distribution`) take in received dispatches and return what they did not hand
out through ``received_dispatch``, ``received_dispatches`` and ``return_to_depot``; ``event_goods``
(goods dispatched and signed for, by item) is for the relief-work table (:mod:`app.relief`);
``received_demo_dispatch`` gives the demo's distribution point goods to take in.
"""
from __future__ import annotations

from flask import Flask

from . import api, cli, views
from .models import TIERS, Item
from .service import PLAN_FIELDS, depot_stock_table, dispatches_in_transit, list_items, needs_allocation
from .service.handover import received_dispatch, received_dispatches, return_to_depot
from .service.relief_work import event_goods, event_goods_by_region
from .demo import received_demo_dispatch

__all__ = ['Item', 'PLAN_FIELDS', 'TIERS', 'depot_stock_table', 'dispatches_in_transit', 'event_goods', 'event_goods_by_region', 'list_items',
           'needs_allocation', 'received_demo_dispatch', 'received_dispatch', 'received_dispatches', 'register', 'return_to_depot']


def register(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="depots_api")
    app.cli.add_command(cli.depots_cli)
