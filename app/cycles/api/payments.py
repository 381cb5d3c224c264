"""Payment batches (发放批次) and payments: a cycle's batches, one batch with its payments, the
bank's payment file (一卡通发放文件) and return file (回盘), the reconciliation of a batch and of a
fund line, the payments within the caller's jurisdiction, and the scheduled jobs that make them."""
from __future__ import annotations

from flask import jsonify, request

from ...api import XLSX, api_user, doc, idempotent, int_arg, items_of, page_args, page_of
from ...uploads import upload_limit
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
@doc("导出一卡通发放文件（Excel：姓名、完整身份证号码、账号、金额、款项编号）：仅财务人员（payment.bank_file），"
     "每次导出记入审计日志，文件带导出人和时间水印", tag="payments", media_type=XLSX,
     responses={200: "发放文件", 403: "非财务人员或管辖范围外", 404: "不存在"})
def export_payment_roll(roll_id: int):
    return xlsx(*service.bank_file(api_user(), roll_id))


@bp.post("/payment-rolls/<int:roll_id>/bank-return")
@upload_limit("SPREADSHEET_MAX_BYTES")
@doc("导入银行回盘文件（.xlsx 或 .csv，multipart 字段 file；列：款项编号、身份证号码、金额（元）、结果（成功/失败/退回）、"
     "失败原因）。有任何一行出错则不导入；失败和退回的款项退回资金指标，下一批次重发；同一文件重复导入不改变任何数据",
     tag="payments", responses={200: "已导入", 403: "非财务人员", 404: "不存在", 409: "批次未生成完毕",
                                413: "文件超过 SPREADSHEET_MAX_BYTES", 422: "文件有错误，未导入"},
     schema="BankReturn")
@idempotent
def import_bank_return(roll_id: int):
    return jsonify(service.import_return(api_user(), roll_id, request.files.get("file")))


@bp.get("/payment-rolls/<int:roll_id>/reconciliation")
@doc("发放批次对账：各状态（已发出、已入账、失败、已退回）笔数与金额，逐笔状态和银行原因，失败款项的重发批次",
     tag="payments", responses={200: "对账", 404: "不存在"}, schema="BatchReconciliation")
def batch_reconciliation(roll_id: int):
    return jsonify(service.batch_reconciliation(api_user(), roll_id))


@bp.get("/payment-rolls/<int:roll_id>/reconciliation.xlsx")
@doc("导出发放批次对账表（Excel；无权查看者身份证号码脱敏）", tag="payments", media_type=XLSX)
def batch_reconciliation_xlsx(roll_id: int):
    return xlsx(*service.batch_workbook(api_user(), roll_id))


@bp.get("/fund-lines/<int:line_id>/reconciliation")
@doc("资金指标对账：下达 − 支出 + 退回 = 余额，及从该指标发放的各批次", tag="funds",
     responses={200: "对账", 404: "不存在"}, schema="LineReconciliation")
def line_reconciliation(line_id: int):
    return jsonify(service.line_reconciliation(api_user(), line_id))


@bp.get("/fund-lines/<int:line_id>/reconciliation.xlsx")
@doc("导出资金指标对账表（Excel）", tag="funds", media_type=XLSX)
def line_reconciliation_xlsx(line_id: int):
    return xlsx(*service.line_workbook(api_user(), line_id))


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
