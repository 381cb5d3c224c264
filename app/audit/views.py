from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from ..extensions import db
from . import service
from .api import filters_from_args

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@login_required
def index():
    stmt = service.search(current_user, **filters_from_args())
    entries = db.session.scalars(stmt.limit(200)).all()
    return render_template("audit/index.html", entries=entries, args=request.args)
