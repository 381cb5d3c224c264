"""Points: setting one up, taking in a received dispatch (接收), returns to the depot (退回),
and rounds (轮次)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gis import codes

from ... import audit
from ...database import lock_for_update
from ...depots import received_dispatch, received_dispatches, return_to_depot
from ...errors import Conflict, Invalid
from ...extensions import db
from ...i18n import translate as _t
from ...permissions import require
from ...regions import Region
from ...reports import get_event
from ...validation import form_data, validate
from ..models import DistributionPoint, DistributionRound, PointMovement, PointReturn

from .common import (LINE, POINT_FIELDS, RECEIVE_FIELDS, ROUND_FIELDS, RETURN_FIELDS, _who, _raise_if, _checked_lines,
    get_point, PointBook, point_stock, _taken_from_dispatch, _taken_from_dispatches, current_round)


def create_point(user, data) -> DistributionPoint:
    require(user, "distribution.manage")
    values, errors = validate(POINT_FIELDS, data)
    if values.get("region_code"):
        region = db.session.get(Region, values["region_code"])
        if region is None:
            errors.append({"field": "region_code", "message": _t("区划 %(code)s 不存在", code=values['region_code'])})
        elif region.level not in ("township", "village"):
            errors.append({"field": "region_code", "message": _t("发放点须设在村或乡镇")})
    _raise_if(errors)
    require(user, "distribution.manage", values["region_code"])
    event = get_event(user, values["event_id"])
    if event.status == "closed":
        raise Conflict(_t("灾害过程 %(id)s 已结束，不能再设发放点。", id=event.id))
    point = DistributionPoint(event_id=event.id, region_code=values["region_code"], name=values["name"],
                              kind=values["kind"] or "village", created_by=_who(user))
    db.session.add(point)
    db.session.flush()
    audit.record(user, "distribution.point", "distribution_point", point.id, after=point.to_dict(),
                 region_code=point.region_code)
    db.session.commit()
    return point


def stock_for(user, point_id: int) -> list[dict]:
    get_point(user, point_id)
    return point_stock(point_id)


def ledger_for(user, point_id: int) -> list[PointMovement]:
    get_point(user, point_id)
    return db.session.scalars(select(PointMovement).where(PointMovement.point_id == point_id)
                              .order_by(PointMovement.id)).all()


def receivable_dispatches(user, point_id: int) -> list[dict]:
    """Received dispatches of the point's event to a region containing it, with what is left."""
    point = get_point(user, point_id)
    out = []
    dispatches = received_dispatches(point.region_code, point.event_id)
    taken_from = _taken_from_dispatches([d["id"] for d in dispatches])
    for dispatch in dispatches:
        taken = taken_from.get(dispatch["id"], {})
        lines = [{**line, "left": line["received"] - taken.get(code, 0)} for code, line in dispatch["lines"].items()]
        if any(line["left"] > 0 for line in lines):
            out.append({**dispatch, "lines": lines})
    return out


def receive_goods(user, point_id: int, data) -> list[PointMovement]:
    """Take goods in from a received dispatch (接收): each line at most what the dispatch brought
    less what points already took from it; without ``lines``, all that is left."""
    point = get_point(user, point_id, "distribution.manage", lock=True)
    values, errors = validate(RECEIVE_FIELDS, data)
    lines = _checked_lines(data, errors) if values.get("lines") else []
    _raise_if(errors)
    book = PointBook(point, user)
    dispatch = received_dispatch(values["dispatch_id"], lock=True)
    if dispatch["status"] != "received" or dispatch["to_depot"]:
        raise Conflict(_t("调拨单 #%(id)s 尚未签收（或是调入物资库的调拨），发放点不能接收。", id=dispatch['id']))
    if not codes.is_within(point.region_code, dispatch["to_region_code"]):
        raise Conflict(_t("调拨单 #%(id)s 发往 %(region)s，不含发放点所在区划。", id=dispatch['id'],
                          region=dispatch['to_region_code']))
    if dispatch["event_id"] is not None and dispatch["event_id"] != point.event_id:
        raise Conflict(_t("调拨单 #%(id)s 属于另一灾害过程。", id=dispatch['id']))
    taken = _taken_from_dispatch(dispatch["id"])
    left = {code: line["received"] - taken.get(code, 0) for code, line in dispatch["lines"].items()}
    wanted = [(l["index"], l["item"], l["quantity"]) for l in lines] or \
        [(None, code, n) for code, n in sorted(left.items()) if n > 0]
    short = []
    for index, code, quantity in wanted:
        where = f"lines[{index}].quantity" if index is not None else "dispatch_id"
        if code not in left:
            short.append({"field": f"lines[{index}].item", "message": _t("调拨单中没有物资 %(item)s", item=code)})
        elif quantity > left[code]:
            short.append({"field": where, "message": _t("%(item)s：接收 %(n)s，调拨单尚余 %(left)s", item=code, n=quantity, left=left[code])})
    if short or not wanted:
        raise Conflict(_t("调拨单 #%(id)s 没有足够的物资可接收，未接收任何物资。", id=dispatch['id']),
                       short or [{"field": "dispatch_id", "message": _t("已全部分配")}])
    for _, code, quantity in wanted:
        book.take_in(code, dispatch["id"], quantity)
    db.session.flush()
    audit.record(user, "distribution.receive", "distribution_point", point.id,
                 after={"dispatch_id": dispatch["id"], "lines": [{"item": c, "quantity": q} for _, c, q in wanted],
                        "movements": [m.id for m in book.made]}, region_code=point.region_code)
    db.session.commit()
    return book.made


def open_round(user, point_id: int, data) -> DistributionRound:
    """Open the next round (开启第二轮发放) for a region: every household there may receive each
    item once more in this event. Needs a reason; the region defaults to the point's. With
    ``expected_round`` (the round the submitter saw; the page form sends it), a round opened
    since (a double submit, another user) is a 409, as is losing a race for the same number."""
    point = get_point(user, point_id)
    values, errors = validate(ROUND_FIELDS, data)
    _raise_if(errors)
    region = values.get("region_code") or point.region_code
    if not (codes.is_within(point.region_code, region) or codes.is_within(region, point.region_code)):
        raise Invalid(_t("区划与发放点无关。"), [{"field": "region_code", "message": _t("须包含发放点或在其范围内")}])
    require(user, "distribution.round", region)
    db.session.execute(lock_for_update(select(DistributionPoint.id).where(DistributionPoint.id == point.id)))
    current = current_round(point.event_id, region)
    if values.get("expected_round") is not None and values["expected_round"] != current:
        raise Conflict(_t("第 %(n)s 轮发放已经开启，未再开启新一轮。", n=current),
                       [{"field": "expected_round", "message": _t("当前已是第 %(n)s 轮", n=current)}])
    row = DistributionRound(event_id=point.event_id, region_code=region, number=current + 1,
                            reason=values["reason"], opened_by=_who(user))
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_t("第 %(n)s 轮发放已经开启，未再开启新一轮。", n=current + 1),
                       [{"field": "expected_round", "message": _t("当前已是第 %(n)s 轮", n=current + 1)}]) from None
    audit.record(user, "distribution.round", "distribution_round", row.id, after=row.to_dict(), region_code=region)
    db.session.commit()
    return row


def return_goods(user, point_id: int, data) -> PointReturn:
    """Return units not handed out (退回) to the depots they came from, oldest dispatch first;
    409 naming each line beyond the point's stock, and then nothing moves."""
    point = get_point(user, point_id, "distribution.manage", lock=True)
    values, errors = validate(RETURN_FIELDS, data)
    lines = _checked_lines(data, errors)
    _raise_if(errors)
    book = PointBook(point, user)
    short = [{"field": f"lines[{l['index']}].quantity", "message": _t("%(item)s：退回 %(n)s，现有 %(left)s", item=l['item'], n=l['quantity'],
                                                    left=book.on_hand(l['item']))}
             for l in lines if l["quantity"] > book.on_hand(l["item"])]
    if short:
        raise Conflict(_t("发放点库存不足，未退回任何物资。"), short)
    row = PointReturn(point_id=point.id, reason=values.get("reason") or "", returned_by=_who(user))
    db.session.add(row)
    db.session.flush()
    depot_lines = []
    for line in lines:
        for movement in book.take_out(line["item"], line["quantity"], "return", return_id=row.id):
            depot_lines += return_to_depot(user, movement.dispatch_id, movement.item_code, -movement.quantity,
                                           str(row.id), f"发放点 {point.name} 退回（退回单 #{row.id}）")
    db.session.flush()
    audit.record(user, "distribution.return", "point_return", row.id,
                 after={"point_id": point.id, "lines": [{"item": l["item"], "quantity": l["quantity"]} for l in lines],
                        "movements": [m.id for m in book.made], "depot_movements": depot_lines},
                 region_code=point.region_code, note=row.reason or None)
    db.session.commit()
    return row


def return_from_form(user, point_id: int, form) -> PointReturn:
    """The point page's one-line return form: ``item``, ``quantity``, ``reason``."""
    line, errors = form_data(LINE, form)
    if errors:
        raise Invalid(_t("请求有误。"), [{**e, "field": f"lines[0].{e['field']}"} for e in errors])
    body = {"lines": [line]}
    if (form.get("reason") or "").strip():
        body["reason"] = form.get("reason")
    return return_goods(user, point_id, body)


def create_point_from_form(user, form) -> DistributionPoint:
    body, errors = form_data(POINT_FIELDS, form)
    _raise_if(errors)
    return create_point(user, body)
