"""JSON API of the relief cycles (``/api/v1``), in the style of API.md.

Households (受灾户), cycles and their transitions, beneficiaries and reviews (村评/乡审), rolls
(frozen and supplementary), payment batches and payments, public notices, complaints,
reconstruction progress, funds, the winter-spring needs tables and the declared jobs.
Identity numbers and bank accounts are masked unless the caller may see them
(``household.view_id_number``).
"""
from __future__ import annotations

import io
from dataclasses import replace
from typing import Callable

from flask import jsonify, request, send_file
from sqlalchemy import select

from ..api import (Field, XLSX, api_blueprint, api_user, code_arg, created, doc, idempotent, int_arg,
                  items_of, list_of, page, page_of, parse)
from ..errors import Invalid, NotFound
from ..extensions import db
from ..permissions import require
from ..uploads import upload_limit
from . import excel, funds, service, winter
from .models import Complaint, Cycle, Payment, PaymentRoll, PublicNotice
from .rules import KINDS, STAGES

bp = api_blueprint("cycles_api", __name__)

HOUSEHOLD_FIELDS = {
    name: replace(spec, default="none" if name == "damage_class" else False if spec.type == "bool"
                  else "" if not spec.required else None)
    for name, spec in service.HOUSEHOLD_SPECS.items()
}
CYCLE_FIELDS = {
    "kind": Field("str", choices=tuple(KINDS), description="transitional 过渡期 / winter_spring 冬春 / "
                  "reconstruction 倒损住房重建 / condolence 抚慰金 / drought 旱灾临时救助"),
    "region_code": Field("code", description="县级区划代码（县定）"),
    "event_id": Field("int", required=False, min=1, description="灾害过程（过渡期、重建、抚慰金、旱灾救助必填）"),
    "year": replace(winter.YEAR_FIELD, required=False),
    "name": Field("str", required=False, default="", max_length=200),
    "starts_on": Field("date", required=False, description="过渡期救助起始日（默认：灾情稳定日）"),
    "months": Field("int", required=False, min=1, max=120, description="过渡期救助月数（默认 3，最长 6）"),
    "months_approval_ref": Field("str", required=False, default="", max_length=100,
                                 description="超过默认月数时的批准文号"),
    "notice_days": Field("int", required=False, min=1, max=365, description="公示天数（不少于配置的最低天数，默认 7）"),
    "pay_to_month": Field("int", required=False, min=1, max=12, description="冬春救助发放截止月份（默认 5，单季作物区 7）"),
    "fund_line_id": Field("int", required=False, min=1, description="资金指标（专款专用）"),
    "note": Field("str", required=False, default="", max_length=4000, multiline=True),
}
TRANSITION_FIELDS = {
    "action": Field("str", choices=("open_survey", "submit_review", "start_notice", "return_to_review",
                                    "approve", "disburse", "close", "cancel")),
    "reason": Field("str", required=False, default="", max_length=4000, multiline=True, description="撤销或退回的原因"),
    "location": Field("str", required=False, default="", max_length=200, description="公示地点"),
}
BENEFICIARY_FIELDS = {
    "items": Field("list", items="dict", max_items=5000,
                   description="[{household_id, persons?, deceased?, needs?: {food, clothing, heating}}]"),
}
REVIEW_FIELDS = {
    "stage": Field("str", choices=("village", "township"), description="village 村评 / township 乡审"),
    "decisions": Field("list", items="dict", max_items=5000,
                       description="[{household_id, decision: approve|reject, note?}]"),
}
SUPPLEMENTARY_FIELDS = {
    "purpose": Field("str", choices=("add", "adjust", "extend"),
                     description="add 增补救助对象 / adjust 补发金额 / extend 延长过渡期救助"),
    "reason": Field("str", max_length=4000, multiline=True),
    "approval_ref": Field("str", required=False, default="", max_length=100, description="批准文号（延长必填）"),
    "months_total": Field("int", required=False, min=1, max=120, description="延长后的总月数"),
    "household_ids": Field("list", required=False, items=Field("int", min=1), max_items=5000,
                           description="延长的户（默认名册内全部）"),
    "entries": Field("list", required=False, default=[], items="dict", max_items=5000,
                     description="add: [{household_id, persons?, deceased?}]; adjust: [{household_id, amount, note?}]"),
    "location": Field("str", required=False, default="", max_length=200),
}
COMPLAINT_FIELDS = {
    "content": Field("str", max_length=4000, multiline=True, description="投诉举报内容"),
    "complainant": Field("str", required=False, default="", max_length=100),
    "contact": Field("str", required=False, default="", max_length=100),
    "household_id": Field("int", required=False, min=1),
}
PROGRESS_FIELDS = {
    "stage": Field("str", choices=STAGES, description="verified → started → main_structure → completed → moved_in"),
    "observed_at": Field("datetime", required=False, description="到达该阶段的时间（默认现在）"),
    "note": Field("str", required=False, default="", max_length=4000, multiline=True),
}
FUND_FIELDS = {
    "code": Field("str", max_length=40, description="资金来源编号（文号）"),
    "name": Field("str", max_length=200),
    "level": Field("str", choices=("central", "provincial", "prefecture", "county", "donation")),
    "region_code": Field("code", description="管理这笔资金的区划"),
    "year": replace(winter.YEAR_FIELD, description="年度"),
    "lines": Field("list", required=False, default=[], items="dict", max_items=100,
                   description="资金指标 [{relief_item, amount}]（元）"),
    "note": Field("str", required=False, default="", max_length=4000, multiline=True),
}
LINE_FIELDS = {
    "relief_item": Field("str", choices=tuple(KINDS)),
    "amount": Field("number", min=0, max=funds.AMOUNT_MAX_YUAN, description="元"),
    "note": Field("str", required=False, default="", max_length=4000, multiline=True),
}
CANCEL_ROLL_FIELDS = {"reason": Field("str", max_length=4000, multiline=True)}
RESOLVE_FIELDS = {"resolution": Field("str", max_length=4000, multiline=True)}
ALLOCATION_FIELDS = {
    "amount": Field("number", min=-funds.AMOUNT_MAX_YUAN, max=funds.AMOUNT_MAX_YUAN, description="元；负数为调减"),
    "note": Field("str", max_length=4000, multiline=True, description="文号或说明"),
}


def _body(fields: dict, extra: Callable[[dict], list[dict]] | None = None) -> dict:
    """``parse`` the body; when it fails, add the service's own checks of the raw body so the
    422 names every bad field at once."""
    data = request.get_json(silent=True)
    try:
        return parse(fields, data)
    except Invalid as exc:
        if extra is not None and isinstance(data, dict):
            named = {e["field"] for e in exc.errors}
            exc.errors.extend(e for e in extra(data) if e["field"] not in named)
            exc.detail = "请求有 %d 处错误。" % len(exc.errors)
        raise


def _household_errors(data: dict) -> list[dict]:
    errors: list[dict] = []
    service._clean_household(data, errors)
    return errors


def _show(region_code: str) -> bool:
    return service.show_id(api_user(), region_code)


def _xlsx(content: bytes, name: str):
    return send_file(io.BytesIO(content), as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# --- households ----------------------------------------------------------------------------------

@bp.get("/households")
@doc("受灾户台账（分页）", tag="households",
     query={"region_code": "区划（默认本人管辖）", "q": "户主姓名或身份证号码", "damage_class": "住房倒损",
            "limit": "每页条数", "offset": "偏移"}, schema=page_of("Household"))
def households():
    user = api_user()
    stmt = service.household_query(user, region_code=code_arg(), q=request.args.get("q"),
                                   damage_class=request.args.get("damage_class"))
    return jsonify(page(stmt, lambda h: h.to_dict(show_id=_show(h.village_code))))


@bp.post("/households")
@idempotent
@doc("登记受灾户（身份证号码校验且全台账唯一）", tag="households", body=HOUSEHOLD_FIELDS,
     responses={201: "已登记", 403: "管辖范围外", 409: "身份证号码已登记", 422: "输入有误"}, schema="Household")
def create_household():
    data = _body(HOUSEHOLD_FIELDS, _household_errors)
    household = service.create_household(api_user(), data)
    return created(household.to_dict(show_id=_show(household.village_code)))


@bp.get("/households/<int:household_id>")
@doc("受灾户详情", tag="households", responses={200: "受灾户", 404: "不存在"}, schema="Household")
def household(household_id: int):
    found = service.get_household(api_user(), household_id)
    return jsonify(found.to_dict(show_id=_show(found.village_code)))


@bp.patch("/households/<int:household_id>")
@doc("修改受灾户（只改给出的字段）", tag="households",
     body={k: replace(f, required=False) for k, f in HOUSEHOLD_FIELDS.items()},
     responses={200: "已修改", 404: "不存在", 409: "身份证号码已登记", 422: "输入有误"}, schema="Household")
def update_household(household_id: int):
    raw = request.get_json(silent=True)
    if not isinstance(raw, dict):
        raise Invalid("请求体必须是 JSON 对象。", [{"field": "", "message": "请求体必须是 JSON 对象"}])
    unknown = sorted(set(raw) - set(HOUSEHOLD_FIELDS))
    if unknown:
        raise Invalid("有不认识的字段。", [{"field": name, "message": "未知字段"} for name in unknown])
    found = service.update_household(api_user(), household_id, raw)
    return jsonify(found.to_dict(show_id=_show(found.village_code)))


@bp.post("/households/import")
@upload_limit("SPREADSHEET_MAX_BYTES")
@doc("导入因灾倒塌损坏住房户台账（Excel .xlsx，multipart 字段 file；mode=create|upsert）。有任何一行出错则不导入，"
     "errors 逐行列出。重复上传同一文件：create 模式逐行报“已在台账中”且不导入，upsert 模式结果相同（幂等）",
     tag="households", responses={200: "已导入", 413: "文件超过 SPREADSHEET_MAX_BYTES", 422: "文件有错误，未导入"},
     schema="HouseholdImport")
@idempotent
def import_households():
    upload = request.files.get("file")
    if upload is None:
        raise Invalid("请上传文件。", [{"field": "file", "message": "必填（multipart 字段 file）"}])
    records, errors = excel.read_ledger(upload.stream)
    result = service.import_households(api_user(), records, errors, mode=request.form.get("mode", "create"))
    return jsonify(result)


@bp.get("/households/export.xlsx")
@doc("导出受灾户台账（Excel；无权查看者身份证号码脱敏）", tag="households", query={"region_code": "区划"}, media_type=XLSX)
def export_households():
    from ..regions import Region

    user = api_user()
    region_code = code_arg() or user.region_code
    rows = db.session.scalars(service.household_query(user, region_code=region_code)).all()
    names = dict(db.session.execute(select(Region.code, Region.name).where(
        Region.code.in_({h.village_code for h in rows}))).all())
    region = db.session.get(Region, region_code)
    content = excel.write_ledger(rows, show_id=_show(region_code), village_names=names,
                                 unit=region.name if region else region_code)
    return _xlsx(content, f"受灾户台账-{region_code}.xlsx")


# --- cycles -------------------------------------------------------------------------------------------

def _cycle_dict(cycle: Cycle) -> dict:
    from sqlalchemy import func

    from .models import Beneficiary
    from .payments import cycle_totals

    counts = db.session.execute(select(func.count(Beneficiary.id)).where(Beneficiary.cycle_id == cycle.id)).scalar()
    line = cycle.fund_line.to_dict() if cycle.fund_line else None
    return {**cycle.to_dict(), "beneficiary_count": counts, "fund_line": line, "totals": cycle_totals(cycle.id)}


@bp.get("/cycles")
@doc("救助周期（分页）", tag="cycles",
     query={"kind": "救助项目", "status": "状态", "region_code": "区划", "event_id": "灾害过程", "year": "年度",
            "limit": "每页条数", "offset": "偏移"}, schema=page_of("Cycle"))
def cycles():
    stmt = service.cycle_query(api_user(), kind=request.args.get("kind"), status=request.args.get("status"),
                               region_code=code_arg(), event_id=int_arg("event_id"),
                               year=int_arg("year"))
    return jsonify(page(stmt, lambda c: c.to_dict()))


@bp.post("/cycles")
@idempotent
@doc("新建救助周期（草稿）", tag="cycles", body=CYCLE_FIELDS,
     responses={201: "已新建", 403: "无权或管辖范围外", 409: "本县已有同一项目的周期", 422: "输入有误"}, schema="Cycle")
def create_cycle():
    cycle = service.create_cycle(api_user(), _body(CYCLE_FIELDS))
    return created(_cycle_dict(cycle))


@bp.get("/cycles/<int:cycle_id>")
@doc("救助周期详情（含应发、已发、未发合计）", tag="cycles", responses={200: "周期", 404: "不存在"}, schema="Cycle")
def cycle(cycle_id: int):
    return jsonify(_cycle_dict(service.get_cycle(api_user(), cycle_id)))


@bp.post("/cycles/<int:cycle_id>/transitions")
@doc("状态流转：open_survey 开始调查、submit_review 提交评议、start_notice 开始公示、return_to_review 退回、"
     "approve 县级审定（公示期满后；冻结名册）、disburse 开始发放、close 结束、cancel 撤销（审定前）",
     tag="cycles", body=TRANSITION_FIELDS,
     responses={200: "已流转", 409: "当前状态不允许或条件不满足（如公示期未满）", 422: "输入有误"}, schema="Cycle")
def transition(cycle_id: int):
    data = _body(TRANSITION_FIELDS)
    cycle = service.transition(api_user(), cycle_id, data["action"], data)
    return jsonify(_cycle_dict(cycle))


@bp.put("/cycles/<int:cycle_id>/fund-line")
@doc("指定资金指标（救助项目须一致，专款专用）", tag="cycles", body={"fund_line_id": Field("int")},
     responses={200: "已指定", 409: "已从原指标发放", 422: "指标不符"}, schema="Cycle")
def assign_fund_line(cycle_id: int):
    data = _body({"fund_line_id": Field("int")})
    return jsonify(_cycle_dict(funds.assign_line(api_user(), cycle_id, data["fund_line_id"])))


@bp.get("/cycles/<int:cycle_id>/beneficiaries")
@doc("救助对象（户报、村评、乡审结果；分页）", tag="cycles", query={"limit": "每页条数", "offset": "偏移"}, schema=page_of("Beneficiary"))
def beneficiaries(cycle_id: int):
    from .models import Beneficiary

    cycle = service.get_cycle(api_user(), cycle_id)
    show = _show(cycle.region_code)

    def to_dict(b):
        return {**b.to_dict(show_id=show), "amount": sum(i.amount_fen for i in service.preview(cycle, b)) / 100}

    stmt = select(Beneficiary).where(Beneficiary.cycle_id == cycle.id).order_by(Beneficiary.id)
    return jsonify(page(stmt, to_dict))


@bp.post("/cycles/<int:cycle_id>/beneficiaries")
@idempotent
@doc("登记救助对象（户报；调查摸底阶段），按规则判定是否符合条件", tag="cycles", body=BENEFICIARY_FIELDS,
     responses={201: "已登记", 409: "阶段不允许", 422: "逐项列出错误，未登记任何一户"}, schema="Beneficiaries")
def add_beneficiaries(cycle_id: int):
    data = _body(BENEFICIARY_FIELDS)
    made = service.add_beneficiaries(api_user(), cycle_id, data["items"])
    cycle = db.session.get(Cycle, cycle_id)
    return created({"items": [b.to_dict(show_id=_show(cycle.region_code)) for b in made], "count": len(made)})


@bp.post("/cycles/<int:cycle_id>/beneficiaries/propose")
@idempotent
@doc("按规则从受灾户台账自动列出本县符合条件的户", tag="cycles", responses={201: "已列入", 409: "阶段不允许"}, schema="Beneficiaries")
def propose(cycle_id: int):
    made = service.propose(api_user(), cycle_id)
    cycle = db.session.get(Cycle, cycle_id)
    return created({"items": [b.to_dict(show_id=_show(cycle.region_code)) for b in made], "count": len(made)})


@bp.delete("/cycles/<int:cycle_id>/beneficiaries/<int:household_id>")
@doc("移出救助对象（调查摸底阶段）", tag="cycles", responses={204: "已移出", 404: "不在本周期", 409: "阶段不允许"})
def remove_beneficiary(cycle_id: int, household_id: int):
    service.remove_beneficiary(api_user(), cycle_id, household_id)
    return "", 204


@bp.post("/cycles/<int:cycle_id>/reviews")
@doc("记录村评（village）或乡审（township）结果", tag="cycles", body=REVIEW_FIELDS,
     responses={200: "已记录", 409: "不在评议阶段", 422: "逐项列出错误"}, schema=items_of("Beneficiary"))
def reviews(cycle_id: int):
    data = _body(REVIEW_FIELDS)
    rows = service.record_reviews(api_user(), cycle_id, data["stage"], data["decisions"])
    cycle = db.session.get(Cycle, cycle_id)
    return jsonify({"items": [b.to_dict(show_id=_show(cycle.region_code)) for b in rows]})


# --- rolls ---------------------------------------------------------------------------------------------

@bp.get("/cycles/<int:cycle_id>/rolls")
@doc("名册：审定时冻结的主名册与补充名册", tag="rolls", schema=items_of("Roll"))
def rolls(cycle_id: int):
    return jsonify({"items": [r.to_dict() for r in service.rolls(api_user(), cycle_id)]})


@bp.post("/cycles/<int:cycle_id>/rolls")
@idempotent
@doc("增列补充名册（增补、补发或延长过渡期救助；公示期满后审定冻结）", tag="rolls", body=SUPPLEMENTARY_FIELDS,
     responses={201: "已公示", 409: "周期未审定或已有补充名册在公示", 422: "输入有误"}, schema="Roll")
def create_supplementary(cycle_id: int):
    roll = service.create_supplementary(api_user(), cycle_id, _body(SUPPLEMENTARY_FIELDS))
    return created(roll.to_dict())


@bp.get("/rolls/<int:roll_id>")
@doc("名册及其每一户（冻结后不可修改）", tag="rolls", responses={200: "名册", 404: "不存在"}, schema="Roll")
def roll(roll_id: int):
    found, cycle = service.get_roll(api_user(), roll_id)
    show = _show(cycle.region_code)
    return jsonify({**found.to_dict(), "entries": [e.to_dict(show_id=show) for e in service.roll_entries(found.id)]})


@bp.post("/rolls/<int:roll_id>/approve")
@doc("审定补充名册（公示期满后）并冻结", tag="rolls", responses={200: "已冻结", 409: "公示期未满或不在公示中"}, schema="Roll")
def approve_roll(roll_id: int):
    return jsonify(service.approve_roll(api_user(), roll_id).to_dict())


@bp.post("/rolls/<int:roll_id>/cancel")
@doc("撤销公示中的补充名册（已冻结的名册不能修改）", tag="rolls", body=CANCEL_ROLL_FIELDS,
     responses={200: "已撤销", 409: "名册已冻结"}, schema="Roll")
def cancel_roll(roll_id: int):
    data = _body(CANCEL_ROLL_FIELDS)
    return jsonify(service.cancel_roll(api_user(), roll_id, data["reason"]).to_dict())


# --- payment batches and payments ------------------------------------------------------------------------

@bp.get("/cycles/<int:cycle_id>/payment-rolls")
@doc("发放批次（调度器按期生成）", tag="payments", schema=items_of("PaymentRoll"))
def payment_rolls(cycle_id: int):
    cycle = service.get_cycle(api_user(), cycle_id)
    rows = db.session.scalars(select(PaymentRoll).where(PaymentRoll.cycle_id == cycle.id)
                              .order_by(PaymentRoll.period)).all()
    return jsonify({"items": [r.to_dict() for r in rows]})


def _payment_roll(roll_id: int) -> tuple[PaymentRoll, Cycle]:
    found = db.session.get(PaymentRoll, roll_id)
    if found is None:
        raise NotFound(f"发放批次 {roll_id} 不存在。")
    return found, service.get_cycle(api_user(), found.cycle_id)


@bp.get("/payment-rolls/<int:roll_id>")
@doc("发放批次及其款项", tag="payments", responses={200: "批次", 404: "不存在"}, schema="PaymentRoll")
def payment_roll(roll_id: int):
    found, cycle = _payment_roll(roll_id)
    show = _show(cycle.region_code)
    rows = db.session.scalars(select(Payment).where(Payment.payment_roll_id == found.id).order_by(Payment.id)).all()
    return jsonify({**found.to_dict(), "payments": [p.to_dict(show_id=show) for p in rows]})


@bp.get("/payment-rolls/<int:roll_id>/export.xlsx")
@doc("导出一卡通发放名册（Excel：姓名、脱敏身份证号码、账号、金额）", tag="payments", media_type=XLSX)
def export_payment_roll(roll_id: int):
    found, cycle = _payment_roll(roll_id)
    require(api_user(), "payment.manage", cycle.region_code)
    rows = db.session.scalars(select(Payment).where(Payment.payment_roll_id == found.id).order_by(Payment.id)).all()
    return _xlsx(excel.write_bank_roll(cycle.name, found.period, rows), f"发放名册-{cycle.id}-{found.period}.xlsx")


@bp.get("/payments")
@doc("款项（分页）", tag="payments", query={"cycle_id": "救助周期", "household_id": "受灾户",
                                           "limit": "每页条数", "offset": "偏移"}, schema=page_of("Payment"))
def payments():
    user = api_user()
    visible = service.cycle_query(user).with_only_columns(Cycle.id).order_by(None)
    stmt = select(Payment).where(Payment.cycle_id.in_(visible))
    cycle_id, household_id = int_arg("cycle_id"), int_arg("household_id")
    if cycle_id:
        stmt = stmt.where(Payment.cycle_id == cycle_id)
    if household_id:
        stmt = stmt.where(Payment.household_id == household_id)
    cache: dict[int, bool] = {}

    def to_dict(p):
        if p.cycle_id not in cache:
            cache[p.cycle_id] = _show(db.session.get(Cycle, p.cycle_id).region_code)
        return p.to_dict(show_id=cache[p.cycle_id])

    return jsonify(page(stmt.order_by(Payment.id), to_dict))


# --- notices and complaints ----------------------------------------------------------------------------

@bp.get("/cycles/<int:cycle_id>/notices")
@doc("公示记录", tag="notices", schema=items_of("Notice"))
def notices(cycle_id: int):
    return jsonify({"items": [n.to_dict() for n in service.notices(api_user(), cycle_id)]})


@bp.get("/notices/<int:notice_id>")
@doc("公示名单（姓名、身份证号码按公示惯例部分遮挡）", tag="notices", responses={200: "公示", 404: "不存在"}, schema="Notice")
def notice(notice_id: int):
    from .models import Roll

    found = db.session.get(PublicNotice, notice_id)
    if found is None:
        raise NotFound(f"公示 {notice_id} 不存在。")
    cycle = service.get_cycle(api_user(), found.cycle_id)
    roll = db.session.get(Roll, found.roll_id) if found.roll_id else None
    return jsonify({**found.to_dict(), "rows": service.notice_rows(cycle, roll)})


@bp.get("/cycles/<int:cycle_id>/complaints")
@doc("投诉举报", tag="notices", schema=items_of("Complaint"))
def complaints(cycle_id: int):
    cycle = service.get_cycle(api_user(), cycle_id)
    rows = db.session.scalars(select(Complaint).where(Complaint.cycle_id == cycle.id).order_by(Complaint.id)).all()
    return jsonify({"items": [c.to_dict() for c in rows]})


@bp.post("/cycles/<int:cycle_id>/complaints")
@idempotent
@doc("登记投诉举报（未办结的投诉举报阻止审定）", tag="notices", body=COMPLAINT_FIELDS,
     responses={201: "已登记", 422: "输入有误"}, schema="Complaint")
def add_complaint(cycle_id: int):
    return created(service.add_complaint(api_user(), cycle_id, _body(COMPLAINT_FIELDS)).to_dict())


@bp.post("/complaints/<int:complaint_id>/resolve")
@doc("办结投诉举报", tag="notices", body=RESOLVE_FIELDS,
     responses={200: "已办结", 409: "已办结过"}, schema="Complaint")
def resolve_complaint(complaint_id: int):
    data = _body(RESOLVE_FIELDS)
    return jsonify(service.resolve_complaint(api_user(), complaint_id, data["resolution"]).to_dict())


# --- reconstruction -------------------------------------------------------------------------------------

@bp.get("/cycles/<int:cycle_id>/projects")
@doc("倒损住房重建项目（每户进度、下次报告期限、是否逾期）", tag="reconstruction", schema=items_of("Project"))
def projects(cycle_id: int):
    from flask import current_app

    rows = service.projects(api_user(), cycle_id)
    cycle = db.session.get(Cycle, cycle_id)
    days = current_app.config["CYCLE_RECONSTRUCTION_REPORT_DAYS"]
    show = _show(cycle.region_code)
    return jsonify({"items": [p.to_dict(show_id=show, report_days=days) for p in rows]})


@bp.post("/projects/<int:project_id>/progress")
@idempotent
@doc("报告重建进度（阶段可不变或前进，不能倒退；到达阶段后按进度拨付）", tag="reconstruction",
     body=PROGRESS_FIELDS, responses={201: "已报告", 409: "倒退或周期状态不允许", 422: "输入有误"}, schema="Project")
def report_progress(project_id: int):
    from flask import current_app

    project = service.report_progress(api_user(), project_id, _body(PROGRESS_FIELDS))
    cycle = db.session.get(Cycle, project.cycle_id)
    return created(project.to_dict(show_id=_show(cycle.region_code),
                                   report_days=current_app.config["CYCLE_RECONSTRUCTION_REPORT_DAYS"]))


@bp.get("/projects/<int:project_id>/reports")
@doc("重建进度报告历史", tag="reconstruction", schema=items_of("ProgressReport"))
def progress_reports(project_id: int):
    return jsonify({"items": [r.to_dict() for r in service.progress_reports(api_user(), project_id)]})


# --- funds --------------------------------------------------------------------------------------------------

@bp.get("/funds")
@doc("资金来源及资金指标（分页）", tag="funds", query={"year": "年度", "region_code": "区划",
                                                   "limit": "每页条数", "offset": "偏移"}, schema=page_of("FundSource"))
def fund_sources():
    stmt = funds.source_query(api_user(), year=int_arg("year"), region_code=code_arg())
    return jsonify(page(stmt, lambda s: s.to_dict()))


@bp.post("/funds")
@idempotent
@doc("登记资金来源（中央、省、市、县、社会捐赠）及资金指标", tag="funds", body=FUND_FIELDS,
     responses={201: "已登记", 409: "编号已存在", 422: "输入有误"}, schema="FundSource")
def create_fund_source():
    return created(funds.create_source(api_user(), _body(FUND_FIELDS, funds.source_errors)).to_dict())


@bp.get("/funds/report")
@doc("资金使用情况：按来源、指标（及所付周期）和救助项目的下达、支出、结余", tag="funds",
     query={"year": "年度", "region_code": "区划"}, schema="FundReport")
def fund_report():
    return jsonify(funds.report(api_user(), year=int_arg("year"), region_code=code_arg()))


@bp.get("/funds/<int:source_id>")
@doc("资金来源详情", tag="funds", responses={200: "来源", 404: "不存在"}, schema="FundSource")
def fund_source(source_id: int):
    return jsonify(funds.get_source(api_user(), source_id).to_dict())


@bp.post("/funds/<int:source_id>/lines")
@idempotent
@doc("新增资金指标（一个来源每个救助项目一个指标）", tag="funds", body=LINE_FIELDS,
     responses={201: "已新增", 409: "已存在", 422: "输入有误"}, schema="FundLine")
def add_fund_line(source_id: int):
    return created(funds.add_line(api_user(), source_id, _body(LINE_FIELDS)).to_dict())


@bp.post("/fund-lines/<int:line_id>/allocations")
@idempotent
@doc("追加（正数）或调减（负数）资金指标；余额不能为负", tag="funds", body=ALLOCATION_FIELDS,
     responses={201: "已入账", 409: "调减超过余额", 422: "输入有误"}, schema="FundEntry")
def allocate(line_id: int):
    return created(funds.allocate(api_user(), line_id, _body(ALLOCATION_FIELDS)).to_dict())


@bp.get("/fund-lines/<int:line_id>/ledger")
@doc("资金指标台账（只增不改，含每笔后的余额）", tag="funds", schema=items_of("FundEntry"))
def fund_ledger(line_id: int):
    return jsonify({"items": [e.to_dict() for e in funds.ledger(api_user(), line_id)]})


# --- winter-spring ------------------------------------------------------------------------------------------

@bp.get("/winter-spring/<int:year>/needs")
@doc("受灾人员冬春生活需救助情况统计表（按下级区划汇总）", tag="winter-spring", query={"region_code": "区划"},
     path={"year": winter.YEAR_FIELD}, schema="NeedsTable")
def needs(year: int):
    user = api_user()
    return jsonify(winter.needs_table(user, year, code_arg() or user.region_code))


@bp.get("/winter-spring/<int:year>/needs.xlsx")
@doc("导出冬春需救助情况统计表（Excel）", tag="winter-spring", query={"region_code": "区划"},
     path={"year": winter.YEAR_FIELD}, media_type=XLSX)
def needs_xlsx(year: int):
    user = api_user()
    table = winter.needs_table(user, year, code_arg() or user.region_code)
    return _xlsx(excel.write_needs_table(table), f"冬春需救助情况统计表-{year}-{table['region_code']}.xlsx")


@bp.post("/winter-spring/<int:year>/submissions")
@idempotent
@doc("报送需救助情况统计表（县 10 月 15 日、市 10 月 20 日、省 10 月 25 日前）", tag="winter-spring",
     body={"region_code": Field("code")}, responses={201: "已报送", 409: "已报送过", 422: "不是县、市、省"},
     path={"year": winter.YEAR_FIELD}, schema="NeedsSubmission")
def submit_needs(year: int):
    data = _body({"region_code": Field("code")})
    return created(winter.submit_needs(api_user(), year, data["region_code"]).to_dict())


@bp.get("/winter-spring/<int:year>/deadlines")
@doc("冬春救助报送时限：[{region_code, level, due_at, status: due|overdue|met, met_at}]", tag="winter-spring",
     query={"region_code": "区划"}, path={"year": winter.YEAR_FIELD}, schema=list_of("WinterDeadline"))
def winter_deadlines(year: int):
    return jsonify(winter.deadlines(api_user(), year, code_arg()))


# --- jobs ----------------------------------------------------------------------------------------------------

@bp.get("/jobs")
@doc("定时任务：声明的任务、触发规则与最近一次运行", tag="jobs", schema="Jobs")
def jobs():
    from flask import current_app

    from ..jobs import JOBS
    from ..scheduler import JobRun, lease_holder, trigger_fields

    require(api_user(), "cycle.view")
    items = []
    for spec in JOBS:
        last = db.session.scalar(select(JobRun).filter_by(job_id=spec.id).order_by(JobRun.scheduled_for.desc()))
        items.append({"id": spec.id, "name": spec.name, "description": spec.description,
                      "trigger": trigger_fields(spec, current_app.config),
                      "catchup_seconds": int(spec.catchup.total_seconds()),
                      "last_run": last.to_dict() if last else None})
    lease = lease_holder()
    return jsonify({"items": items, "lease": {"holder": lease.holder, "expires_at": lease.expires_at.isoformat()}
                    if lease else None})
