"""Pages of the relief cycles (Chinese first): cycle list and detail, the printable public
notice, the reconstruction progress board, the household registry with Excel import and
export, funds, and the winter-spring needs table.

Thin: a page takes what it shows from one service function (which checks permission and says
which forms the user gets), and a posted form goes as it is to the same service function as the
API's body (:func:`app.pages.perform`), which refuses it with the fields named by their labels.
"""
from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from ..api import XLSX, int_arg
from ..errors import Invalid
from ..i18n import translate
from ..pages import labels_of, perform, refusals_flashed
from ..uploads import upload_limit
from . import service
from .forms import (AllocationForm, AllocationReceivedForm, BankReturnForm, BeneficiaryForm, CancelRollForm, CheckForm,
                    ComplaintForm, ConfirmForm, CycleForm, RollStepForm,
                    FundLineForm, FundSourceForm, HouseholdForm, ImportForm, ProgressForm, ResolveForm,
                    ReviewForm, SubmitNeedsForm, SupplementaryRollForm, TransitionForm)
from .models import ACTION_LABELS
from .service import funds, winter

bp = Blueprint("cycles", __name__, url_prefix="/cycles")


def _local(value) -> str:
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y-%m-%d %H:%M")


def _detail(cycle_id: int, anchor: str = "") -> str:
    return url_for("cycles.detail", cycle_id=cycle_id) + anchor


def _xlsx(content: bytes, name: str):
    return send_file(io.BytesIO(content), mimetype=XLSX, as_attachment=True, download_name=name)


@bp.app_template_filter("yuan")
def _yuan(value) -> str:
    return "{:,.2f}".format(value or 0)


# --- cycles -----------------------------------------------------------------------------------------

@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    form = CycleForm()
    if request.method == "POST":
        with refusals_flashed(labels_of(form)):
            cycle = service.create_cycle(current_user, request.form)
            flash(translate("已新建救助周期「%(name)s」。", name=cycle.name), "success")
            return redirect(url_for("cycles.detail", cycle_id=cycle.id))
    page = service.index_page(current_user, kind=request.args.get("kind") or None,
                              status=request.args.get("status") or None)
    return render_template("cycles/index.html", form=form, **page)


@bp.get("/<int:cycle_id>")
@login_required
def detail(cycle_id: int):
    return _detail_page(cycle_id)


def _detail_page(cycle_id: int, roll_form: SupplementaryRollForm | None = None) -> str:
    page = service.detail_page(current_user, cycle_id)
    line_form = FundLineForm()
    line_form.fund_line_id.choices = page.pop("fund_line_choices")
    return render_template(
        "cycles/detail.html", transition_form=TransitionForm(), beneficiary_form=BeneficiaryForm(),
        review_form=ReviewForm(), line_form=line_form, complaint_form=ComplaintForm(), resolve_form=ResolveForm(),
        roll_form=roll_form or SupplementaryRollForm(formdata=None), cancel_roll_form=CancelRollForm(), **page)


@bp.post("/<int:cycle_id>/transition")
@login_required
def transition(cycle_id: int):
    done = ACTION_LABELS.get(request.form.get("action"), request.form.get("action"))
    return perform(lambda: service.transition(current_user, cycle_id, request.form),
                   lambda cycle: translate("已%(done)s：当前状态「%(status)s」。", done=translate(done),
                                            status=translate(cycle.status_label)), _detail(cycle_id),
                   form=TransitionForm())


@bp.post("/<int:cycle_id>/beneficiaries")
@login_required
def add_beneficiary(cycle_id: int):
    return perform(lambda: service.add_beneficiary(current_user, cycle_id, request.form), "已登记。",
                   _detail(cycle_id), form=BeneficiaryForm())


@bp.post("/<int:cycle_id>/propose")
@login_required
def propose(cycle_id: int):
    return perform(lambda: service.propose(current_user, cycle_id),
                   lambda made: translate("已按规则列入 %(n)s 户。", n=len(made)), _detail(cycle_id), form=ConfirmForm())


@bp.post("/<int:cycle_id>/review")
@login_required
def review(cycle_id: int):
    return perform(lambda: service.record_review(current_user, cycle_id, request.form), "已记录评议审核结果。",
                   _detail(cycle_id, "#beneficiaries"), form=ReviewForm())


@bp.post("/<int:cycle_id>/fund-line")
@login_required
def fund_line(cycle_id: int):
    return perform(lambda: funds.assign_line(current_user, cycle_id, request.form), "已指定资金指标。",
                   _detail(cycle_id), form=FundLineForm())


@bp.post("/<int:cycle_id>/complaints")
@login_required
def complaint(cycle_id: int):
    return perform(lambda: service.add_complaint(current_user, cycle_id, request.form), "已登记投诉举报。",
                   _detail(cycle_id, "#complaints"), form=ComplaintForm())


@bp.post("/complaints/<int:complaint_id>/resolve")
@login_required
def resolve(complaint_id: int):
    found = service.get_complaint(current_user, complaint_id)
    return perform(lambda: service.resolve_complaint(current_user, complaint_id, request.form), "已办结。",
                   _detail(found.cycle_id, "#complaints"), form=ResolveForm())


# --- supplementary rolls (补充名册): create, approve, cancel; the service checks everything ---------------

@bp.post("/<int:cycle_id>/rolls")
@login_required
def create_roll(cycle_id: int):
    form = SupplementaryRollForm()
    with refusals_flashed(form.label_of):
        roll = service.create_supplementary(current_user, cycle_id, request.form)
        flash(translate("已增列补充名册第 %(seq)s 号（%(n)s 户，%(yuan)s 元），待各村民主评议后公示。",
                        seq=roll.seq, n=roll.entry_count, yuan=f"{roll.total_fen / 100:,.2f}"), "success")
        return redirect(_detail(cycle_id, "#rolls"))
    return _detail_page(cycle_id, roll_form=form), 422


@bp.post("/rolls/<int:roll_id>/step")
@login_required
def roll_step(roll_id: int):
    """A village's 民主评议 or a township's 乡审 of a supplementary roll."""
    roll, _cycle = service.get_roll(current_user, roll_id)
    return perform(lambda: service.roll_step(current_user, roll_id, request.form),
                   lambda r: translate("已记录。名册状态：%(status)s。", status=translate(r.to_dict()["status_label"])), _detail(roll.cycle_id, "#rolls"),
                   form=RollStepForm())


@bp.get("/steps")
@login_required
def steps():
    """我的待办: the steps of the official order waiting for the signed-in user."""
    return render_template("cycles/steps.html", **service.steps_page(current_user))


@bp.route("/<int:cycle_id>/checks", methods=["GET", "POST"])
@upload_limit("CYCLE_CHECK_UPLOAD_MAX_BYTES", field="photos")
@login_required
def checks(cycle_id: int):
    """逐户核查 (reconstruction): the township checks each house, with photos."""
    form = CheckForm()
    if request.method == "POST":
        with refusals_flashed(labels_of(form)):
            check = service.record_check(current_user, cycle_id, request.form, request.files.getlist("photos"))
            flash("已记录核查结果。" if not check.exclusion else "已记录核查结果：该户排除。", "success")
            return redirect(url_for("cycles.checks", cycle_id=cycle_id))
    page = service.checks_page(current_user, cycle_id)
    return render_template("cycles/checks.html", form=form,
                           photos=service.check_photos(c.id for c in page["checks"].values()), **page)


@bp.get("/check-photos/<int:photo_id>")
@login_required
def check_photo(photo_id: int):
    photo = service.check_photo(current_user, photo_id)
    return Response(photo.content, mimetype=photo.content_type,
                    headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"})


@bp.post("/rolls/<int:roll_id>/approve")
@login_required
def approve_roll(roll_id: int):
    roll, _cycle = service.get_roll(current_user, roll_id)
    return perform(lambda: service.approve_roll(current_user, roll_id), "补充名册已县级审批并冻结。",
                   _detail(roll.cycle_id, "#rolls"), form=ConfirmForm())


@bp.post("/rolls/<int:roll_id>/cancel")
@login_required
def cancel_roll(roll_id: int):
    roll, _cycle = service.get_roll(current_user, roll_id, "cycle.manage")
    return perform(lambda: service.cancel_roll(current_user, roll_id, request.form), "补充名册已撤销，公示已撤回。",
                   _detail(roll.cycle_id, "#rolls"), form=CancelRollForm())


@bp.get("/<int:cycle_id>/notice")
@login_required
def notice(cycle_id: int):
    """The printable public-notice list (公示名单), names and numbers partly masked."""
    return render_template("cycles/notice.html", **service.notice_page(current_user, cycle_id, int_arg("roll")))


@bp.get("/<int:cycle_id>/board")
@login_required
def board(cycle_id: int):
    """Reconstruction progress board (重建进度看板): houses by stage, overdue reports marked."""
    return render_template("cycles/board.html", form=ProgressForm(), **service.board_page(current_user, cycle_id))


@bp.post("/projects/<int:project_id>/progress")
@login_required
def progress(project_id: int):
    project = service.get_project(current_user, project_id)
    return perform(lambda: service.report_progress(current_user, project_id, request.form), "已报告进度。",
                   url_for("cycles.board", cycle_id=project.cycle_id), form=ProgressForm())


@bp.get("/payment-rolls/<int:roll_id>.xlsx")
@login_required
def payment_roll_xlsx(roll_id: int):
    """The bank's payment file (full identity numbers): the finance role only, audited."""
    return _xlsx(*service.bank_file(current_user, roll_id))


@bp.get("/payment-rolls/<int:roll_id>")
@login_required
def payment_roll(roll_id: int):
    """A batch's reconciliation (对账): states, failures and their re-issue, the return files."""
    return render_template("cycles/payment_roll.html", form=BankReturnForm(),
                           **service.batch_page(current_user, roll_id))


@bp.post("/payment-rolls/<int:roll_id>/bank-return")
@upload_limit("SPREADSHEET_MAX_BYTES")
@login_required
def bank_return(roll_id: int):
    try:
        result = service.import_return(current_user, roll_id, request.files.get("file"))
    except Invalid as exc:
        return render_template("cycles/import_errors.html", detail=exc.detail, errors=exc.errors,
                               back=url_for("cycles.payment_roll", roll_id=roll_id)), 422
    flash(translate("已导入回盘：入账 %(paid)s 笔，失败 %(failed)s 笔，退回 %(returned)s 笔，退回资金 %(credited)s 元，"
                    "未变 %(unchanged)s 笔。", paid=result["paid"], failed=result["failed"], returned=result["returned"],
                    credited=f"{result['credited']:,.2f}", unchanged=result["unchanged"]), "success")
    return redirect(url_for("cycles.payment_roll", roll_id=roll_id))


@bp.get("/payment-rolls/<int:roll_id>/reconciliation.xlsx")
@login_required
def payment_roll_reconciliation_xlsx(roll_id: int):
    return _xlsx(*service.batch_workbook(current_user, roll_id))


# --- households ------------------------------------------------------------------------------------------

@bp.route("/households", methods=["GET", "POST"])
@login_required
def households():
    form = HouseholdForm()
    if request.method == "POST":
        with refusals_flashed(labels_of(form)):
            household = service.create_household(current_user, request.form)
            flash(translate("已登记受灾户 %(name)s（编号 %(id)s）。", name=household.head_name, id=household.id), "success")
            return redirect(url_for("cycles.households"))
    page = service.households_page(current_user, q=request.args.get("q") or None,
                                   damage_class=request.args.get("damage_class") or None)
    return render_template("cycles/households.html", form=form, import_form=ImportForm(), **page)


@bp.post("/households/import")
@upload_limit("SPREADSHEET_MAX_BYTES")
@login_required
def import_households():
    try:
        result = service.import_ledger(current_user, request.form, request.files.get("file"))
    except Invalid as exc:
        return render_template("cycles/import_errors.html", detail=exc.detail, errors=exc.errors), 422
    flash(translate("已导入：新增 %(created)s 户，更新 %(updated)s 户。", created=result["created"],
                    updated=result["updated"]), "success")
    return redirect(url_for("cycles.households"))


@bp.get("/households.xlsx")
@login_required
def households_xlsx():
    return _xlsx(service.export_ledger(current_user, unit_default="全国"),
                 translate("受灾户台账-%(region)s.xlsx", region=current_user.region_code))


# --- funds ------------------------------------------------------------------------------------------------

@bp.route("/funds", methods=["GET", "POST"])
@login_required
def funds_page():
    form, allocation = FundSourceForm(), AllocationForm()
    posted = request.form.get("form") if request.method == "POST" else None
    if posted == "source":
        with refusals_flashed(labels_of(form)):
            funds.register_source(current_user, request.form)
            flash("已登记资金来源。", "success")
            return redirect(url_for("cycles.funds_page"))
    elif posted == "allocation":
        with refusals_flashed(labels_of(allocation)):
            funds.allocate(current_user, request.form.get("line_id"), request.form)
            flash("已入账。", "success")
            return redirect(url_for("cycles.funds_page"))
    page = funds.funds_page(current_user, int_arg("year"))
    return render_template("cycles/funds.html", form=form, allocation=allocation, **page)


@bp.get("/fund-lines/<int:line_id>")
@login_required
def fund_ledger(line_id: int):
    return render_template("cycles/ledger.html", reconciliation=service.line_reconciliation(current_user, line_id),
                           **funds.ledger_page(current_user, line_id))


@bp.get("/fund-lines/<int:line_id>/reconciliation.xlsx")
@login_required
def fund_line_reconciliation_xlsx(line_id: int):
    return _xlsx(*service.line_workbook(current_user, line_id))


# --- an event's fund estimate and request (资金需求测算、资金申请) ------------------------------------------

@bp.route("/events/<int:event_id>/fund-request", methods=["GET", "POST"])
@login_required
def fund_request(event_id: int):
    """The estimate by county and relief kind, the printable request, and the allocation received."""
    region_code = request.args.get("region_code") or None
    back = url_for("cycles.fund_request", event_id=event_id, region_code=region_code)
    if request.method == "POST":
        return perform(lambda: funds.register_source(current_user, request.form), "已登记到位资金。", back,
                       form=AllocationReceivedForm())
    page = service.estimate_page(current_user, event_id, region_code)
    form = AllocationReceivedForm(formdata=None, year=page["event"]["year"],
                                  name=translate("%(event)s救灾资金", event=page['event']['name']))
    form.region_code.choices = [(r["region_code"], page["names"].get(r["region_code"], r["region_code"]))
                                for r in page["rows"]]
    form.relief_item.choices = list(page["kinds"].items())
    return render_template("cycles/fund_request.html", form=form, **page)


@bp.get("/events/<int:event_id>/fund-request.xlsx")
@login_required
def fund_request_xlsx(event_id: int):
    return _xlsx(*service.request_workbook(current_user, event_id, request.args.get("region_code") or None))


# --- winter-spring ----------------------------------------------------------------------------------------

@bp.route("/winter-spring/<int:year>", methods=["GET", "POST"])
@login_required
def winter_spring(year: int):
    region_code = request.args.get("region_code") or current_user.region_code
    form = SubmitNeedsForm()
    if request.method == "POST":
        return perform(lambda: winter.submit_needs(current_user, year, request.form), "已报送需救助情况统计表。",
                       url_for("cycles.winter_spring", year=year,
                               region_code=request.form.get("region_code") or region_code), form=form)
    return render_template("cycles/winter_spring.html", form=form,
                           **winter.winter_page(current_user, year, region_code))


@bp.get("/winter-spring/<int:year>.xlsx")
@login_required
def winter_spring_xlsx(year: int):
    return _xlsx(*winter.needs_workbook(current_user, year, request.args.get("region_code")))


# --- the home panel -----------------------------------------------------------------------------------------

def home_panel(user) -> dict | None:
    """The cycles' panel on the home page (``app.areas``): see :func:`service.home_panel`."""
    return service.home_panel(user)
