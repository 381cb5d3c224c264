"""What the home page and the health check need: the user's region, the areas' home panels
(:mod:`app.areas`) and whether the database answers."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import text

from .. import areas, regions
from ..extensions import db


def home(user) -> dict:
    """The home page: the user's region and the panels the areas show them, in area order
    (each provider returns a dict rendered by its ``template``, or ``None``)."""
    panels = []
    for area in areas.AREAS:
        if area.home_panel:
            panel = areas.resolve(area.home_panel)(user)
            if panel:
                panels.append(panel)
    return {"region": regions.find_region(user.region_code), "panels": panels}


def health() -> tuple[dict, int]:
    """The load balancer's check: ``SELECT 1`` on the database."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # the point of a health check is to report, not to raise
        current_app.logger.warning("health check failed: %s", exc)
        db.session.rollback()
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok", "engine": db.engine.dialect.name}, 200
