"""Relief work (救灾工作情况统计快报表, ``domain.md`` §3a): for each unit of an event, the people
relocated (from the reports), the money received and paid by source (from the cycles), the goods
dispatched, signed for and handed out by item (from the depots; hand-outs join at
:func:`app.relief.service.sources.handed_out_goods`), and what the unit types in (rescuers,
equipment, people sheltered together or dispersed); a page, a JSON API and the national Excel
layout. It reads the other areas only through their ``__init__``; nothing reads it.
"""
from __future__ import annotations

from flask import Flask

from .models import ReliefWorkEntry

__all__ = ["ReliefWorkEntry", "register"]


def register(app: Flask) -> None:
    from . import api, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="relief_api")
