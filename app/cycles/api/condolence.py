"""Condolence lines from the roster of the dead (抚慰金): the cycle's lines with the dead still
without one, and generating lines for the next of kin."""
from __future__ import annotations

from flask import jsonify

from ...api import api_user, created, doc, idempotent
from ..service import condolence
from .common import body, bp

_PERSON = {"type": "object", "properties": {
    "casualty_id": {"type": "integer"}, "name": {"type": "string"}, "region_code": {"type": "string"},
    "id_number": {"type": "string"}, "occurred_on": {"type": "string", "format": "date"}}}
_CLAIM = {"type": "object", "required": ["id", "casualty_id", "household_id", "status"], "properties": {
    "id": {"type": "integer"}, "casualty_id": {"type": "integer"}, "cycle_id": {"type": "integer"},
    "household_id": {"type": "integer"}, "kin_name": {"type": "string"}, "kin_id_number": {"type": "string"},
    "relation": {"type": "string"}, "status": {"type": "string", "enum": ["pending", "cancelled"]},
    "cancel_reason": {"type": "string", "nullable": True}, "person": _PERSON}}
STATE = {"type": "object", "required": ["cycle_id", "claims", "eligible"], "properties": {
    "cycle_id": {"type": "integer"}, "claims": {"type": "array", "items": _CLAIM},
    "eligible": {"type": "array", "items": _PERSON}}}


def _state(cycle_id: int) -> dict:
    state = condolence.condolence_state(api_user(), cycle_id)
    return {"cycle_id": state.pop("cycle").id, **state}


@bp.get("/cycles/<int:cycle_id>/condolence")
@doc("抚慰金：本周期由名册生成的发放对象，及本县名册中尚未生成的死亡人员", tag="cycles", schema=STATE)
def condolence_lines(cycle_id: int):
    return jsonify(_state(cycle_id))


@bp.post("/cycles/<int:cycle_id>/condolence")
@idempotent
@doc("从死亡失踪人口名册生成抚慰金发放对象（近亲属领款；每名死亡人员只生成一次，登记生还则取消未发放的）", tag="cycles",
     body=condolence.GENERATE_FIELDS,
     responses={201: "已生成", 403: "无权", 409: "非抚慰金周期或阶段不允许", 422: "逐项列出错误，未生成任何一条"},
     schema=STATE)
def generate_condolence(cycle_id: int):
    condolence.generate_condolence(api_user(), cycle_id, body())
    return created(_state(cycle_id))
