"""Pages of releases: the staff's list, drafting, preview, approval; and the public pages
(``/public/…``, no sign-in): the list, a bulletin, the Atom feed, GeoJSON and CAP.

Thin: each route calls one service function with the user first."""
from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import pages
from ..errors import ServiceError
from . import public, service

bp = Blueprint("releases", __name__, url_prefix="/releases")
public_bp = Blueprint("public", __name__, url_prefix="/public")


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    if request.method == "POST":
        with pages.refusals_flashed():
            row = service.draft_release(current_user, request.form)
            flash(_("已起草第 %(v)s 期通报，请预览并请另一位协调员审核发布。", v=row.version), "success")
            return redirect(url_for("releases.detail", release_id=row.id))
    return render_template("releases/index.html", **service.releases_page(current_user))


@bp.get("/<int:release_id>")
@login_required
def detail(release_id: int):
    return render_template("releases/detail.html", **service.release_page(current_user, release_id))


@bp.post("/<int:release_id>/approve")
@login_required
def approve(release_id: int):
    with pages.refusals_flashed(refusals=(ServiceError,)):  # "not your own draft" is told on the page
        service.approve_release(current_user, release_id)
        flash(_("通报已发布，公众可在发布页面查看。"), "success")
    return redirect(url_for("releases.detail", release_id=release_id))


@bp.post("/<int:release_id>/discard")
@login_required
def discard(release_id: int):
    with pages.refusals_flashed():
        service.discard_release(current_user, release_id)
        flash(_("草稿已放弃。"), "info")
    return redirect(url_for("releases.detail", release_id=release_id))


# --- Public ------------------------------------------------------------------------------------

@public_bp.get("/")
def public_index():
    return render_template("releases/public_index.html", **public.index_page())


@public_bp.get("/releases/<int:release_id>")
def public_release(release_id: int):
    return render_template("releases/public_release.html", **public.release_view(release_id))


@public_bp.get("/releases.atom")
def feed():
    body = render_template("releases/feed.atom", **public.index_page())
    return Response(body, mimetype="application/atom+xml")


@public_bp.get("/releases/<int:release_id>.geojson")
def release_geojson(release_id: int):
    return Response(json.dumps(public.geojson(release_id), ensure_ascii=False),
                    mimetype="application/geo+json")


@public_bp.get("/releases/<int:release_id>/cap.xml")
def release_cap(release_id: int):
    return Response(public.cap_alert(release_id), mimetype="application/cap+xml")
