"""Forecast (预判): a hazard footprint over the villages before the reports arrive; the exposure
estimate, the plans evaluated on it and a pre-positioning proposal, all marked forecast and
never mixed with reported figures. The pure estimate is :func:`gis.village_exposure`.

No other area uses it: its public surface is :func:`register`."""
from __future__ import annotations

from flask import Flask

__all__ = ["register"]


def register(app: Flask) -> None:
    from . import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="forecast_api")
