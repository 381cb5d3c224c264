"""Pages of complaints: the public form and tracking (no sign-in, the form throttled by address),
and the county's list and handling page. Thin: one service call per route."""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import pages
from ..errors import NotFound
from ..extensions import limiter
from ..uploads import upload_limit
from . import service
from .models import KINDS, PROGRAMMES, SUBJECTS

bp = Blueprint("complaints", __name__)


def home_panel(user) -> dict | None:
    """The complaints panel of the home page (:mod:`app.areas`)."""
    return service.home_panel(user)


def _rate() -> str:
    return current_app.config["COMPLAINT_RATE_LIMIT"]


@bp.route("/public/complaints/new", methods=["GET", "POST"])
@limiter.limit(_rate, methods=["POST"])
@upload_limit("COMPLAINT_UPLOAD_MAX_BYTES", field="photos")
def public_form():
    if request.method == "POST":
        with pages.refusals_flashed():
            row = service.file_complaint(request.form, request.files.getlist("photos"))
            return redirect(url_for("complaints.public_track", ticket=row.ticket, new=1))
    return render_template("complaints/public_form.html", counties=service.county_choices(),
                           kinds=KINDS, subjects=SUBJECTS, programmes=PROGRAMMES, form=request.form)


@bp.get("/public/complaints/track")
def public_track():
    found, missing = None, False
    with pages.refusals_flashed():
        try:
            found = service.track(request.args)
        except NotFound as exc:
            missing = exc.detail
    return render_template("complaints/public_track.html", found=found, missing=missing,
                           ticket=request.args.get("ticket", ""), new=request.args.get("new") == "1")


@bp.get("/complaints/")
@login_required
def index():
    return render_template("complaints/index.html",
                           **service.complaints_page(current_user, request.args.get("status")))


@bp.get("/complaints/<int:complaint_id>")
@login_required
def detail(complaint_id: int):
    return render_template("complaints/detail.html", **service.complaint_page(current_user, complaint_id))


@bp.post("/complaints/<int:complaint_id>/household")
@login_required
def link(complaint_id: int):
    with pages.refusals_flashed():
        service.link_household(current_user, complaint_id, request.form)
        flash(_("已关联受灾户：答复前暂停向该户发放。"), "success")
    return redirect(url_for("complaints.detail", complaint_id=complaint_id))


@bp.post("/complaints/<int:complaint_id>/answer")
@login_required
def answer(complaint_id: int):
    with pages.refusals_flashed():
        service.answer_complaint(current_user, complaint_id, request.form)
        flash(_("已答复，投诉人可凭受理编号查看。"), "success")
    return redirect(url_for("complaints.detail", complaint_id=complaint_id))


@bp.get("/complaints/<int:complaint_id>/photos/<int:photo_id>")
@login_required
def photo(complaint_id: int, photo_id: int):
    content, row = service.photo_of(current_user, complaint_id, photo_id)
    return send_file(BytesIO(content), mimetype=row.content_type, download_name=f"photo-{row.id}")
