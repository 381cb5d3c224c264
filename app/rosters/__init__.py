"""Statistics rosters and review upward (统计名册与逐级审核): the roster of the dead and missing
(因灾死亡失踪人口一览表) and of collapsed and damaged houses (因灾倒塌损坏住房户一览表), each held
against the unit's reported figures, and the level above accepting or returning each unit's
report (审核/退回), as ``domain.md`` §3a has it.

Other areas read the tables and counts named in ``__all__`` (the condolence payment reads the
roster of the dead; the 公安 department account checks the missing through
:func:`missing_persons` and :func:`verify_missing`; the cycles hear of status changes through
:func:`when_status_changes`); its services are in :mod:`app.rosters.service`.
"""
from __future__ import annotations

from flask import Flask

from .models import Casualty, DamagedHouse, ReportReview
from .service import roster_counts
from .service.casualties import when_status_changes
from .service.verification import OUTCOMES, VERIFY_FIELDS, missing_persons, verify_missing

__all__ = ["Casualty", "DamagedHouse", "OUTCOMES", "ReportReview", "VERIFY_FIELDS", "missing_persons", "register",
           "roster_counts", "verify_missing", "when_status_changes"]


def register(app: Flask) -> None:
    from ..reports import reopen_final_when
    from . import api, views
    from .service.review import final_returned

    reopen_final_when(final_returned)  # a returned 核报 takes a corrected one
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="rosters_api")
