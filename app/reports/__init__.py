"""Loss reporting (灾情报送): events, initial/update/verified reports, roll-up and deadlines."""
from __future__ import annotations

from flask import Flask

from .indicators import BY_FIELD, FIELDS
from .models import EVENT_MACHINE, HAZARDS, Event, LossReport
from .rollup import total_for
from .service import get_event, visible_events
from .signals import report_submitted
from .totals import event_totals, parent_lookup

__all__ = ['BY_FIELD', 'EVENT_MACHINE', 'Event', 'FIELDS', 'HAZARDS', 'LossReport', 'event_totals', 'get_event', 'parent_lookup', 'register', 'report_submitted', 'total_for', 'visible_events']

def register(app: Flask) -> None:
    from . import api, views  # both import .models, which declares the tables

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="reports_api")
