"""Pages for depot managers and coordinators (物资): stock with warnings, receipts and
adjustments, dispatches to approve and ship, the ledger, supply requests, Excel exports.

Thin: each page reads one service function with the user (which checks permission first) and
renders what it returns; each posted form goes as it is (or, with per-item lines, as the JSON
body it stands for) to the service function the API calls, and the refusal is flashed with the
fields named by their labels (:mod:`app.pages`).
"""
from __future__ import annotations

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from gis import codes

from ..errors import Invalid, ServiceError
from ..i18n import translate
from ..pages import flash_refusal, labels_of, perform, refusals_flashed
from ..validation import Field, form_data, int_arg
from . import excel, forms, service

bp = Blueprint("depots", __name__, url_prefix="/depots")

#: Pages of this area flash every refusal of the service (403 and 404 too) and go back.
REFUSED = (ServiceError,)


def _xlsx(export: tuple[bytes, str]) -> Response:
    data, filename = export
    return Response(data, mimetype=excel.XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def home_panel(user) -> dict | None:
    """The depots panel of the home page (:mod:`app.areas`)."""
    return service.home_panel(user)


# --- depots and stock ------------------------------------------------------------------------

@bp.get("/")
@login_required
def index():
    page = service.depot_index(current_user, request.args.get("region_code"), request.args.get("tier"))
    refusal = page.pop("refusal")
    if refusal is not None:
        flash_refusal(refusal)
    return render_template("depots/index.html", **page)


@bp.get("/<code>")
@login_required
def depot(code: str):
    page = service.depot_page(current_user, code)
    stock_forms = {"receipt": forms.ReceiptForm(prefix="r"), "adjust": forms.AdjustmentForm(prefix="a"),
                   "reserve": forms.ReserveForm(prefix="f"), "writeoff": forms.WriteOffForm(prefix="w")}
    for name in ("receipt", "adjust", "reserve"):
        stock_forms[name].item.choices = page["item_choices"]
    return render_template("depots/depot.html", forms=stock_forms, action_form=forms.ActionForm(), **page)


def _on_depot(code: str, form_class, prefix: str, call, success):
    """A stock form of the depot page (posted under ``prefix``), taken to the service with its
    inputs; back to the depot page."""
    posted = forms.unprefixed(request.form, prefix)
    return perform(lambda: call(posted), success, url_for("depots.depot", code=code),
                   form=form_class(prefix=prefix), refusals=REFUSED)


@bp.post("/<code>/receipts")
@login_required
def receipt(code: str):
    return _on_depot(code, forms.ReceiptForm, "r", lambda posted: service.post_receipt(current_user, code, posted),
                     lambda rows: translate("已入库 %(n)s，入库单号 %(document)s，结存 %(balance)s。",
                                            n=sum(r['quantity'] for r in rows), document=rows[0]['document_id'],
                                            balance=rows[-1]['balance_after']))


@bp.post("/<code>/adjustments")
@login_required
def adjustment(code: str):
    return _on_depot(code, forms.AdjustmentForm, "a",
                     lambda posted: service.post_adjustment(current_user, code, posted),
                     lambda rows: translate("已调整 %(n)s，结存 %(balance)s。", n=sum(r['quantity'] for r in rows),
                                            balance=rows[-1]['balance_after']))


@bp.post("/<code>/reserves")
@login_required
def reserve(code: str):
    return _on_depot(code, forms.ReserveForm, "f",
                     lambda posted: service.set_reserve(current_user, code, posted.get("item"), posted),
                     "已设置保底储备。")


@bp.post("/<code>/writeoff")
@login_required
def writeoff(code: str):
    return _on_depot(code, forms.WriteOffForm, "w",
                     lambda posted: service.post_writeoff(current_user, code, posted),
                     lambda rows: (translate("已核销 %(n)s 个过期批次。", n=len(rows)), "success") if rows
                     else ("没有过期批次。", "info"))


@bp.get("/<code>/ledger")
@login_required
def ledger(code: str):
    page_no = int_arg("page", Field("int", required=False, min=1)) or 1
    return render_template("depots/ledger.html",
                           **service.ledger_page(current_user, code, request.args.get("item") or None, page_no))


@bp.get("/<code>/stock.xlsx")
@login_required
def stock_xlsx(code: str):
    return _xlsx(service.depot_stock_workbook(current_user, code))


@bp.get("/stock.xlsx")
@login_required
def stock_report_xlsx():
    return _xlsx(service.region_stock_workbook(current_user, request.args.get("region_code")))


# --- allocation (调拨方案) and the pickers' search ---------------------------------------------

@bp.get("/allocation")
@login_required
def allocation():
    event_id = int_arg("event_id", Field("int", required=False, min=1))
    options, unreadable = form_data(service.PLAN_FIELDS, request.args)
    try:
        if unreadable:
            raise Invalid("方案选项有误。", unreadable)
        page = service.allocation_page(current_user, event_id, options)
    except Invalid as exc:
        flash_refusal(exc, forms.plan_label)
        page = service.allocation_page(current_user, event_id, {})
    return render_template("depots/allocation.html", form=forms.ActionForm(), **page)


@bp.post("/allocation/<int:event_id>/accept")
@login_required
def accept_allocation(event_id: int):
    body = forms.accept_body(request.form)
    return perform(lambda: service.accept_plan(current_user, event_id, body),
                   lambda done: translate("该方案已提交过，未重复生成调拨单：%(ids)s。" if done["replayed"]
                                          else "已生成调拨单，等待物资库审批：%(ids)s。",
                                          ids=translate("、").join(f"#{i}" for i in done["dispatch_ids"])),
                   url_for("depots.allocation", event_id=event_id), form=forms.AcceptForm(), refusals=REFUSED)


@bp.get("/destinations")
@login_required
def destinations():
    kind = "depot" if request.args.get("kind") == "depot" else "region"
    return jsonify(service.destinations(current_user, request.args.get("q"), kind))


def _line_labels(form, lines: list[dict]):
    """A refused field by its label: ``lines[i].quantity`` as the quantity input of that item."""
    names = {item.code: item.name for item in service.list_items()}
    return forms.line_labels(labels_of(form), lines, names)


# --- dispatches --------------------------------------------------------------------------------

@bp.route("/dispatches", methods=["GET", "POST"])
@login_required
def dispatches():
    form = forms.DispatchForm()
    if request.method == "POST":
        lines = forms.quantity_lines(request.form)
        with refusals_flashed(_line_labels(form, lines), refusals=REFUSED):
            made = service.create_dispatch(current_user, forms.with_lines(request.form, service.DISPATCH_FIELDS, lines))
            flash(translate("已提交调拨单 #%(id)s，等待物资库审批。", id=made.id), "success")
            return redirect(url_for("depots.dispatch_page", dispatch_id=made.id))
    page = service.dispatch_list(current_user, request.args.get("status") or None, request.args.get("depot") or None)
    form.from_depot.choices = page.pop("depot_choices")
    form.event_id.choices = page.pop("event_choices")
    return render_template("depots/dispatches.html", form=form, **page)


@bp.get("/dispatches/<int:dispatch_id>")
@login_required
def dispatch_page(dispatch_id: int):
    return render_template("depots/dispatch.html", form=forms.ActionForm(),
                           **service.dispatch_page(current_user, dispatch_id))


#: A step of a dispatch taken from its page: the service call with the posted form, and what
#: the user is told.
_STEPS = {
    "approve": (lambda dispatch_id, form: service.approve_dispatch(current_user, dispatch_id), "已审批，库存已扣减。"),
    "ship": (lambda dispatch_id, form: service.ship_dispatch(current_user, dispatch_id, form), "已发运。"),
    "cancel": (lambda dispatch_id, form: service.cancel_dispatch(current_user, dispatch_id, form),
               "已撤销，已扣减的库存已退回。"),
    "receive": (lambda dispatch_id, form: service.receive_dispatch(current_user, dispatch_id, forms.with_lines(
        form, service.RECEIVE_FIELDS, forms.received_lines(form))), "已签收。"),
}


@bp.post("/dispatches/<int:dispatch_id>/<action>")
@login_required
def dispatch_action(dispatch_id: int, action: str):
    back = request.form.get("next")
    if not (back and back.startswith("/") and not back.startswith("//")):
        back = url_for("depots.dispatch_page", dispatch_id=dispatch_id)
    if action not in _STEPS:
        flash("未知操作。", "danger")
        return redirect(back)
    call, success = _STEPS[action]
    return perform(lambda: call(dispatch_id, request.form), success, back, form=forms.ActionForm(), refusals=REFUSED)


@bp.get("/dispatches/<int:dispatch_id>.xlsx")
@login_required
def dispatch_xlsx(dispatch_id: int):
    return _xlsx(service.dispatch_workbook(current_user, dispatch_id))


# --- supply requests ---------------------------------------------------------------------------

@bp.route("/supply-requests", methods=["GET", "POST"])
@login_required
def supply_requests():
    form = forms.SupplyRequestForm()
    if request.method == "GET" and current_user.region_code != codes.NATIONAL:
        form.from_region_code.data = current_user.region_code
    if request.method == "POST":
        lines = forms.quantity_lines(request.form)
        with refusals_flashed(_line_labels(form, lines), refusals=REFUSED):
            made = service.raise_supply_request(current_user, forms.with_lines(request.form, service.SUPPLY_FIELDS,
                                                                               lines))
            flash(translate("已提交物资申请 #%(id)s，已通知上级协调员。", id=made.id), "success")
            return redirect(url_for("depots.supply_request_page", request_id=made.id))
    page = service.supply_request_list(current_user, request.args.get("status") or None)
    form.event_id.choices = page.pop("event_choices")
    return render_template("depots/supply_requests.html", form=form, **page)


@bp.get("/supply-requests/<int:request_id>")
@login_required
def supply_request_page(request_id: int):
    return render_template("depots/supply_request.html", form=forms.ActionForm(), reject_form=forms.RejectForm(),
                           **service.supply_request_page(current_user, request_id))


@bp.post("/supply-requests/<int:request_id>/fill")
@login_required
def fill(request_id: int):
    body = forms.with_lines(request.form, service.FILL_FIELDS, forms.fill_lines(request.form))
    return perform(lambda: service.fill_supply_request(current_user, request_id, body),
                   lambda made: translate("已生成调拨单：%(ids)s。", ids=translate("、").join(f"#{i}" for i in made.to_dict()["dispatch_ids"])),
                   url_for("depots.supply_request_page", request_id=request_id), form=forms.ActionForm(),
                   refusals=REFUSED)


@bp.post("/supply-requests/<int:request_id>/reject")
@login_required
def reject(request_id: int):
    return perform(lambda: service.reject_supply_request(current_user, request_id, request.form),
                   "已作不予调拨处理，已通知申请人。", url_for("depots.supply_request_page", request_id=request_id),
                   form=forms.RejectForm(), refusals=REFUSED)


@bp.post("/supply-requests/<int:request_id>/forward")
@login_required
def forward(request_id: int):
    return perform(lambda: service.forward_supply_request(current_user, request_id, request.form),
                   lambda made: translate("已转报%(level)s，已通知该级协调员和申请人。",
                                          level=translate(service.level_name(made.addressee_code))),
                   url_for("depots.supply_request_page", request_id=request_id), form=forms.ActionForm(),
                   refusals=REFUSED)


# --- replenishment (回补) and rotation (轮换) ------------------------------------------------------

@bp.get("/replenishments")
@login_required
def replenishments():
    return render_template("depots/replenishments.html", form=forms.ActionForm(),
                           **service.replenishments_page(current_user, request.args.get("status") or None))


@bp.post("/replenishments/<int:obligation_id>/replenish")
@login_required
def replenish(obligation_id: int):
    lines = forms.quantity_lines(request.form)
    body = forms.with_lines(request.form, service.REPLENISH_FIELDS, lines) if lines else request.form
    return perform(lambda: service.replenish(current_user, obligation_id, body),
                   lambda made: translate("已生成回补调拨单 #%(id)s，等待物资库审批。", id=made.id),
                   url_for("depots.replenishments"), form=forms.ReplenishForm(), refusals=REFUSED)


@bp.get("/rotation")
@login_required
def rotation():
    horizon = int_arg("horizon_days", Field("int", required=False, min=0, max=3650))
    return render_template("depots/rotation.html", **service.rotation_page(current_user, horizon))
