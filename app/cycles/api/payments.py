"""Payment batches (发放批次) and payments: a cycle's batches, one batch with its payments, the
bank's payment roll (一卡通发放名册), the payments within the caller's jurisdiction, and the
scheduled jobs that make them."""
from __future__ import annotations

from flask import jsonify

from ...api import XLSX, api_user, doc, int_arg, items_of, page_args, page_of
from .. import service
from .common import bp, xlsx


@bp.get("/cycles/<int:cycle_id>/payment-rolls")
@doc("发放批次（调度器按期生成）", tag="payments", schema=items_of("PaymentRoll"))
def payment_rolls(cycle_id: int):
    return jsonify({"items": [r.to_dict() for r in service.payment_rolls(api_user(), cycle_id)]})


@bp.get("/payment-rolls/<int:roll_id>")
@doc("发放批次及其款项", tag="payments", responses={200: "批次", 404: "不存在"}, schema="PaymentRoll")
def payment_roll(roll_id: int):
    return jsonify(service.payment_roll_view(api_user(), roll_id))


@bp.get("/payment-rolls/<int:roll_id>/export.xlsx")
@doc("导出一卡通发放名册（Excel：姓名、脱敏身份证号码、账号、金额）", tag="payments", media_type=XLSX)
def export_payment_roll(roll_id: int):
    return xlsx(*service.bank_roll(api_user(), roll_id))


@bp.get("/payments")
@doc("款项（分页）", tag="payments", query={"cycle_id": "救助周期", "household_id": "受灾户",
                                           "limit": "每页条数", "offset": "偏移"}, schema=page_of("Payment"))
def payments():
    cycle_id, household_id = int_arg("cycle_id"), int_arg("household_id")
    limit, offset = page_args()
    return jsonify(service.payments_page(api_user(), cycle_id=cycle_id, household_id=household_id,
                                         limit=limit, offset=offset))


@bp.get("/jobs")
@doc("定时任务：声明的任务、触发规则与最近一次运行", tag="jobs", schema="Jobs")
def jobs():
    return jsonify(service.jobs_overview(api_user()))
