from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from ..permissions import require
from . import service
from .models import Region

bp = Blueprint("regions", __name__, url_prefix="/regions")


@bp.get("/")
@bp.get("/<code>")
@login_required
def browse(code: str | None = None):
    require(current_user, "region.view")
    if code is None:
        provinces = db.session.scalars(select(Region).where(Region.level == "province")
                                       .order_by(Region.code)).all()
        return render_template("regions/browse.html", region=None, children=provinces, trail=[])
    region = service.get_region(code)
    children = db.session.scalars(service.children_query(code).limit(2000)).all()
    trail = []
    parent = region.parent_code
    while parent:
        row = db.session.get(Region, parent)
        if row is None:
            break
        trail.insert(0, row)
        parent = row.parent_code
    return render_template("regions/browse.html", region=region, children=children, trail=trail)
