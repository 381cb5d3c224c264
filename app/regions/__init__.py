"""Regions (行政区划): the administrative geography every other area hangs on."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from . import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="regions_api")
