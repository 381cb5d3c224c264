"""Forecast (预判): a hazard footprint over the villages before the reports arrive; the exposure
estimate, the plans evaluated on it and a pre-positioning proposal, all marked forecast and
never mixed with reported figures. The pure estimate is :func:`gis.village_exposure`.

The map reads :func:`has_footprint` (whether to draw the forecast layer for a user)."""
from __future__ import annotations

from flask import Flask

from .service import has_footprint

__all__ = ["has_footprint", "register"]


def register(app: Flask) -> None:
    from . import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="forecast_api")
