"""Relief cycles (救助周期): households, transitional, winter-spring, reconstruction, condolence
and drought relief, with rolls, public notices, payments and funds kept apart.

Only the public complaints (:mod:`app.complaints`) call the cycles, to hold a household's
payments while a complaint about it is open, and the departments (:mod:`app.departments`), to
read households and record house-safety appraisals, and the distribution points
(:mod:`app.distribution`), to hand out to the registry's households (``households_brief``, the
identity-number checker); the shell reaches them through :mod:`app.areas` (pages, home
panel, demo step) and :mod:`app.jobs` (the scheduled jobs in :mod:`app.cycles.jobs`).
"""
from __future__ import annotations

from flask import Flask

from . import api, views
from .rules import DAMAGE_CLASSES
from .service.complaints import hold_household, household_choices, release_holds
from .idcard import IdNumberError, mask_id
from .idcard import normalise as normalise_id_number
from .service.sharing import household_region, household_rows, households_brief, set_damage_class

#: what the public complaints (app.complaints) and the departments (app.departments) call once
#: they have checked permission
__all__ = ["DAMAGE_CLASSES", "IdNumberError", "hold_household", "household_choices", "household_region",
           "household_rows", "households_brief", "mask_id", "normalise_id_number", "register", "release_holds",
           "set_damage_class"]


def register(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="cycles_api")
