"""Pages for depot managers and coordinators (物资): stock with warnings, receipts and
adjustments, dispatches to approve and ship, the ledger, supply requests, Excel exports."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, NumberRange, Optional

from gis import codes

from ..api import Field, int_arg
from ..errors import ServiceError
from ..extensions import db
from ..pages import flash_form_errors, flash_refusal, submit
from ..permissions import can, require
from ..regions import Region
from . import excel, service
from .models import DISPATCH_MACHINE, MOVEMENT_KINDS, SUPPLY_REQUEST_MACHINE, TIERS, Depot, Dispatch, SupplyRequest

bp = Blueprint("depots", __name__, url_prefix="/depots")


class ReceiptForm(FlaskForm):
    item = SelectField("物资", validators=[DataRequired()])
    quantity = IntegerField("数量", validators=[DataRequired(message="请输入数量"), NumberRange(min=1)])
    lot = StringField("批次号", validators=[Optional()], description="可不填；同一批次号的有效期必须一致")
    expiry = DateField("有效期至", validators=[Optional()],
                       description="不填时：有保质期的物资按今天加保质期计算，其余物资不设有效期")
    note = StringField("备注（来源、入库单号等）", validators=[Optional()])


class AdjustmentForm(FlaskForm):
    item = SelectField("物资", validators=[DataRequired()])
    quantity = IntegerField("调整数量", validators=[DataRequired(message="请输入非零整数")],
                            description="正数为盘盈，负数为盘亏；盘亏不指定批次时按先到期先出扣减")
    lot = StringField("批次号", validators=[Optional()])
    reason = StringField("调整原因", validators=[DataRequired(message="请填写调整原因")])


class ReserveForm(FlaskForm):
    item = SelectField("物资", validators=[DataRequired()])
    floor = IntegerField("保底储备数量", validators=[NumberRange(min=0)],
                         description="本库为本辖区保留的数量：调往辖区外时不得动用，除非勾选“动用保底储备”")
    released = BooleanField("动用保底储备（允许调往辖区外）")


class ActionForm(FlaskForm):
    """CSRF plus an optional note or reason, for approve / ship / cancel / write-off."""

    note = StringField("说明", validators=[Optional()])


class DispatchForm(FlaskForm):
    from_depot = SelectField("调出物资库", validators=[DataRequired()])
    to_region_code = StringField("接收区划代码", validators=[DataRequired()],
                                 description="6 位（县级及以上）、9 位（乡镇）或 12 位（村）区划代码")
    event_id = IntegerField("灾害过程编号", validators=[Optional()])
    note = StringField("备注", validators=[Optional()])


class SupplyRequestForm(FlaskForm):
    from_region_code = StringField("申请区划代码", validators=[DataRequired()], description="本级（通常为县级）区划")
    to_region_code = StringField("受理区划代码", validators=[Optional()], description="不填则向直接上级申请")
    to_depot = StringField("接收物资库代码", validators=[Optional()], description="可不填；填写后物资签收时直接入该库")
    event_id = IntegerField("灾害过程编号", validators=[Optional()])
    reason = TextAreaField("申请理由（书面申请）", validators=[DataRequired(message="请填写申请理由")],
                           description="说明灾情、本级库存不足的情况和所需物资用途")


class RejectForm(FlaskForm):
    reason = TextAreaField("不予调拨的理由", validators=[DataRequired(message="请填写理由")])


def _item_choices() -> list[tuple[str, str]]:
    return [(i.code, f"{i.name}（{i.unit}）") for i in service.list_items()]


def _quantities(prefix: str = "qty-") -> list[dict]:
    """Per-item quantity inputs named ``qty-<item>`` → ``[{"item", "quantity"}]`` (blank skipped)."""
    lines = []
    for key, raw in request.form.items():
        if not key.startswith(prefix) or not raw.strip():
            continue
        try:
            quantity = int(raw)
        except ValueError:
            quantity = raw
        lines.append({"item": key[len(prefix):], "quantity": quantity})
    return lines


def _my_depots() -> list[Depot]:
    if current_user.role != "depot_manager":
        return []
    return db.session.scalars(service.depots_query(managed_by=current_user)).all()


def _depot_actions(depot: Depot) -> dict[str, bool]:
    target = service._depot_target(depot)
    return {name: can(current_user, action, target) for name, action in (
        ("receive", "stock.receive"), ("adjust", "stock.adjust"), ("configure", "stock.configure"),
        ("approve", "dispatch.approve"), ("ship", "dispatch.ship"), ("cancel", "dispatch.cancel"))}


# --- depots and stock ------------------------------------------------------------------------

@bp.get("/")
@login_required
def index():
    require(current_user, "depot.view")
    region_code = request.args.get("region_code") or (
        None if current_user.region_code == codes.NATIONAL else current_user.region_code)
    tier = request.args.get("tier") or None
    try:
        stmt = service.depots_query(region_code)
    except ServiceError as exc:
        flash_refusal(exc)
        stmt = service.depots_query(None)
    if tier:
        stmt = stmt.where(Depot.tier == tier)
    depots = db.session.scalars(stmt.limit(500)).all()
    mine = _my_depots()
    warnings = service.stock_warnings([d.code for d in {*depots, *mine}])
    pending = dict(db.session.execute(
        select(Dispatch.from_depot_code, func.count()).where(Dispatch.status.in_(("requested", "approved")))
        .group_by(Dispatch.from_depot_code)).all())
    return render_template("depots/index.html", depots=depots, mine=mine, warnings=warnings, pending=pending,
                           tiers=TIERS, region_code=region_code or "", tier=tier or "")


@bp.get("/<code>")
@login_required
def depot(code: str):
    require(current_user, "depot.view")
    depot = service.get_depot(code)
    choices = _item_choices()
    forms = {"receipt": ReceiptForm(prefix="r"), "adjust": AdjustmentForm(prefix="a"),
             "reserve": ReserveForm(prefix="f"), "writeoff": ActionForm(prefix="w")}
    for name in ("receipt", "adjust", "reserve"):
        forms[name].item.choices = choices
    dispatches = db.session.scalars(select(Dispatch).where(
        Dispatch.from_depot_code == depot.code, Dispatch.status.in_(("requested", "approved", "shipped")))
        .order_by(Dispatch.id)).all()
    region = db.session.get(Region, depot.region_code)
    return render_template("depots/depot.html", depot=depot, region=region, stock=service.stock_levels(depot.code),
                           forms=forms, dispatches=dispatches, actions=_depot_actions(depot),
                           action_form=ActionForm(), tiers=TIERS, today=service.today())


def _on_depot(code: str, form, action, success):
    """A stock form of the depot page, taken to the service; back to the depot page."""
    return submit(form, action, success, url_for("depots.depot", code=code), refusals=(ServiceError,))


@bp.post("/<code>/receipts")
@login_required
def receipt(code: str):
    form = ReceiptForm(prefix="r")
    form.item.choices = _item_choices()
    return _on_depot(code, form, lambda: service.receive_stock(
                         current_user, code, form.item.data, form.quantity.data, form.note.data,
                         form.lot.data or None, form.expiry.data),
                     lambda rows: f"已入库 {form.quantity.data}，入库单号 {rows[0]['document_id']}，"
                                  f"结存 {rows[-1]['balance_after']}。")


@bp.post("/<code>/adjustments")
@login_required
def adjustment(code: str):
    form = AdjustmentForm(prefix="a")
    form.item.choices = _item_choices()
    return _on_depot(code, form, lambda: service.adjust_stock(
                         current_user, code, form.item.data, form.quantity.data, form.reason.data,
                         form.lot.data or None),
                     lambda rows: f"已调整 {form.quantity.data}，结存 {rows[-1]['balance_after']}。")


@bp.post("/<code>/reserves")
@login_required
def reserve(code: str):
    form = ReserveForm(prefix="f")
    form.item.choices = _item_choices()
    return _on_depot(code, form, lambda: service.set_reserve(
                         current_user, code, form.item.data, form.floor.data or 0, bool(form.released.data)),
                     "已设置保底储备。")


@bp.post("/<code>/writeoff")
@login_required
def writeoff(code: str):
    form = ActionForm(prefix="w")
    return _on_depot(code, form, lambda: service.write_off_expired(current_user, code, reason=form.note.data or None),
                     lambda rows: (f"已核销 {len(rows)} 个过期批次。", "success") if rows else ("没有过期批次。", "info"))


@bp.get("/<code>/ledger")
@login_required
def ledger(code: str):
    require(current_user, "depot.view")
    depot = service.get_depot(code)
    item = request.args.get("item") or None
    stmt = service.ledger_query(code, item)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    page_no = int_arg("page", Field("int", required=False, min=1)) or 1
    rows = db.session.scalars(stmt.limit(200).offset((page_no - 1) * 200)).all()
    return render_template("depots/ledger.html", depot=depot, rows=rows, item=item or "", items=_item_choices(),
                           kinds=MOVEMENT_KINDS, total=total, page_no=page_no, pages=max((total + 199) // 200, 1))


@bp.get("/<code>/stock.xlsx")
@login_required
def stock_xlsx(code: str):
    require(current_user, "depot.view")
    depot = service.get_depot(code)
    return _xlsx(excel.stock_report([depot]), f"stock-{depot.code}-{service.today().isoformat()}.xlsx")


@bp.get("/stock.xlsx")
@login_required
def stock_report_xlsx():
    require(current_user, "depot.view")
    region_code = request.args.get("region_code") or (
        None if current_user.region_code == codes.NATIONAL else current_user.region_code)
    depots = db.session.scalars(service.depots_query(region_code, active_only=True)).all()
    return _xlsx(excel.stock_report(depots), f"stock-{region_code or 'all'}-{service.today().isoformat()}.xlsx")


def _xlsx(data: bytes, filename: str) -> Response:
    return Response(data, mimetype=excel.XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --- dispatches --------------------------------------------------------------------------------

@bp.route("/dispatches", methods=["GET", "POST"])
@login_required
def dispatches():
    require(current_user, "depot.view")
    form = DispatchForm()
    visible = db.session.scalars(service.depots_query(
        None if current_user.region_code == codes.NATIONAL else current_user.region_code, active_only=True)).all()
    form.from_depot.choices = [(d.code, f"{d.name}（{d.code}）") for d in {*visible, *_my_depots()}]
    form.from_depot.choices.sort()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                dispatch = service.create_dispatch(current_user, {
                    "from_depot": form.from_depot.data, "to_region_code": form.to_region_code.data.strip(),
                    "event_id": form.event_id.data, "note": form.note.data, "lines": _quantities()})
                flash(f"已提交调拨单 #{dispatch.id}，等待物资库审批。", "success")
                return redirect(url_for("depots.dispatch_page", dispatch_id=dispatch.id))
            except ServiceError as exc:
                flash_refusal(exc)
        else:
            flash_form_errors(form)
    status = request.args.get("status") or None
    rows = db.session.scalars(service.dispatches_query(current_user, status=status,
                                                       depot=request.args.get("depot") or None).limit(200)).all()
    return render_template("depots/dispatches.html", rows=rows, form=form, items=service.list_items(),
                           statuses=DISPATCH_MACHINE.labels, status=status or "",
                           can_request=can(current_user, "dispatch.request"))


@bp.get("/dispatches/<int:dispatch_id>")
@login_required
def dispatch_page(dispatch_id: int):
    require(current_user, "depot.view")
    dispatch = service.dispatch_for(current_user, dispatch_id)
    actions = _depot_actions(dispatch.from_depot)
    actions["receive_goods"] = can(current_user, "dispatch.receive", dispatch.to_region_code)
    allowed = DISPATCH_MACHINE.allowed(dispatch.status)
    region = db.session.get(Region, dispatch.to_region_code)
    items = {i.code: i for i in service.list_items()}
    return render_template("depots/dispatch.html", dispatch=dispatch, detail=service.dispatch_detail(dispatch),
                           actions=actions, allowed=allowed, region=region, items=items, form=ActionForm())


@bp.post("/dispatches/<int:dispatch_id>/<action>")
@login_required
def dispatch_action(dispatch_id: int, action: str):
    form = ActionForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("depots.dispatch_page", dispatch_id=dispatch_id))
    note = form.note.data or None
    try:
        if action == "approve":
            service.approve_dispatch(current_user, dispatch_id)
            flash("已审批，库存已扣减。", "success")
        elif action == "ship":
            service.ship_dispatch(current_user, dispatch_id, note)
            flash("已发运。", "success")
        elif action == "cancel":
            service.cancel_dispatch(current_user, dispatch_id, note)
            flash("已撤销，已扣减的库存已退回。", "success")
        elif action == "receive":
            lines = [{"item": line["item"], "quantity": line["quantity"],
                      "note": request.form.get(f"note-{line['item']}") or None} for line in _quantities("received-")]
            service.receive_dispatch(current_user, dispatch_id, lines, note)
            flash("已签收。", "success")
        else:
            flash("未知操作。", "danger")
    except ServiceError as exc:
        flash_refusal(exc)
    back = request.form.get("next")
    if back and back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect(url_for("depots.dispatch_page", dispatch_id=dispatch_id))


@bp.get("/dispatches/<int:dispatch_id>.xlsx")
@login_required
def dispatch_xlsx(dispatch_id: int):
    require(current_user, "depot.view")
    dispatch = service.dispatch_for(current_user, dispatch_id)
    return _xlsx(excel.dispatch_note(dispatch), f"dispatch-{dispatch.id}.xlsx")


# --- supply requests ---------------------------------------------------------------------------

@bp.route("/supply-requests", methods=["GET", "POST"])
@login_required
def supply_requests():
    require(current_user, "depot.view")
    form = SupplyRequestForm()
    if request.method == "GET" and current_user.region_code != codes.NATIONAL:
        form.from_region_code.data = current_user.region_code
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                made = service.raise_supply_request(current_user, {
                    "from_region_code": form.from_region_code.data.strip(),
                    "to_region_code": (form.to_region_code.data or "").strip() or None,
                    "to_depot": (form.to_depot.data or "").strip() or None, "event_id": form.event_id.data,
                    "reason": form.reason.data, "lines": _quantities()})
                flash(f"已提交物资申请 #{made.id}，已通知上级协调员。", "success")
                return redirect(url_for("depots.supply_request_page", request_id=made.id))
            except ServiceError as exc:
                flash_refusal(exc)
        else:
            flash_form_errors(form)
    status = request.args.get("status") or None
    rows = db.session.scalars(service.supply_requests_query(current_user, status=status).limit(200)).all()
    return render_template("depots/supply_requests.html", rows=rows, form=form, items=service.list_items(),
                           statuses=SUPPLY_REQUEST_MACHINE.labels, status=status or "",
                           can_raise=can(current_user, "supply_request.raise"))


@bp.get("/supply-requests/<int:request_id>")
@login_required
def supply_request_page(request_id: int):
    require(current_user, "depot.view")
    made = service.supply_request_for(current_user, request_id)
    can_fill = can(current_user, "supply_request.fill", made.to_region_code)
    depots = db.session.scalars(service.depots_query(made.to_region_code, active_only=True)).all() if can_fill else []
    stock = service.depot_stock_table(region_code=made.to_region_code) if can_fill else []
    names = dict(db.session.execute(select(Region.code, Region.name).where(
        Region.code.in_([made.from_region_code, made.to_region_code]))).all())
    return render_template("depots/supply_request.html", req=made, body=made.to_dict(), can_fill=can_fill,
                           depots=depots, stock={row["code"]: row["stock"] for row in stock},
                           items={i.code: i for i in service.list_items()}, names=names,
                           allowed=SUPPLY_REQUEST_MACHINE.allowed(made.status), form=ActionForm(),
                           reject_form=RejectForm())


@bp.post("/supply-requests/<int:request_id>/fill")
@login_required
def fill(request_id: int):
    form = ActionForm()
    if form.validate_on_submit():
        lines = []
        for key, raw in request.form.items():
            # inputs named fill-<depot>--<item>
            if not key.startswith("fill-") or not raw.strip() or "--" not in key:
                continue
            depot_code, item = key[5:].split("--", 1)
            try:
                quantity = int(raw)
            except ValueError:
                quantity = raw
            lines.append({"from_depot": depot_code, "item": item, "quantity": quantity})
        try:
            made = service.fill_supply_request(current_user, request_id, lines, form.note.data or None)
            flash(f"已生成调拨单：{', '.join('#' + str(i) for i in made.to_dict()['dispatch_ids'])}。", "success")
        except ServiceError as exc:
            flash_refusal(exc)
    else:
        flash_form_errors(form)
    return redirect(url_for("depots.supply_request_page", request_id=request_id))


@bp.post("/supply-requests/<int:request_id>/reject")
@login_required
def reject(request_id: int):
    form = RejectForm()
    return submit(form, lambda: service.reject_supply_request(current_user, request_id, form.reason.data),
                  "已作不予调拨处理，已通知申请人。", url_for("depots.supply_request_page", request_id=request_id),
                  refusals=(ServiceError,))


# --- home page panel ----------------------------------------------------------------------------

def home_panel(user) -> dict | None:
    """For depot managers: their depots with warnings and dispatches waiting for them; for
    coordinators: supply requests addressed to their level and dispatches awaiting approval."""
    if user.role == "depot_manager":
        depots = db.session.scalars(service.depots_query(managed_by=user)).all()
        if not depots:
            return {"template": "depots/_home_panel.html", "depots": [], "warnings": {}, "waiting": [],
                    "requests": []}
        codes_ = [d.code for d in depots]
        waiting = db.session.scalars(select(Dispatch).where(
            Dispatch.from_depot_code.in_(codes_), Dispatch.status.in_(("requested", "approved")))
            .order_by(Dispatch.id)).all()
        return {"template": "depots/_home_panel.html", "depots": depots,
                "warnings": service.stock_warnings(codes_), "waiting": waiting, "requests": []}
    if user.role == "coordinator":
        prefix = codes.prefix_of(user.region_code) + "%"
        requests = db.session.scalars(select(SupplyRequest).where(
            SupplyRequest.status.in_(("open", "in_progress")), SupplyRequest.to_region_code.like(prefix))
            .order_by(SupplyRequest.id)).all()
        waiting = db.session.scalars(service.dispatches_query(user, status="requested").limit(20)).all()
        if not requests and not waiting:
            return None
        return {"template": "depots/_home_panel.html", "depots": [], "warnings": {}, "waiting": waiting,
                "requests": requests}
    return None
