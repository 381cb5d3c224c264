"""Pages of the relief cycles (Chinese first): cycle list and detail, the printable public
notice, the reconstruction progress board, the household registry with Excel import and
export, funds, and the winter-spring needs table. Thin: every change goes through the service."""
from __future__ import annotations

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from gis import codes

from ..api import int_arg
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models_common import utcnow
from ..pages import flash_refusal, refusals_flashed, submit
from ..uploads import upload_limit
from ..permissions import can, require
from ..regions import Region
from . import excel, funds, service, winter
from .forms import (AllocationForm, BeneficiaryForm, CancelRollForm, ComplaintForm, ConfirmForm, CycleForm,
                    FundLineForm, FundSourceForm, HouseholdForm, ImportForm, ProgressForm, ResolveForm,
                    ReviewForm, SubmitNeedsForm, SupplementaryRollForm, TransitionForm)
from .models import (ACTION_LABELS, CYCLE_MACHINE, STATUS_LABELS, Beneficiary, Complaint, Cycle,
                     PaymentRoll, Payment, PublicNotice, ReconstructionProject, Roll)
from .payments import cycle_totals, unpaid_due
from .rules import DAMAGE_CLASSES, FLAGS, KINDS, LEVEL_LABELS, STAGE_LABELS, STAGES

bp = Blueprint("cycles", __name__, url_prefix="/cycles")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _local(value) -> str:
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y-%m-%d %H:%M")


def _names(codes_needed) -> dict[str, str]:
    wanted = set(codes_needed)
    if not wanted:
        return {}
    return dict(db.session.execute(select(Region.code, Region.name).where(Region.code.in_(wanted))).all())


@bp.app_template_filter("yuan")
def _yuan(value) -> str:
    return "{:,.2f}".format(value or 0)


# --- cycles -----------------------------------------------------------------------------------------

@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    require(current_user, "cycle.view", current_user.region_code)
    form = CycleForm()
    if form.validate_on_submit():
        data = {k: getattr(form, k).data for k in ("kind", "region_code", "event_id", "year", "starts_on",
                                                   "months", "months_approval_ref", "name")}
        with refusals_flashed():
            cycle = service.create_cycle(current_user, data)
            flash(f"已新建救助周期「{cycle.name}」。", "success")
            return redirect(url_for("cycles.detail", cycle_id=cycle.id))
    kind = request.args.get("kind") or None
    status = request.args.get("status") or None
    rows = db.session.scalars(service.cycle_query(current_user, kind=kind, status=status).limit(500)).all()
    return render_template("cycles/index.html", cycles=rows, form=form, kinds=KINDS, statuses=STATUS_LABELS,
                           kind=kind, status=status, names=_names(c.region_code for c in rows),
                           can_manage=can(current_user, "cycle.manage", current_user.region_code),
                           year=utcnow().year)


@bp.get("/<int:cycle_id>")
@login_required
def detail(cycle_id: int):
    return _detail_page(cycle_id)


def _detail_page(cycle_id: int, roll_form: SupplementaryRollForm | None = None) -> str:
    cycle = service.get_cycle(current_user, cycle_id)
    show = service.show_id(current_user, cycle.region_code)
    beneficiaries = db.session.scalars(select(Beneficiary).where(Beneficiary.cycle_id == cycle.id)
                                       .order_by(Beneficiary.id)).all()
    amounts = {b.id: sum(i.amount_fen for i in service.preview(cycle, b)) / 100 for b in beneficiaries}
    rolls = db.session.scalars(select(Roll).where(Roll.cycle_id == cycle.id).order_by(Roll.seq)).all()
    payment_rolls = db.session.scalars(select(PaymentRoll).where(PaymentRoll.cycle_id == cycle.id)
                                       .order_by(PaymentRoll.period.desc())).all()
    notices = db.session.scalars(select(PublicNotice).where(PublicNotice.cycle_id == cycle.id)
                                 .order_by(PublicNotice.id.desc())).all()
    complaints = db.session.scalars(select(Complaint).where(Complaint.cycle_id == cycle.id)
                                    .order_by(Complaint.id.desc())).all()
    unpaid = unpaid_due(cycle, utcnow()) if cycle.status == "disbursing" else []
    line_form = FundLineForm()
    line_form.fund_line_id.choices = [(line.id, f"{line.source.name} · {line.to_dict()['relief_item_label']} · 余额 {line.balance_fen / 100:,.2f} 元")
                                      for line in funds.lines_for(current_user, cycle)]
    return render_template(
        "cycles/detail.html", cycle=cycle, show_id=show, beneficiaries=beneficiaries, amounts=amounts,
        rolls=rolls, payment_rolls=payment_rolls, notices=notices, complaints=complaints,
        totals=cycle_totals(cycle.id), actions=CYCLE_MACHINE.allowed(cycle.status), action_labels=ACTION_LABELS,
        transition_form=TransitionForm(), beneficiary_form=BeneficiaryForm(), review_form=ReviewForm(),
        line_form=line_form, complaint_form=ComplaintForm(), resolve_form=ResolveForm(),
        roll_form=roll_form or SupplementaryRollForm(formdata=None), cancel_roll_form=CancelRollForm(),
        roll_in_notice=any(r.status == "notice" for r in rolls),
        unpaid=unpaid,
        names=_names([cycle.region_code] + [b.household.village_code for b in beneficiaries]
                     + [u["village_code"] for u in unpaid]),
        can_manage=can(current_user, "cycle.manage", cycle.region_code),
        can_edit=service._can_see_cycle(current_user, cycle, "household.edit"),
        can_pay=can(current_user, "payment.manage", cycle.region_code),
        damage=DAMAGE_CLASSES, now=utcnow())


@bp.post("/<int:cycle_id>/transition")
@login_required
def transition(cycle_id: int):
    form = TransitionForm()
    done = ACTION_LABELS.get(form.action.data, form.action.data)
    return submit(form, lambda: service.transition(current_user, cycle_id, form.action.data,
                                                    {"reason": form.reason.data, "location": form.location.data}),
                   lambda cycle: f"已{done}：当前状态「{cycle.status_label}」。", url_for("cycles.detail", cycle_id=cycle_id))


@bp.post("/<int:cycle_id>/beneficiaries")
@login_required
def add_beneficiary(cycle_id: int):
    form = BeneficiaryForm()

    def add():
        item = {"household_id": form.household_id.data}
        if form.persons.data:
            item["persons"] = form.persons.data
        if form.deceased.data is not None:
            item["deceased"] = form.deceased.data
        return service.add_beneficiaries(current_user, cycle_id, [item])

    return submit(form, add, "已登记。", url_for("cycles.detail", cycle_id=cycle_id),
                   incomplete="请填写受灾户编号。")


@bp.post("/<int:cycle_id>/propose")
@login_required
def propose(cycle_id: int):
    return submit(ConfirmForm(), lambda: service.propose(current_user, cycle_id),
                   lambda made: f"已按规则列入 {len(made)} 户。", url_for("cycles.detail", cycle_id=cycle_id))


@bp.post("/<int:cycle_id>/review")
@login_required
def review(cycle_id: int):
    form = ReviewForm()
    return submit(form, lambda: service.record_reviews(current_user, cycle_id, form.stage.data, [
                       {"household_id": int(form.household_id.data), "decision": form.decision.data}]),
                   "已记录评议审核结果。", url_for("cycles.detail", cycle_id=cycle_id) + "#beneficiaries")


@bp.post("/<int:cycle_id>/fund-line")
@login_required
def fund_line(cycle_id: int):
    cycle = service.get_cycle(current_user, cycle_id)
    form = FundLineForm()
    form.fund_line_id.choices = [(line.id, str(line.id)) for line in funds.lines_for(current_user, cycle)]
    return submit(form, lambda: funds.assign_line(current_user, cycle_id, form.fund_line_id.data),
                   "已指定资金指标。", url_for("cycles.detail", cycle_id=cycle_id), incomplete="请选择资金指标。")


@bp.post("/<int:cycle_id>/complaints")
@login_required
def complaint(cycle_id: int):
    form = ComplaintForm()
    return submit(form, lambda: service.add_complaint(current_user, cycle_id, {
                       "content": form.content.data, "complainant": form.complainant.data,
                       "contact": form.contact.data}),
                   "已登记投诉举报。", url_for("cycles.detail", cycle_id=cycle_id) + "#complaints")


@bp.post("/complaints/<int:complaint_id>/resolve")
@login_required
def resolve(complaint_id: int):
    found = db.session.get(Complaint, complaint_id)
    if found is None:
        raise NotFound("投诉举报不存在。")
    form = ResolveForm()
    return submit(form, lambda: service.resolve_complaint(current_user, complaint_id, form.resolution.data),
                   "已办结。", url_for("cycles.detail", cycle_id=found.cycle_id) + "#complaints")


# --- supplementary rolls (补充名册): create, approve, cancel; the service checks everything ---------------

@bp.post("/<int:cycle_id>/rolls")
@login_required
def create_roll(cycle_id: int):
    service.get_cycle(current_user, cycle_id, "cycle.manage")
    form = SupplementaryRollForm()
    if form.validate_on_submit():
        data, unreadable = form.to_service()
        with refusals_flashed(form.label_of):
            if unreadable:
                raise Invalid(f"补充名册有 {len(unreadable)} 行无法识别，未增列。", unreadable)
            roll = service.create_supplementary(current_user, cycle_id, data)
            flash(f"已增列补充名册第 {roll.seq} 号（{roll.entry_count} 户，{roll.total_fen / 100:,.2f} 元），"
                  f"公示至 {_local(roll.notice_ends_at)}。", "success")
            return redirect(url_for("cycles.detail", cycle_id=cycle_id) + "#rolls")
    else:
        flash_refusal(Invalid("补充名册填写有误。", [{"field": name, "message": message}
                                                  for name, messages in form.errors.items() for message in messages]),
                     form.label_of)
    return _detail_page(cycle_id, roll_form=form), 422


@bp.post("/rolls/<int:roll_id>/approve")
@login_required
def approve_roll(roll_id: int):
    roll, _cycle = service.get_roll(current_user, roll_id, "cycle.manage")
    return submit(ConfirmForm(), lambda: service.approve_roll(current_user, roll_id), "补充名册已审定冻结。",
                   url_for("cycles.detail", cycle_id=roll.cycle_id) + "#rolls")


@bp.post("/rolls/<int:roll_id>/cancel")
@login_required
def cancel_roll(roll_id: int):
    roll, _cycle = service.get_roll(current_user, roll_id, "cycle.manage")
    form = CancelRollForm()
    return submit(form, lambda: service.cancel_roll(current_user, roll_id, form.reason.data),
                   "补充名册已撤销，公示已撤回。", url_for("cycles.detail", cycle_id=roll.cycle_id) + "#rolls")


@bp.get("/<int:cycle_id>/notice")
@login_required
def notice(cycle_id: int):
    """The printable public-notice list (公示名单), names and numbers partly masked."""
    cycle = service.get_cycle(current_user, cycle_id)
    roll_id = int_arg("roll")
    roll = db.session.get(Roll, roll_id) if roll_id else service.current_notice_roll(cycle)
    if roll is not None and roll.cycle_id != cycle.id:
        raise NotFound("名册不存在。")
    record = db.session.scalar(select(PublicNotice).where(
        PublicNotice.cycle_id == cycle.id,
        (PublicNotice.roll_id == roll.id) if roll is not None else PublicNotice.roll_id.is_(None))
        .order_by(PublicNotice.id.desc()))
    rows = service.notice_rows(cycle, roll)
    return render_template("cycles/notice.html", cycle=cycle, roll=roll, notice=record, rows=rows,
                           region=db.session.get(Region, cycle.region_code),
                           total=sum(r["amount"] for r in rows))


@bp.get("/<int:cycle_id>/board")
@login_required
def board(cycle_id: int):
    """Reconstruction progress board (重建进度看板): houses by stage, overdue reports marked."""
    cycle = service.get_cycle(current_user, cycle_id)
    days = current_app.config["CYCLE_RECONSTRUCTION_REPORT_DAYS"]
    show = service.show_id(current_user, cycle.region_code)
    projects = [p.to_dict(show_id=show, report_days=days) for p in service.projects(current_user, cycle_id)]
    columns = {stage: [p for p in projects if p["stage"] == stage] for stage in STAGES}
    return render_template("cycles/board.html", cycle=cycle, columns=columns, stage_labels=STAGE_LABELS,
                           overdue=sum(1 for p in projects if p["report_overdue"]), total=len(projects),
                           days=days, form=ProgressForm(), names=_names(p["village_code"] for p in projects),
                           can_report=service._can_see_cycle(current_user, cycle, "household.edit")
                           and cycle.status in ("approved", "disbursing"))


@bp.post("/projects/<int:project_id>/progress")
@login_required
def progress(project_id: int):
    project = db.session.get(ReconstructionProject, project_id)
    if project is None:
        raise NotFound("重建项目不存在。")
    form = ProgressForm()
    return submit(form, lambda: service.report_progress(current_user, project_id, {
                       "stage": form.stage.data, "note": form.note.data}),
                   "已报告进度。", url_for("cycles.board", cycle_id=project.cycle_id))


@bp.get("/payment-rolls/<int:roll_id>.xlsx")
@login_required
def payment_roll_xlsx(roll_id: int):
    found = db.session.get(PaymentRoll, roll_id)
    if found is None:
        raise NotFound("发放批次不存在。")
    cycle = service.get_cycle(current_user, found.cycle_id)
    require(current_user, "payment.manage", cycle.region_code)
    rows = db.session.scalars(select(Payment).where(Payment.payment_roll_id == found.id).order_by(Payment.id)).all()
    return send_file(io.BytesIO(excel.write_bank_roll(cycle.name, found.period, rows)), mimetype=XLSX,
                     as_attachment=True, download_name=f"发放名册-{cycle.id}-{found.period}.xlsx")


# --- households ------------------------------------------------------------------------------------------

@bp.route("/households", methods=["GET", "POST"])
@login_required
def households():
    require(current_user, "household.view", current_user.region_code)
    form = HouseholdForm()
    if form.validate_on_submit():
        data = {name: getattr(form, name).data for name in ("village_code", "head_name", "id_number", "members",
                                                             "contact", "bank_account", "bank_name",
                                                             "damage_class", *FLAGS)}
        data = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
        with refusals_flashed():
            household = service.create_household(current_user, data)
            flash(f"已登记受灾户 {household.head_name}（编号 {household.id}）。", "success")
            return redirect(url_for("cycles.households"))
    q = request.args.get("q") or None
    damage = request.args.get("damage_class") or None
    rows = db.session.scalars(service.household_query(current_user, q=q, damage_class=damage).limit(1000)).all()
    return render_template("cycles/households.html", households=rows, form=form, import_form=ImportForm(),
                           q=q or "", damage=damage, damage_classes=DAMAGE_CLASSES, flags=FLAGS,
                           show=lambda h: service.show_id(current_user, h.village_code),
                           names=_names(h.village_code for h in rows),
                           can_edit=can(current_user, "household.edit", current_user.region_code))


@bp.post("/households/import")
@upload_limit("SPREADSHEET_MAX_BYTES")
@login_required
def import_households():
    form = ImportForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "danger")
        return redirect(url_for("cycles.households"))
    records, errors = excel.read_ledger(form.file.data.stream)
    try:
        result = service.import_households(current_user, records, errors, mode=form.mode.data)
        flash(f"已导入：新增 {result['created']} 户，更新 {result['updated']} 户。", "success")
        return redirect(url_for("cycles.households"))
    except Invalid as exc:
        db.session.rollback()
        return render_template("cycles/import_errors.html", detail=exc.detail, errors=exc.errors), 422


@bp.get("/households.xlsx")
@login_required
def households_xlsx():
    rows = db.session.scalars(service.household_query(current_user)).all()
    region = db.session.get(Region, current_user.region_code)
    content = excel.write_ledger(rows, show_id=service.show_id(current_user, current_user.region_code),
                                 village_names=_names(h.village_code for h in rows),
                                 unit=region.name if region else "全国")
    return send_file(io.BytesIO(content), mimetype=XLSX, as_attachment=True,
                     download_name=f"受灾户台账-{current_user.region_code}.xlsx")


# --- funds ------------------------------------------------------------------------------------------------

@bp.route("/funds", methods=["GET", "POST"])
@login_required
def funds_page():
    require(current_user, "cycle.view", current_user.region_code)
    form = FundSourceForm()
    allocation = AllocationForm()
    if request.method == "POST" and request.form.get("form") == "source" and form.validate_on_submit():
        with refusals_flashed():
            funds.create_source(current_user, {"code": form.code.data, "name": form.name.data, "level": form.level.data,
                                               "region_code": form.region_code.data.strip(), "year": form.year.data,
                                               "lines": [{"relief_item": form.relief_item.data,
                                                          "amount": float(form.amount.data)}]})
            flash("已登记资金来源。", "success")
            return redirect(url_for("cycles.funds_page"))
    elif request.method == "POST" and request.form.get("form") == "allocation" and allocation.validate_on_submit():
        with refusals_flashed():
            funds.allocate(current_user, allocation.line_id.data,
                           {"amount": float(allocation.amount.data), "note": allocation.note.data})
            flash("已入账。", "success")
            return redirect(url_for("cycles.funds_page"))
    year = int_arg("year")
    report = funds.report(current_user, year=year)
    return render_template("cycles/funds.html", report=report, form=form, allocation=allocation, year=year,
                           can_pay=can(current_user, "payment.manage", current_user.region_code),
                           names=_names(s["region_code"] for s in report["sources"]))


@bp.get("/fund-lines/<int:line_id>")
@login_required
def fund_ledger(line_id: int):
    line = funds.get_line(current_user, line_id)
    entries = funds.ledger(current_user, line_id)
    return render_template("cycles/ledger.html", line=line, entries=entries, kinds=KINDS)


# --- winter-spring ----------------------------------------------------------------------------------------

@bp.route("/winter-spring/<int:year>", methods=["GET", "POST"])
@login_required
def winter_spring(year: int):
    region_code = request.args.get("region_code") or current_user.region_code
    form = SubmitNeedsForm()
    if request.method == "POST":
        return submit(form, lambda: winter.submit_needs(current_user, year, form.region_code.data),
                       "已报送需救助情况统计表。",
                       url_for("cycles.winter_spring", year=year, region_code=form.region_code.data or region_code))
    table = winter.needs_table(current_user, year, region_code)
    deadlines = winter.deadlines(current_user, year, region_code)
    level = codes.level_of(table["region_code"])
    return render_template("cycles/winter_spring.html", year=year, table=table, deadlines=deadlines,
                           names=_names(d["region_code"] for d in deadlines), form=form,
                           can_submit=level in LEVEL_LABELS and can(current_user, "cycle.manage", table["region_code"]),
                           festival=winter.spring_festival(year))


@bp.get("/winter-spring/<int:year>.xlsx")
@login_required
def winter_spring_xlsx(year: int):
    table = winter.needs_table(current_user, year, request.args.get("region_code") or current_user.region_code)
    return send_file(io.BytesIO(excel.write_needs_table(table)), mimetype=XLSX, as_attachment=True,
                     download_name=f"冬春需救助情况统计表-{year}-{table['region_code']}.xlsx")


# --- the home panel -----------------------------------------------------------------------------------------

def home_panel(user) -> dict | None:
    """For coordinators: cycles waiting for a decision, overdue progress reports, deadlines."""
    if user.role not in ("coordinator", "admin") or not can(user, "cycle.manage", user.region_code):
        return None
    now = utcnow()
    visible = db.session.scalars(service.cycle_query(user).where(
        Cycle.status.notin_(("closed", "cancelled"))).limit(200)).all()
    if not visible:
        return None
    ready = [c for c in visible if c.status == "notice" and c.notice_ends_at and c.notice_ends_at <= now]
    in_notice = [c for c in visible if c.status == "notice" and c not in ready]
    ids = [c.id for c in visible]
    days = current_app.config["CYCLE_RECONSTRUCTION_REPORT_DAYS"]
    overdue = db.session.scalar(select(func.count(ReconstructionProject.id)).where(
        ReconstructionProject.cycle_id.in_(ids), ReconstructionProject.stage != "moved_in",
        ReconstructionProject.last_report_at < now - timedelta(days=days)))
    disbursing = [c for c in visible if c.status == "disbursing"]
    return {"template": "cycles/_home_panel.html", "ready": ready, "in_notice": in_notice, "overdue": overdue,
            "disbursing": disbursing, "open_count": len(visible), "year": now.year}
