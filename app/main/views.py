"""The home page (首页) with each area's panel, the help page and the health check."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, send_from_directory
from flask_login import current_user, login_required

from ..permissions import ROLE_LABELS
from . import service

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def index():
    return render_template("main/index.html", role_name=ROLE_LABELS[current_user.role],
                           **service.home(current_user))


@bp.get("/healthz")
def healthz():
    body, status = service.health()
    return jsonify(body), status


@bp.get("/help")
def help_page():
    return render_template("main/help.html")


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for it on every page; the page itself links the SVG."""
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=86400)
