"""Relief cycles (救助周期): households, transitional, winter-spring, reconstruction, condolence
and drought relief, with rolls, public notices, payments and funds kept apart.

No other area reads the cycles; the shell reaches them through :mod:`app.areas` (pages, home
panel, demo step) and :mod:`app.jobs` (the scheduled jobs in :mod:`app.cycles.jobs`).
"""
from __future__ import annotations

from flask import Flask

from . import api, views

__all__ = ["register"]


def register(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="cycles_api")
