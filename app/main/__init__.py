"""Home page (首页) and health check."""
from __future__ import annotations

from flask import Flask

__all__ = ["register"]


def register(app: Flask) -> None:
    from . import views

    app.register_blueprint(views.bp)
