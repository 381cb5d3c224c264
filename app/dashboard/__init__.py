"""The map dashboard (灾情地图): affected villages against depots, the nearest stocked depot,
coverage gaps and dispatches in transit; folium pages fed by GeoJSON endpoints (API.md, GIS).
No other area uses it: its public surface is :func:`register`."""
from __future__ import annotations

from flask import Flask

__all__ = ["register"]


def register(app: Flask) -> None:
    from . import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="dashboard_api")
