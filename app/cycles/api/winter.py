"""Winter-spring relief (冬春救助): the needs table by region (also as a workbook), its
submission to the level above, and the deadlines of every level."""
from __future__ import annotations

from flask import jsonify

from ...api import XLSX, api_user, code_arg, created, doc, idempotent, list_of
from ..service import winter
from ..service.base import YEAR_FIELD
from .common import body, bp, xlsx


@bp.get("/winter-spring/<int:year>/needs")
@doc("受灾人员冬春生活需救助情况统计表（按下级区划汇总）", tag="winter-spring", query={"region_code": "区划"},
     path={"year": YEAR_FIELD}, schema="NeedsTable")
def needs(year: int):
    user = api_user()
    return jsonify(winter.needs_table(user, year, code_arg() or user.region_code))


@bp.get("/winter-spring/<int:year>/needs.xlsx")
@doc("导出冬春需救助情况统计表（Excel）", tag="winter-spring", query={"region_code": "区划"},
     path={"year": YEAR_FIELD}, media_type=XLSX)
def needs_xlsx(year: int):
    return xlsx(*winter.needs_workbook(api_user(), year, code_arg()))


@bp.post("/winter-spring/<int:year>/submissions")
@idempotent
@doc("报送需救助情况统计表（县 10 月 15 日、市 10 月 20 日、省 10 月 25 日前）", tag="winter-spring",
     body=winter.SUBMIT_FIELDS, responses={201: "已报送", 409: "已报送过", 422: "不是县、市、省"},
     path={"year": YEAR_FIELD}, schema="NeedsSubmission")
def submit_needs(year: int):
    return created(winter.submit_needs(api_user(), year, body()).to_dict())


@bp.get("/winter-spring/<int:year>/deadlines")
@doc("冬春救助报送时限：[{region_code, level, due_at, status: due|overdue|met, met_at}]", tag="winter-spring",
     query={"region_code": "区划"}, path={"year": YEAR_FIELD}, schema=list_of("WinterDeadline"))
def winter_deadlines(year: int):
    return jsonify(winter.deadlines(api_user(), year, code_arg()))
