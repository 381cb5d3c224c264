"""Relief cycles (救助周期): households, transitional, winter-spring, reconstruction, condolence
and drought relief, with rolls, public notices, payments and funds kept apart."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from . import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="cycles_api")
