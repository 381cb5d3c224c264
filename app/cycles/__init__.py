"""Relief cycles (救助周期): households, transitional, winter-spring, reconstruction, condolence
and drought relief, with rolls, public notices, payments and funds kept apart; and the
scheduler commands (``flask --app wsgi scheduler run | run-due``)."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from .. import scheduler
    from . import config, models  # noqa: F401  (tables)

    config.apply(app)
    from . import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="cycles_api")
    scheduler.init_app(app)
