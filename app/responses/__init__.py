"""Response levels (应急响应): contingency plans as data, assessments recomputed on every loss
report, coordinators' decisions with their plan version, 上下级衔接 and notifications.

Other areas read the responses in force of an event (:func:`active_responses`, the dashboard's
choropleth) and evaluate the plans on figures of their own (:func:`evaluate_event` with
``totals``: the forecast area's estimate) once they have checked permission themselves."""
from __future__ import annotations

from flask import Flask

from ..reports import report_submitted
from .service import active_responses, evaluate_event, on_report_submitted

__all__ = ['active_responses', 'evaluate_event', 'register']


def register(app: Flask) -> None:
    from . import api, views  # the pages and the API load when the area is registered, as in every area

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="responses_api")
    # A module-level receiver: connecting it again for another app is a no-op.
    report_submitted.connect(on_report_submitted)

    @app.context_processor
    def _response_globals():
        return {"response_panels": views.response_panels}
