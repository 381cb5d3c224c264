"""Distribution to households (发放签领): goods of a received dispatch are taken in at a
distribution point (a village or a shelter), handed to households of the registry or to people
registered on the spot, each hand-out signed for (a signature drawn on the phone, or a photo);
what was not handed out goes back to its depot. A point's stock is an append-only ledger like a
depot's, each line naming the dispatch its units came with. The relief-work table
(:mod:`app.relief`) reads what was handed out through :func:`handed_out_by_item`.
"""
from __future__ import annotations

from flask import Flask

from .service.totals import handed_out_by_item, handed_out_by_region

__all__ = ["handed_out_by_item", "handed_out_by_region", "register"]


def register(app: Flask) -> None:
    from . import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="distribution_api")
