"""Loss reporting (灾情报送): events, initial/update/verified reports, roll-up and deadlines.

Other areas read the tables and helpers named in ``__all__`` (and nothing else of this package);
its services are in :mod:`app.reports.service`, one module per subject.
"""
from __future__ import annotations

from flask import Flask

from .indicators import BY_FIELD, FIELDS
from .models import EVENT_MACHINE, HAZARDS, Event, LossReport, ReportPhoto
from .rollup import total_for
from .service import event_covers, event_unit, get_event, import_reports, reopen_final_when, visible_events
from .signals import report_submitted
from .totals import event_totals, parent_lookup

__all__ = ['BY_FIELD', 'EVENT_MACHINE', 'Event', 'FIELDS', 'HAZARDS', 'LossReport', 'ReportPhoto', 'event_covers', 'event_totals', 'event_unit', 'get_event', 'import_reports', 'parent_lookup', 'register', 'reopen_final_when', 'report_submitted', 'total_for', 'visible_events']

def register(app: Flask) -> None:
    # imported when an application registers the area: reading its tables and helpers (other
    # areas, the scheduler's jobs) does not build its pages
    from . import api, cli, views

    app.register_blueprint(views.bp)
    app.cli.add_command(cli.reports_cli)
    app.register_blueprint(api.bp, name="reports_api")
