"""Distribution pages (发放签领): the points, one point (stock, taking in a dispatch, returns,
rounds), the clerk's hand-out page for a phone (works offline: ``handout.js`` queues hand-outs
in IndexedDB and sends them through the JSON API under their Idempotency-Key) and the report."""
from __future__ import annotations

import io

from flask import Blueprint, jsonify, render_template, request, send_file, url_for
from flask_babel import gettext as t
from flask_login import current_user, login_required

from ..api import XLSX
from ..models_common import utcnow
from ..pages import perform, service_worker_script
from . import service

bp = Blueprint("distribution", __name__, url_prefix="/distribution")


@bp.get("/")
@login_required
def index():
    return render_template("distribution/index.html", **service.index_page(current_user))


@bp.get("/places")
@login_required
def places():
    """The form's picker: townships and villages of the user's jurisdiction by name or code."""
    return jsonify(service.places(current_user, request.args.get("q")))


@bp.post("/points")
@login_required
def create_point():
    return perform(lambda: service.create_point_from_form(current_user, request.form),
                   lambda point: t("已设立发放点「%(name)s」。", name=point.name), url_for("distribution.index"))


@bp.get("/points/<int:point_id>")
@login_required
def point(point_id: int):
    return render_template("distribution/point.html", **service.point_page(current_user, point_id))


@bp.post("/points/<int:point_id>/receipts")
@login_required
def receive(point_id: int):
    return perform(lambda: service.receive_goods(current_user, point_id, request.form), lambda made: t("已接收 %(n)s 行物资。", n=len(made)),
        url_for("distribution.point", point_id=point_id))


@bp.post("/points/<int:point_id>/returns")
@login_required
def return_goods(point_id: int):
    return perform(lambda: service.return_from_form(current_user, point_id, request.form),
                   lambda row: t("已退回物资库（退回单 #%(id)s）。", id=row.id),
                   url_for("distribution.point", point_id=point_id))


@bp.post("/points/<int:point_id>/rounds")
@login_required
def open_round(point_id: int):
    return perform(lambda: service.open_round(current_user, point_id, request.form),
                   lambda row: t("已开启第 %(n)s 轮发放。", n=row.number),
                   url_for("distribution.point", point_id=point_id))


@bp.get("/points/<int:point_id>/handout")
@login_required
def handout(point_id: int):
    page = service.handout_page(current_user, point_id)
    config = {"pointId": point_id, "round": page["round"], "households": page["households"],
              "stock": page["stock"], "renderedAt": utcnow().isoformat(),
              "handoutUrl": url_for("distribution_api.hand_out", point_id=point_id),
              "swUrl": url_for("distribution.service_worker"), "swScope": url_for("distribution.index")}
    return render_template("distribution/handout.html", form_config=config, **page)


@bp.get("/points/<int:point_id>/report")
@login_required
def report(point_id: int):
    return render_template("distribution/report.html",
                           **service.report_for(current_user, point_id, request.args.get("region_code") or None))


@bp.get("/points/<int:point_id>/report.xlsx")
@login_required
def report_xlsx(point_id: int):
    data = service.report_workbook(current_user, point_id, request.args.get("region_code") or None)
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=f"distribution-{point_id}.xlsx")


@bp.get("/sw.js")
def service_worker():
    """The hand-out page's service worker, served under ``/distribution/`` so its scope covers it."""
    return service_worker_script("distribution/sw.js", url_for("distribution.index"))
