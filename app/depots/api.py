"""JSON API of depots, stock, demand, allocation, dispatches and supply requests (API.md
"Depots and stock" and "Demand, allocation and dispatch").

Thin: every route hands the body to one service function with the user first; the service checks
permission, validates the body by its operation's ``Field`` s (the very sets documented here)
and names every bad field in one 422 (including unknown items and depots, which a schema check
alone cannot see).
"""
from __future__ import annotations

from flask import jsonify, request

from ..api import (api_blueprint, api_user, code_arg, created, doc, idempotent, int_arg, list_of, page,
                   page_of)
from . import service

bp = api_blueprint("depots_api", __name__)
TAG = "depots"


def _body(optional: bool = False):
    """The request's JSON body (``{}`` for an empty one where the body is optional); anything
    but an object is refused by the service's validation."""
    if optional and not request.get_data():
        return {}
    return request.get_json(silent=True)


def _movements(rows: list[dict]) -> dict:
    first = rows[0] if rows else {}
    return {"document_id": first.get("document_id"), "depot_code": first.get("depot_code"),
            "item": first.get("item"), "quantity": sum(r["quantity"] for r in rows),
            "balance_after": rows[-1]["balance_after"] if rows else None, "movements": rows}


# --- catalogue and norms ------------------------------------------------------------------

@bp.get("/items")
@doc("物资目录 [{code, name, unit}]", tag=TAG, schema=list_of("Item"))
def items():
    return jsonify([item.to_dict() for item in service.items_for(api_user())])


@bp.get("/demand-norms")
@doc("某区划适用的需求定额（本级或最近的上级；未配置时为系统默认）", tag=TAG, query={"region_code": "区划，默认全国"}, schema="Norms")
def demand_norms():
    return jsonify(service.norms_of_region(api_user(), code_arg() or "000000"))


@bp.put("/demand-norms/<region_code>")
@doc("设置本级需求定额（替换；空数组则沿用上级）", tag=TAG, body=service.NORMS_FIELDS,
     responses={200: "生效的定额", 403: "无权", 422: "定额有误"}, schema="Norms")
def set_demand_norms(region_code: str):
    return jsonify(service.set_norms(api_user(), region_code, _body()))


# --- depots and stock ------------------------------------------------------------------------

@bp.post("/depots")
@idempotent
@doc("新建物资库（管理员、协调员）", tag=TAG, body=service.DEPOT_FIELDS,
     responses={201: "物资库", 403: "无权", 409: "代码已存在", 422: "输入有误"}, schema="Depot")
def create_depot():
    return created(service.create_depot(api_user(), _body()).to_dict())


@bp.get("/depots")
@doc("物资库列表（分页 {items, total}）", tag=TAG,
     query={"region_code": "区划（含下级）", "tier": "层级", "limit": "每页条数", "offset": "偏移"}, schema=page_of("Depot"))
def list_depots():
    stmt = service.depots_for(api_user(), code_arg(), request.args.get("tier"))
    return jsonify(page(stmt, lambda d: d.to_dict()))


@bp.get("/depots/<code>")
@doc("物资库详情", tag=TAG, responses={200: "物资库", 404: "不存在"}, schema="Depot")
def get_depot(code: str):
    return jsonify(service.depot_for(api_user(), code).to_dict())


@bp.patch("/depots/<code>")
@doc("修改物资库（名称、位置、库容、启用/停用）", tag=TAG, body=service.DEPOT_UPDATE_FIELDS,
     responses={200: "物资库", 403: "无权", 404: "不存在", 422: "输入有误"}, schema="Depot")
def update_depot(code: str):
    return jsonify(service.update_depot(api_user(), code, _body()).to_dict())


@bp.post("/depots/<code>/managers")
@doc("指派物资库管理员", tag=TAG, body=service.MANAGER_FIELDS,
     responses={200: "物资库", 403: "无权", 404: "不存在", 422: "用户不合适"}, schema="Depot")
def assign_manager(code: str):
    return jsonify(service.assign_manager(api_user(), code, _body()).to_dict())


@bp.delete("/depots/<code>/managers/<username>")
@doc("取消物资库管理员指派", tag=TAG, responses={200: "物资库", 403: "无权", 404: "不存在"}, schema="Depot")
def remove_manager(code: str, username: str):
    return jsonify(service.remove_manager(api_user(), code, username).to_dict())


@bp.put("/depots/<code>/reserves/<item>")
@doc("设置保底储备（辖区外调拨不得动用，除非 released）", tag=TAG, body=service.RESERVE_FIELDS,
     responses={200: "保底储备", 403: "无权", 404: "不存在", 422: "输入有误"}, schema="Reserve")
def set_reserve(code: str, item: str):
    return jsonify(service.set_reserve(api_user(), code, item, _body()))


@bp.post("/depots/<code>/receipts")
@idempotent
@doc("入库（该库管理员、管理员）", tag=TAG, body=service.RECEIPT_FIELDS,
     responses={201: "入库单与台账记录", 403: "无权", 404: "物资库不存在", 422: "输入有误"}, schema="Movements")
def receipt(code: str):
    return created(_movements(service.post_receipt(api_user(), code, _body())))


@bp.post("/depots/<code>/adjustments")
@idempotent
@doc("盘点调整（须填原因；盘亏按先到期先出）", tag=TAG, body=service.ADJUSTMENT_FIELDS,
     responses={201: "台账记录", 403: "无权", 404: "不存在", 409: "库存不足", 422: "输入有误"}, schema="Movements")
def adjustment(code: str):
    return created(_movements(service.post_adjustment(api_user(), code, _body())))


@bp.post("/depots/<code>/expiry-writeoff")
@idempotent
@doc("过期核销：核销已过有效期的全部批次", tag=TAG, body=service.WRITEOFF_FIELDS,
     responses={201: "核销记录", 200: "没有过期批次", 403: "无权", 404: "不存在", 422: "输入有误"}, schema="WriteOff")
def writeoff(code: str):
    rows = service.post_writeoff(api_user(), code, _body(optional=True))
    return (jsonify({"movements": rows}), 201) if rows else jsonify({"movements": []})


@bp.get("/depots/<code>/stock")
@doc("库存 [{item, on_hand, reserved, available}]（reserved 为保底储备，available 不含过期批次）", tag=TAG,
     responses={200: "库存", 404: "不存在"}, schema=list_of("StockLine"))
def stock(code: str):
    return jsonify(service.stock_levels(api_user(), code))


@bp.get("/depots/<code>/ledger")
@doc("库存台账（从早到晚，含每笔后的结存；分页 {items, total}）", tag=TAG,
     query={"item": "物资代码", "limit": "每页条数（默认 1000）", "offset": "偏移"}, schema=page_of("Movement"))
def ledger(code: str):
    return jsonify(page(service.ledger_for(api_user(), code, request.args.get("item")), lambda m: m.to_dict(),
                        default_limit=1000))


# --- demand and allocation -----------------------------------------------------------------

@bp.get("/events/<int:event_id>/demand")
@doc("物资需求 [{region_code, item, quantity}]：最新灾情 × 定额 − 已调拨", tag=TAG,
     query={"items": "物资代码，逗号分隔"}, responses={200: "需求", 403: "无权", 404: "不存在"}, schema=list_of("Demand"))
def demand(event_id: int):
    items = [code for code in (request.args.get("items") or "").split(",") if code] or None
    return jsonify(service.event_demand(api_user(), event_id, items))


@bp.post("/events/<int:event_id>/allocation-plan")
@doc("调拨方案（线性规划，按数量×距离最小；只提出方案，不动库存）", tag=TAG, body=service.PLAN_FIELDS,
     responses={200: "{lines, unmet, total_distance_quantity}", 403: "无权", 404: "不存在", 422: "输入有误"},
     schema="AllocationPlan")
def allocation_plan(event_id: int):
    return jsonify(service.allocation_plan(api_user(), event_id, _body(optional=True)))


@bp.post("/events/<int:event_id>/allocation-plan/accept")
@idempotent
@doc("采纳调拨方案（整体或逐行）：选定的行按物资库和接收区划生成调拨单（待审批），一次事务；"
     "同一 submission 再次提交不重复生成", tag=TAG, body=service.ACCEPT_FIELDS,
     responses={201: "{event_id, dispatch_ids, replayed}", 403: "无权", 404: "不存在", 422: "输入有误"},
     schema="AllocationAccepted")
def accept_allocation_plan(event_id: int):
    return created(service.accept_plan(api_user(), event_id, _body()))


# --- dispatches ----------------------------------------------------------------------------

@bp.post("/dispatches")
@idempotent
@doc("调拨申请", tag=TAG, body=service.DISPATCH_FIELDS, responses={201: "调拨单（requested）", 403: "无权", 422: "输入有误"},
     schema="Dispatch")
def create_dispatch():
    return created(service.dispatch_detail(service.create_dispatch(api_user(), _body())))


@bp.get("/dispatches")
@doc("调拨单列表（分页）", tag=TAG, query={"status": "状态", "depot": "调出库", "event_id": "灾害过程",
                                        "region_code": "接收区划（含下级）", "limit": "每页条数", "offset": "偏移"},
     schema=page_of("Dispatch"))
def list_dispatches():
    stmt = service.dispatches_for(api_user(), status=request.args.get("status"), depot=request.args.get("depot"),
                                  event_id=int_arg("event_id"), region_code=code_arg())
    return jsonify(page(stmt, lambda d: d.to_dict()))


@bp.get("/dispatches/<int:dispatch_id>")
@doc("调拨单详情（含出库批次）", tag=TAG, responses={200: "调拨单", 403: "不在管辖范围内", 404: "不存在"}, schema="Dispatch")
def get_dispatch(dispatch_id: int):
    return jsonify(service.dispatch_detail(service.dispatch_for(api_user(), dispatch_id)))


@bp.post("/dispatches/<int:dispatch_id>/approve")
@idempotent
@doc("审批调拨（该库管理员、协调员）：原子扣减库存；任一行不足则 409 且不扣减", tag=TAG,
     responses={200: "调拨单（approved）", 403: "无权", 404: "不存在", 409: "库存不足或状态不符"}, schema="Dispatch")
def approve(dispatch_id: int):
    return jsonify(service.dispatch_detail(service.approve_dispatch(api_user(), dispatch_id)))


@bp.post("/dispatches/<int:dispatch_id>/ship")
@idempotent
@doc("发运", tag=TAG, body=service.SHIP_FIELDS,
     responses={200: "调拨单（shipped）", 403: "无权", 404: "不存在", 409: "状态不符"}, schema="Dispatch")
def ship(dispatch_id: int):
    return jsonify(service.dispatch_detail(service.ship_dispatch(api_user(), dispatch_id, _body(optional=True))))


@bp.post("/dispatches/<int:dispatch_id>/receive")
@idempotent
@doc("签收（记录实收数量与差异）", tag=TAG, body=service.RECEIVE_FIELDS,
     responses={200: "调拨单（received）", 403: "无权", 404: "不存在", 409: "状态不符", 422: "输入有误"}, schema="Dispatch")
def receive(dispatch_id: int):
    return jsonify(service.dispatch_detail(
        service.receive_dispatch(api_user(), dispatch_id, _body(optional=True))))


@bp.post("/dispatches/<int:dispatch_id>/cancel")
@idempotent
@doc("撤销（签收前）：已扣减的库存以冲销记录退回原批次", tag=TAG, body=service.CANCEL_FIELDS,
     responses={200: "调拨单（cancelled）", 403: "无权", 404: "不存在", 409: "已签收"}, schema="Dispatch")
def cancel(dispatch_id: int):
    return jsonify(service.dispatch_detail(service.cancel_dispatch(api_user(), dispatch_id, _body(optional=True))))


# --- supply requests (申请) -------------------------------------------------------------------

@bp.post("/supply-requests")
@idempotent
@doc("向上级申请物资（本级库存不足时）", tag=TAG, body=service.SUPPLY_FIELDS,
     responses={201: "申请（open）", 403: "无权", 422: "输入有误"}, schema="SupplyRequest")
def raise_request():
    return created(service.raise_supply_request(api_user(), _body()).to_dict())


@bp.get("/supply-requests")
@doc("物资申请列表（分页）", tag=TAG, query={"status": "状态", "region_code": "申请或受理区划", "limit": "每页条数",
                                          "offset": "偏移"}, schema=page_of("SupplyRequest"))
def list_requests():
    stmt = service.supply_requests_for(api_user(), status=request.args.get("status"), region_code=code_arg())
    return jsonify(page(stmt, lambda r: r.to_dict()))


@bp.get("/supply-requests/<int:request_id>")
@doc("物资申请详情", tag=TAG, responses={200: "申请", 403: "不在管辖范围内", 404: "不存在"}, schema="SupplyRequest")
def get_request(request_id: int):
    return jsonify(service.supply_request_for(api_user(), request_id).to_dict())


@bp.post("/supply-requests/<int:request_id>/fill")
@idempotent
@doc("受理申请：从本级物资库生成调拨单（上级协调员）", tag=TAG, body=service.FILL_FIELDS,
     responses={201: "申请（含新调拨单）", 403: "无权", 404: "不存在", 409: "状态不符", 422: "输入有误"}, schema="SupplyRequest")
def fill_request(request_id: int):
    return created(service.fill_supply_request(api_user(), request_id, _body()).to_dict())


@bp.post("/supply-requests/<int:request_id>/forward")
@idempotent
@doc("转报上级：本级无法满足的部分报下一级（市 → 省 → 中央）；已调拨的保留，申请人可见每一步", tag=TAG,
     body=service.FORWARD_FIELDS,
     responses={200: "申请（受理级别已上移）", 403: "无权", 404: "不存在", 409: "已在中央级、已无尚缺或状态不符"},
     schema="SupplyRequest")
def forward_request(request_id: int):
    return jsonify(service.forward_supply_request(api_user(), request_id, _body(optional=True)).to_dict())


@bp.post("/supply-requests/<int:request_id>/reject")
@idempotent
@doc("不予调拨（须说明理由）", tag=TAG, body=service.REJECT_FIELDS,
     responses={200: "申请", 403: "无权", 404: "不存在", 409: "状态不符", 422: "输入有误"}, schema="SupplyRequest")
def reject_request(request_id: int):
    return jsonify(service.reject_supply_request(api_user(), request_id, _body()).to_dict())


# --- replenishment (回补), rotation (轮换), area standard (建标121-2009) ------------------------------

@bp.get("/replenishments")
@doc("回补责任列表（分页）：上级动用下级物资库库存后应回补的数量，直至签收", tag=TAG,
     query={"status": "状态 open|settled|cancelled", "depot": "被动用的物资库", "limit": "每页条数", "offset": "偏移"},
     schema=page_of("Replenishment"))
def list_replenishments():
    stmt = service.replenishments_for(api_user(), status=request.args.get("status"), depot=request.args.get("depot"))
    return jsonify(page(stmt, service.obligation_dict))


@bp.get("/replenishments/<int:obligation_id>")
@doc("回补责任详情", tag=TAG, responses={200: "回补", 403: "不在管辖范围内", 404: "不存在"}, schema="Replenishment")
def get_replenishment(obligation_id: int):
    return jsonify(service.obligation_dict(service.replenishment_for(api_user(), obligation_id)))


@bp.post("/replenishments/<int:obligation_id>/replenish")
@idempotent
@doc("回补：从回补责任级别本级的物资库向被动用的物资库调拨（生成调拨单，照常审批、发运、签收）", tag=TAG,
     body=service.REPLENISH_FIELDS,
     responses={201: "调拨单（requested）", 403: "无权", 404: "不存在", 409: "已回补或已撤销", 422: "输入有误"},
     schema="Dispatch")
def replenish(obligation_id: int):
    return created(service.dispatch_detail(service.replenish(api_user(), obligation_id, _body(optional=True))))


@bp.get("/rotation-proposals")
@doc("临近过期批次的轮换建议：调往尚缺该物资的物资申请（就近）、轮换或核销", tag=TAG,
     query={"region_code": "区划（含下级），默认本人辖区", "depot": "只看一个物资库",
            "horizon_days": "距过期天数以内（默认 90）"},
     responses={200: "轮换建议", 404: "物资库不存在", 422: "参数有误"}, schema=list_of("RotationProposal"))
def rotation_proposals():
    from ..validation import Field

    horizon = int_arg("horizon_days", Field("int", required=False, min=0, max=3650))
    return jsonify(service.rotation_proposals(api_user(), horizon, code_arg(), request.args.get("depot") or None))


@bp.get("/depots/<code>/area-standard")
@doc("物资库建筑面积对照《救灾物资储备库建设标准》（建标121-2009）", tag=TAG,
     responses={200: "对照结果", 404: "不存在"}, schema="AreaStandard")
def area_standard(code: str):
    return jsonify(service.area_standard_for(api_user(), code))
