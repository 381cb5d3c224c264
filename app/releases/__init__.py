"""Public release (统一发布, domain.md §3b): bulletins of an event's reviewed figures, drafted,
previewed, approved by another user and corrected by later releases; the public pages, Atom
feed, GeoJSON and CAP 1.2 alerts under ``/public`` need no sign-in and show approved releases
only.

No other area reads the releases."""
from __future__ import annotations

from flask import Flask

__all__ = ["register"]


def register(app: Flask) -> None:
    from . import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(views.public_bp)
    app.register_blueprint(api.bp, name="releases_api")
