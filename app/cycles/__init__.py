"""Relief cycles (救助周期): households, transitional, winter-spring, reconstruction, condolence
and drought relief, with rolls, public notices, payments and funds kept apart.

Only the public complaints (:mod:`app.complaints`) call the cycles, to hold a household's
payments while a complaint about it is open, and the departments (:mod:`app.departments`), to
read households and record house-safety appraisals, the distribution points
(:mod:`app.distribution`), to hand out to the registry's households (``households_brief``, the
identity-number checker), and the relief-work table (:mod:`app.relief`), to read the money of an
event's cycles by source (:func:`event_money`); the shell reaches them through :mod:`app.areas` (pages, home
panel, demo step) and :mod:`app.jobs` (the scheduled jobs in :mod:`app.cycles.jobs`).
"""
from __future__ import annotations

from flask import Flask

from . import api, views
from .models.funds import FUND_LEVELS
from .rules import DAMAGE_CLASSES
from .service.complaints import hold_household, household_choices, release_holds
from ..idcard import IdNumberError, mask_id
from ..idcard import normalise as normalise_id_number
from .service.relief_work import event_money, event_money_by_region
from .service.sharing import household_region, household_rows, households_brief, set_damage_class

#: what the public complaints (app.complaints), the departments (app.departments), the
#: distribution points and the relief-work table call once they have checked permission
__all__ = ["DAMAGE_CLASSES", "FUND_LEVELS", "IdNumberError", "event_money", "event_money_by_region", "hold_household", "household_choices",
           "household_region", "household_rows", "households_brief", "mask_id", "normalise_id_number", "register",
           "release_holds", "set_damage_class"]


def register(app: Flask) -> None:
    from ..rosters import when_status_changes
    from . import condolence_views
    from .service.condolence import on_casualty_change

    when_status_changes(on_casualty_change)  # a person recorded dead found alive
    app.register_blueprint(views.bp)
    app.register_blueprint(condolence_views.bp)
    app.register_blueprint(api.bp, name="cycles_api")
