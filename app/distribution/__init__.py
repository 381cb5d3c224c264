"""Distribution to households (发放签领): goods of a received dispatch are taken in at a
distribution point (a village or a shelter), handed to households of the registry or to people
registered on the spot, each hand-out signed for (a signature drawn on the phone, or a photo);
what was not handed out goes back to its depot. A point's stock is an append-only ledger like a
depot's, each line naming the dispatch its units came with. No other area reads this one.
"""
from __future__ import annotations

from flask import Flask

__all__ = ["register"]


def register(app: Flask) -> None:
    from . import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="distribution_api")
