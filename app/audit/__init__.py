"""Audit log (审计日志): every create, update and state change, append-only."""
from __future__ import annotations

from flask import Flask

from .service import record  # the one way to write the log

__all__ = ["record", "register"]


def register(app: Flask) -> None:
    from . import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="audit_api")
