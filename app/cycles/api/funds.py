"""Funds (救灾资金): sources and their budget lines, the spending report, allocations (追加、调减),
each line's append-only ledger, and an event's fund estimate and request (资金需求测算、资金申请)."""
from __future__ import annotations

from flask import jsonify

from ...api import XLSX, api_user, code_arg, created, doc, idempotent, int_arg, items_of, page, page_of
from .. import service
from ..service import funds
from .common import body, bp, xlsx


@bp.get("/funds")
@doc("资金来源及资金指标（分页）", tag="funds", query={"year": "年度", "region_code": "区划",
                                                   "limit": "每页条数", "offset": "偏移"}, schema=page_of("FundSource"))
def fund_sources():
    stmt = funds.source_query(api_user(), year=int_arg("year"), region_code=code_arg())
    return jsonify(page(stmt, lambda s: s.to_dict()))


@bp.post("/funds")
@idempotent
@doc("登记资金来源（中央、省、市、县、社会捐赠）及资金指标", tag="funds", body=funds.FUND_FIELDS,
     responses={201: "已登记", 409: "编号已存在", 422: "输入有误"}, schema="FundSource")
def create_fund_source():
    return created(funds.create_source(api_user(), body()).to_dict())


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
@doc("新增资金指标（一个来源每个救助项目一个指标）", tag="funds", body=funds.LINE_FIELDS,
     responses={201: "已新增", 409: "已存在", 422: "输入有误"}, schema="FundLine")
def add_fund_line(source_id: int):
    return created(funds.add_line(api_user(), source_id, body()).to_dict())


@bp.post("/fund-lines/<int:line_id>/allocations")
@idempotent
@doc("追加（正数）或调减（负数）资金指标；余额不能为负", tag="funds", body=funds.ALLOCATION_FIELDS,
     responses={201: "已入账", 409: "调减超过余额", 422: "输入有误"}, schema="FundEntry")
def allocate(line_id: int):
    return created(funds.allocate(api_user(), line_id, body()).to_dict())


@bp.get("/fund-lines/<int:line_id>/ledger")
@doc("资金指标台账（只增不改，含每笔后的余额）", tag="funds", schema=items_of("FundEntry"))
def fund_ledger(line_id: int):
    return jsonify({"items": [e.to_dict() for e in funds.ledger(api_user(), line_id)]})


@bp.get("/events/<int:event_id>/fund-estimate")
@doc("资金需求测算：灾害过程涉及的各县按损失数据 × 补助标准测算应急救助、过渡期、抚慰金、旱灾救助、住房重建所需资金，"
     "与已到位资金比较", tag="funds", query={"region_code": "区划（默认本人管辖）"},
     responses={200: "测算", 403: "管辖范围外", 404: "灾害过程不存在"}, schema="FundEstimate")
def fund_estimate(event_id: int):
    return jsonify(service.event_estimate(api_user(), event_id, code_arg()))


@bp.get("/events/<int:event_id>/fund-request.xlsx")
@doc("导出救灾资金申请表（Excel：各县各救助项目的测算需求、已到位资金和申请金额）", tag="funds",
     query={"region_code": "区划（默认本人管辖）"}, media_type=XLSX)
def fund_request_xlsx(event_id: int):
    return xlsx(*service.request_workbook(api_user(), event_id, code_arg()))
