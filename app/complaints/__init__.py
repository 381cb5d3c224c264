"""Complaints and tips from the public (投诉举报, domain.md §3b): a public form and ticket
tracking under ``/public/complaints`` (no sign-in), the county's handling pages, deadlines and
escalation (:mod:`app.complaints.jobs`); a complaint about a household holds its payments through
:func:`app.cycles.hold_household` until it is answered.

No other area reads the complaints."""
from __future__ import annotations

from flask import Flask

__all__ = ["register"]


def register(app: Flask) -> None:
    from . import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="complaints_api")
