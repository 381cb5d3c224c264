"""Response levels (应急响应): contingency plans as data, assessments recomputed on every loss
report, coordinators' decisions with their plan version, 上下级衔接 and notifications."""
from __future__ import annotations

from flask import Flask

from .service import active_responses

__all__ = ['active_responses', 'register']


def register(app: Flask) -> None:
    from ..reports import report_submitted
    from . import api, models, service, views  # noqa: F401  (models: tables)

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="responses_api")
    # A module-level receiver: connecting it again for another app is a no-op.
    report_submitted.connect(service.on_report_submitted)

    @app.context_processor
    def _response_globals():
        return {"response_panels": views.response_panels}
