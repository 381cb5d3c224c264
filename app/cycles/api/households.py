"""Households (受灾户): the registry's pages, one household, registering and correcting one, the
Excel import (all or nothing) and export."""
from __future__ import annotations

from flask import jsonify, request

from ...api import XLSX, api_user, code_arg, created, doc, idempotent, page, page_of
from ...uploads import upload_limit
from .. import service
from .common import body, bp, xlsx


@bp.get("/households")
@doc("受灾户台账（分页）", tag="households",
     query={"region_code": "区划（默认本人管辖）", "q": "户主姓名或身份证号码", "damage_class": "住房倒损",
            "limit": "每页条数", "offset": "偏移"}, schema=page_of("Household"))
def households():
    stmt, to_dict = service.household_listing(api_user(), region_code=code_arg(), q=request.args.get("q"),
                                              damage_class=request.args.get("damage_class"))
    return jsonify(page(stmt, to_dict))


@bp.post("/households")
@idempotent
@doc("登记受灾户（身份证号码校验且全台账唯一）", tag="households", body=service.HOUSEHOLD_FIELDS,
     responses={201: "已登记", 403: "管辖范围外", 409: "身份证号码已登记", 422: "输入有误"}, schema="Household")
def create_household():
    user = api_user()
    return created(service.household_dict(user, service.create_household(user, body())))


@bp.get("/households/<int:household_id>")
@doc("受灾户详情", tag="households", responses={200: "受灾户", 404: "不存在"}, schema="Household")
def household(household_id: int):
    user = api_user()
    return jsonify(service.household_dict(user, service.get_household(user, household_id)))


@bp.patch("/households/<int:household_id>")
@doc("修改受灾户（只改给出的字段）", tag="households", body=service.HOUSEHOLD_PATCH_FIELDS,
     responses={200: "已修改", 404: "不存在", 409: "身份证号码已登记", 422: "输入有误"}, schema="Household")
def update_household(household_id: int):
    user = api_user()
    return jsonify(service.household_dict(user, service.update_household(user, household_id, body())))


@bp.post("/households/import")
@upload_limit("SPREADSHEET_MAX_BYTES")
@doc("导入因灾倒塌损坏住房户台账（Excel .xlsx，multipart 字段 file；mode=create|upsert）。有任何一行出错则不导入，"
     "errors 逐行列出。重复上传同一文件：create 模式逐行报“已在台账中”且不导入，upsert 模式结果相同（幂等）",
     tag="households", responses={200: "已导入", 413: "文件超过 SPREADSHEET_MAX_BYTES", 422: "文件有错误，未导入"},
     schema="HouseholdImport")
@idempotent
def import_households():
    return jsonify(service.import_ledger(api_user(), request.form, request.files.get("file")))


@bp.get("/households/export.xlsx")
@doc("导出受灾户台账（Excel；无权查看者身份证号码脱敏）", tag="households", query={"region_code": "区划"}, media_type=XLSX)
def export_households():
    user = api_user()
    region_code = code_arg() or user.region_code
    return xlsx(service.export_ledger(user, region_code), f"受灾户台账-{region_code}.xlsx")
