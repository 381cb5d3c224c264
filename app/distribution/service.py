"""The distribution service (发放签领): points, their stock, hand-outs to households, rounds,
returns and the reports. Every function a page or the API calls takes the user first, checks
permission first, validates through :func:`app.validation.validate`, runs one transaction and
writes the audit.

Lock order: the point row, then its balance rows (then, for a receipt, the dispatch; for a
return, the depot through :func:`app.depots.return_to_depot`). On SQLite every transaction is
``BEGIN IMMEDIATE``, which serialises writers; on PostgreSQL the locks are ``FOR UPDATE``. A
hand-out is also held by the database's unique constraint (event, household, item, round): two
clerks handing the same quilt to the same household at once file one hand-out, the other is 409.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from gis import codes

from .. import audit
from ..cycles import IdNumberError, households_brief, mask_id, normalise_id_number
from ..database import lock_for_update
from ..depots import list_items, received_dispatch, received_dispatches, return_to_depot
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..i18n import translate as _t
from ..models_common import utcnow
from ..permissions import can, require
from ..regions import Region
from ..reports import get_event
from ..spreadsheets import new_workbook, put, workbook_bytes
from ..validation import Field, validate
from .models import (POINT_KINDS, DistributionPoint, DistributionRound, HandOut, HandOutProof, PointBalance,
                     PointMovement, PointReturn, SpotRecipient)

MAX_QUANTITY = 100_000
ITEM = Field("str", max_length=40, description="物资代码（GET /api/v1/items）")
LINE = {"item": ITEM, "quantity": Field("int", min=1, max=MAX_QUANTITY)}


def _line_field(fields: dict[str, Field]) -> Field:
    return Field("dict", extra={"schema": {
        "required": [name for name, spec in fields.items() if spec.required],
        "properties": {name: spec.openapi() for name, spec in fields.items()}}})


def _lines(description: str, required: bool = True) -> Field:
    return Field("list", required=required, items=_line_field(LINE), max_items=50, description=description,
                 extra={"required_message": "至少填写一种物资"})


POINT_FIELDS = {
    "event_id": Field("int", min=1, description="灾害过程"),
    "region_code": Field("code", description="发放点所在村（或乡镇）"),
    "name": Field("str", max_length=100, description="发放点名称"),
    "kind": Field("str", required=False, choices=tuple(POINT_KINDS), default="village",
                  description="village（村）| shelter（安置点）"),
}
RECEIVE_FIELDS = {
    "dispatch_id": Field("int", min=1, description="已签收的调拨单"),
    "lines": _lines("[{item, quantity}]；省略则接收调拨单上尚未分配的全部物资", required=False),
}
PERSON_FIELDS = {
    "name": Field("str", max_length=60, description="姓名"),
    "id_number": Field("str", max_length=30, description="公民身份号码（校验）"),
    "household_size": Field("int", min=1, max=30, description="家庭人口"),
}
PROOF_KINDS = ("signature", "photo")
HANDOUT_FIELDS = {
    "household_id": Field("int", required=False, min=1, description="名册中的受灾户（与 person 二选一）"),
    "person": Field("dict", required=False, description="现场登记：{name, id_number, household_size}",
                    extra={"schema": {"required": list(PERSON_FIELDS),
                                      "properties": {k: v.openapi() for k, v in PERSON_FIELDS.items()}}}),
    "lines": _lines("[{item, quantity}]"),
    "proof_kind": Field("str", choices=PROOF_KINDS, description="signature（手写签名）| photo（照片）"),
    "proof": Field("str", max_length=1_500_000, description="签名或照片：data:image/png;base64,… 或 image/jpeg"),
    "handed_at": Field("datetime", required=False, description="发放时间（离线发放时为现场时间；缺省为收到时）"),
}
ROUND_FIELDS = {
    "region_code": Field("code", required=False, description="开启轮次的区划（缺省为发放点所在区划）"),
    "reason": Field("str", max_length=500, description="开启新一轮发放的原因"),
}
RETURN_FIELDS = {"lines": _lines("[{item, quantity}]"),
                 "reason": Field("str", required=False, max_length=500, description="退回原因")}


def _who(user) -> str:
    return getattr(user, "username", None) or "system"


def _raise_if(errors: list[dict]) -> None:
    if errors:
        raise Invalid(_t("请求有 %(n)s 处错误。", n=len(errors)), errors)


def _checked_lines(data, errors: list[dict]) -> list[dict]:
    raw = data.get("lines") if isinstance(data, dict) else None
    if not isinstance(raw, list) or any(e["field"] == "lines" for e in errors):
        return []
    out, seen = [], set()
    catalogue = {item.code for item in list_items()}
    for index, element in enumerate(raw):
        if not isinstance(element, dict):
            continue
        values, found = validate(LINE, element)
        errors.extend({**e, "field": f"lines[{index}].{e['field']}"} for e in found)
        code = values.get("item")
        if code is not None and code not in catalogue:
            errors.append({"field": f"lines[{index}].item", "message": _t("物资目录中没有 %(item)s", item=code)})
        elif code in seen:
            errors.append({"field": f"lines[{index}].item", "message": _t("物资 %(item)s 重复", item=code)})
        seen.add(code)
        out.append({"index": index, **values})
    return out


def _item_names() -> dict[str, str]:
    return {item.code: item.name for item in list_items()}


# --- points ----------------------------------------------------------------------------------

def get_point(user, point_id: int, action: str = "distribution.view", *, lock: bool = False) -> DistributionPoint:
    """The point (404), if the user may take ``action`` on its region (403)."""
    stmt = select(DistributionPoint).where(DistributionPoint.id == point_id)
    point = db.session.scalar(lock_for_update(stmt).execution_options(populate_existing=True) if lock else stmt)
    if point is None:
        raise NotFound(_t("发放点 %(id)s 不存在。", id=point_id))
    require(user, action, point.region_code)
    return point


def visible_points(user, event_id: int | None = None):
    """A ``select`` of the points inside the user's jurisdiction, newest first."""
    require(user, "distribution.view")
    stmt = select(DistributionPoint).order_by(DistributionPoint.id.desc())
    prefix = codes.prefix_of(user.region_code)
    if prefix:
        stmt = stmt.where(DistributionPoint.region_code.like(prefix + "%"))
    if event_id is not None:
        stmt = stmt.where(DistributionPoint.event_id == event_id)
    return stmt


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


# --- stock -----------------------------------------------------------------------------------

class PointBook:
    """The balances of one locked point while one transaction posts to it: the only writer of
    :class:`PointBalance` and :class:`PointMovement` rows. Outgoing units leave the oldest
    dispatch's units first (FIFO by dispatch)."""

    def __init__(self, point: DistributionPoint, user):
        self.point, self.user, self.at = point, user, utcnow()
        rows = db.session.scalars(lock_for_update(
            select(PointBalance).where(PointBalance.point_id == point.id).order_by(PointBalance.dispatch_id,
                                                                                     PointBalance.id))
            .execution_options(populate_existing=True)).all()
        self.rows: dict[tuple[str, int], PointBalance] = {(r.item_code, r.dispatch_id): r for r in rows}
        self.made: list[PointMovement] = []

    def on_hand(self, item: str) -> int:
        return sum(r.on_hand for (code, _), r in self.rows.items() if code == item)

    def take_in(self, item: str, dispatch_id: int, quantity: int) -> PointMovement:
        row = self.rows.get((item, dispatch_id))
        if row is None:
            row = PointBalance(point_id=self.point.id, item_code=item, dispatch_id=dispatch_id, on_hand=0)
            db.session.add(row)
            self.rows[(item, dispatch_id)] = row
        row.on_hand += quantity
        return self._line(item, dispatch_id, "receipt", quantity)

    def take_out(self, item: str, quantity: int, kind: str, **refs) -> list[PointMovement]:
        """``quantity`` units out, oldest dispatch first; the caller checked :meth:`on_hand`."""
        if quantity > self.on_hand(item):
            raise Conflict(_t("发放点库存不足：%(item)s 需要 %(n)s，现有 %(left)s。", item=item, n=quantity,
                              left=self.on_hand(item)))
        made, left = [], quantity
        for (code, dispatch_id), row in sorted(self.rows.items(), key=lambda kv: kv[0][1]):
            if code != item or row.on_hand <= 0 or left == 0:
                continue
            share = min(row.on_hand, left)
            row.on_hand -= share
            left -= share
            made.append(self._line(item, dispatch_id, kind, -share, **refs))
        return made

    def _line(self, item: str, dispatch_id: int, kind: str, quantity: int, **refs) -> PointMovement:
        movement = PointMovement(point_id=self.point.id, item_code=item, dispatch_id=dispatch_id, kind=kind,
                                 quantity=quantity, balance_after=self.on_hand(item), username=_who(self.user),
                                 at=self.at, **refs)
        db.session.add(movement)
        self.made.append(movement)
        return movement


def point_stock(point_id: int) -> list[dict]:
    """Per item: received, handed out, returned, on hand (no permission: callers checked)."""
    rows = db.session.execute(
        select(PointMovement.item_code, PointMovement.kind, func.sum(PointMovement.quantity))
        .where(PointMovement.point_id == point_id).group_by(PointMovement.item_code, PointMovement.kind)).all()
    names = _item_names()
    table: dict[str, dict] = {}
    for item, kind, total in rows:
        entry = table.setdefault(item, {"item": item, "name": names.get(item, item), "received": 0,
                                        "handed_out": 0, "returned": 0, "on_hand": 0})
        key = {"receipt": "received", "handout": "handed_out", "return": "returned"}[kind]
        entry[key] += abs(int(total))
        entry["on_hand"] += int(total)
    return [table[k] for k in sorted(table)]


def stock_for(user, point_id: int) -> list[dict]:
    get_point(user, point_id)
    return point_stock(point_id)


def ledger_for(user, point_id: int) -> list[PointMovement]:
    get_point(user, point_id)
    return db.session.scalars(select(PointMovement).where(PointMovement.point_id == point_id)
                              .order_by(PointMovement.id)).all()


def _taken_from_dispatch(dispatch_id: int) -> dict[str, int]:
    """Units of each item that points already took in from a dispatch."""
    rows = db.session.execute(select(PointMovement.item_code, func.sum(PointMovement.quantity))
                              .where(PointMovement.dispatch_id == dispatch_id, PointMovement.kind == "receipt")
                              .group_by(PointMovement.item_code)).all()
    return {item: int(total) for item, total in rows}


def receivable_dispatches(user, point_id: int) -> list[dict]:
    """Received dispatches of the point's event to a region containing it, with what is left."""
    point = get_point(user, point_id)
    out = []
    for dispatch in received_dispatches(point.region_code, point.event_id):
        taken = _taken_from_dispatch(dispatch["id"])
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


# --- hand-outs -------------------------------------------------------------------------------

def current_round(event_id: int, region_code: str) -> int:
    """The round open at a region: the highest opened for it or a region containing it (1)."""
    rows = db.session.execute(select(DistributionRound.region_code, DistributionRound.number)
                              .where(DistributionRound.event_id == event_id)).all()
    return max([n for code, n in rows if codes.is_within(region_code, code)], default=1)


def _decode_proof(kind: str, text: str, errors: list[dict]) -> tuple[str, bytes] | None:
    head, _, payload = text.partition(",")
    types = {"data:image/png;base64": "image/png", "data:image/jpeg;base64": "image/jpeg"}
    if head not in types or (kind == "signature" and types[head] != "image/png"):
        errors.append({"field": "proof", "message": _t("签名须为 PNG 图片，照片须为 PNG 或 JPEG 图片（data URL）")})
        return None
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        errors.append({"field": "proof", "message": _t("图片数据不是有效的 base64")})
        return None
    limit = int(current_app.config["DISTRIBUTION_PROOF_MAX_BYTES"])
    if len(data) > limit:
        errors.append({"field": "proof", "message": _t("图片超过 %(kb)s KB", kb=limit // 1024)})
        return None
    magic = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}[types[head]]
    if not data.startswith(magic) or len(data) < 64:
        errors.append({"field": "proof", "message": _t("图片内容与类型不符或为空白")})
        return None
    return types[head], data


def _recipient(user, point: DistributionPoint, values: dict, data, errors: list[dict]):
    """``(recipient_key, household_id, spot row or person values, region_code)``."""
    household_id, person = values.get("household_id"), values.get("person")
    if (household_id is None) == (person is None):
        errors.append({"field": "household_id", "message": _t("须选择名册中的受灾户，或现场登记一人（二选一）")})
        return None
    if household_id is not None:
        found = households_brief(ids=[household_id])
        if not found:
            errors.append({"field": "household_id", "message": _t("受灾户 %(id)s 不存在", id=household_id)})
            return None
        household = found[0]
        if not codes.is_within(household["village_code"], point.region_code):
            errors.append({"field": "household_id", "message": _t("该户不在发放点所在区划")})
            return None
        return f"H{household['id']}", household["id"], None, household["village_code"]
    checked, found = validate(PERSON_FIELDS, person)
    errors.extend({**e, "field": f"person.{e['field']}"} for e in found)
    if checked.get("id_number"):
        try:
            checked["id_number"] = normalise_id_number(checked["id_number"])
        except IdNumberError as exc:
            errors.append({"field": "person.id_number", "message": str(exc)})
            return None
    if found:
        return None
    registered = households_brief(id_number=checked["id_number"])
    if registered:  # in the registry already: the household receives as itself, never twice
        household = registered[0]
        if not codes.is_within(household["village_code"], point.region_code):
            errors.append({"field": "person.id_number", "message": _t("此人已在其他区划的受灾户名册中")})
            return None
        return f"H{household['id']}", household["id"], None, household["village_code"]
    return f"P{checked['id_number']}", None, checked, point.region_code


def _spot_row(user, point: DistributionPoint, person: dict) -> SpotRecipient:
    row = db.session.scalar(select(SpotRecipient).where(SpotRecipient.id_number == person["id_number"]))
    if row is None:
        row = SpotRecipient(id_number=person["id_number"], name=person["name"],
                            household_size=person["household_size"], region_code=point.region_code,
                            registered_by=_who(user))
        db.session.add(row)
        db.session.flush()
    return row


def hand_out(user, point_id: int, data, before_commit=None) -> list[HandOut]:
    """Hand items to one household (签领) with its signature or photo, in one transaction.

    Refused as a whole (nothing handed out): a line beyond the point's stock (409), or an item
    the household already received in this event's current round (409, naming the line)."""
    point = get_point(user, point_id, "distribution.handout", lock=True)
    values, errors = validate(HANDOUT_FIELDS, data)
    lines = _checked_lines(data, errors)
    recipient = _recipient(user, point, values, data, errors) if not any(
        e["field"] in ("household_id", "person") for e in errors) else None
    proof = _decode_proof(values["proof_kind"], values["proof"], errors) if values.get("proof") and \
        values.get("proof_kind") else None
    now = utcnow()
    handed_at = values.get("handed_at") or now
    if handed_at > now + timedelta(minutes=5):
        errors.append({"field": "handed_at", "message": _t("发放时间不能晚于现在")})
    _raise_if(errors)
    key, household_id, person, _region = recipient
    round_number = current_round(point.event_id, point.region_code)
    already = {row.item_code for row in db.session.scalars(select(HandOut).where(
        HandOut.event_id == point.event_id, HandOut.recipient_key == key, HandOut.round_number == round_number))}
    book = PointBook(point, user)
    names = _item_names()
    twice = [{"field": f"lines[{l['index']}].item",
              "message": _t("%(item)s：该户本轮（第 %(n)s 轮）已领取", item=_t(names.get(l['item'], l['item'])),
                            n=round_number)}
             for l in lines if l["item"] in already]
    if twice:
        raise Conflict(_t("该户本次灾害已领取过这些物资；如确需再次发放，须先开启新一轮发放。"), twice, title=_t("重复领取"))
    short = [{"field": f"lines[{l['index']}].quantity",
              "message": _t("%(item)s：发放 %(n)s，现有 %(left)s", item=_t(names.get(l['item'], l['item'])),
                            n=l['quantity'], left=book.on_hand(l['item']))}
             for l in lines if l["quantity"] > book.on_hand(l["item"])]
    if short:
        raise Conflict(_t("发放点库存不足，未发放任何物资。"), short, title=_t("库存不足"))
    mimetype, blob = proof
    spot = _spot_row(user, point, person) if person else None
    proof_row = HandOutProof(kind=values["proof_kind"], mimetype=mimetype, data=blob,
                             sha256=hashlib.sha256(blob).hexdigest())
    db.session.add(proof_row)
    db.session.flush()
    made = []
    for line in lines:
        row = HandOut(point_id=point.id, event_id=point.event_id, round_number=round_number, recipient_key=key,
                      household_id=household_id, spot_recipient_id=spot.id if spot else None,
                      item_code=line["item"], quantity=line["quantity"], proof_id=proof_row.id,
                      proof_kind=values["proof_kind"], handed_by=_who(user), handed_at=handed_at, recorded_at=now)
        db.session.add(row)
        made.append(row)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # another clerk handed the same item to the same household just now
        raise Conflict(_t("该户本轮已领取这些物资（刚由他人登记）。"), [{"field": "lines", "message": _t("重复领取")}],
                       title=_t("重复领取")) from None
    for row in made:
        book.take_out(row.item_code, row.quantity, "handout", handout_id=row.id)
    db.session.flush()
    audit.record(user, "distribution.handout", "distribution_point", point.id,
                 after={"recipient": key if household_id else f"P{mask_id(key[1:])}", "round": round_number,
                        "handouts": [r.id for r in made], "lines": [{"item": r.item_code, "quantity": r.quantity}
                                                                   for r in made]},
                 region_code=point.region_code)
    if before_commit:
        before_commit(handout_body(made))
    db.session.commit()
    return made


def handout_body(made: list[HandOut]) -> dict:
    first = made[0]
    return {"point_id": first.point_id, "event_id": first.event_id, "round": first.round_number,
            "household_id": first.household_id, "spot_recipient_id": first.spot_recipient_id,
            "handed_by": first.handed_by, "handed_at": first.handed_at.isoformat(),
            "proof_kind": first.proof_kind, "proof_id": first.proof_id,
            "items": [row.to_dict() for row in made]}


def proof_for(user, handout_id: int) -> HandOutProof:
    row = db.session.get(HandOut, handout_id)
    if row is None:
        raise NotFound(_t("发放记录 %(id)s 不存在。", id=handout_id))
    get_point(user, row.point_id)
    return db.session.get(HandOutProof, row.proof_id)


def open_round(user, point_id: int, data) -> DistributionRound:
    """Open the next round (开启第二轮发放) for a region: every household there may receive each
    item once more in this event. Needs a reason; the region defaults to the point's."""
    point = get_point(user, point_id)
    values, errors = validate(ROUND_FIELDS, data)
    _raise_if(errors)
    region = values.get("region_code") or point.region_code
    if not (codes.is_within(point.region_code, region) or codes.is_within(region, point.region_code)):
        raise Invalid(_t("区划与发放点无关。"), [{"field": "region_code", "message": _t("须包含发放点或在其范围内")}])
    require(user, "distribution.round", region)
    number = current_round(point.event_id, region) + 1
    row = DistributionRound(event_id=point.event_id, region_code=region, number=number, reason=values["reason"],
                            opened_by=_who(user))
    db.session.add(row)
    db.session.flush()
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


# --- reports ---------------------------------------------------------------------------------

def _local(at: datetime) -> str:
    """A time as the clerk reads it: ISO 8601 in the configured zone (Asia/Shanghai)."""
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).isoformat(timespec="minutes")


def _recipients(point: DistributionPoint, region: str) -> list[dict]:
    """The households of ``region`` (registry and registered on the spot) with what each received
    in the point's event."""
    handouts = db.session.scalars(select(HandOut).where(HandOut.event_id == point.event_id)
                                  .order_by(HandOut.id)).all()
    by_key: dict[str, list[HandOut]] = defaultdict(list)
    for row in handouts:
        by_key[row.recipient_key].append(row)
    rows = [{"key": f"H{h['id']}", "household_id": h["id"], "village_code": h["village_code"],
             "name": h["head_name"], "id_number": mask_id(h["id_number"]), "members": h["members"],
             "source": "registry"} for h in households_brief(region_code=region)]
    prefix = codes.prefix_of(region)
    spots = db.session.scalars(select(SpotRecipient).where(SpotRecipient.region_code.like(prefix + "%"))
                               .order_by(SpotRecipient.id)).all()
    rows += [{"key": f"P{s.id_number}", "spot_recipient_id": s.id, "village_code": s.region_code, "name": s.name,
              "id_number": mask_id(s.id_number), "members": s.household_size, "source": "spot"}
             for s in spots if f"P{s.id_number}" in by_key]
    names = _item_names()
    for row in rows:
        got = by_key.get(row["key"], [])
        row["received"] = [{"item": h.item_code, "name": names.get(h.item_code, h.item_code), "quantity": h.quantity,
                            "round": h.round_number, "handed_by": h.handed_by, "handed_at": _local(h.handed_at),
                            "handout_id": h.id, "proof_kind": h.proof_kind, "point_id": h.point_id} for h in got]
        del row["key"]
    return rows


def report_for(user, point_id: int, region: str | None = None) -> dict:
    """Per village (or the point's region): every household with what it received, and those who
    received nothing yet (尚未领取)."""
    point = get_point(user, point_id)
    region = region or point.region_code
    require(user, "distribution.view", region)
    rows = _recipients(point, region)
    return {"point": point.to_dict(), "region_code": region, "round": current_round(point.event_id, region),
            "households": rows, "received": sum(1 for r in rows if r["received"]),
            "nothing_yet": [r for r in rows if not r["received"]]}


def household_report(user, point_id: int, household_id: int) -> dict:
    point = get_point(user, point_id)
    rows = [r for r in _recipients(point, point.region_code) if r.get("household_id") == household_id]
    if not rows:
        raise NotFound(_t("受灾户 %(id)s 不在发放点 %(name)s 的区划内。", id=household_id, name=point.name))
    return rows[0]


def report_workbook(user, point_id: int, region: str | None = None) -> bytes:
    """The report as .xlsx: one line per hand-out, and one per household that got nothing yet
    (every cell through :func:`app.spreadsheets.put`, which escapes formula-leading text)."""
    from ..i18n import translate

    report = report_for(user, point_id, region)
    book = new_workbook(translate("发放签领"))
    sheet = book.active
    head = ["村（区划）", "户主/姓名", "身份证号", "家庭人口", "来源", "物资", "数量", "轮次", "发放人", "发放时间",
            "凭证"]
    for column, text in enumerate(head, 1):
        put(sheet, 1, column, translate(text))
    source = {"registry": "名册户", "spot": "现场登记"}
    line = 2
    for row in report["households"]:
        base = [row["village_code"], row["name"], row["id_number"], row["members"], translate(source[row["source"]])]
        for got in row["received"] or [None]:
            rest = [got["name"], got["quantity"], got["round"], got["handed_by"], got["handed_at"],
                    translate({"signature": "签名", "photo": "照片"}[got["proof_kind"]])] if got else \
                [translate("尚未领取"), None, None, None, None, None]
            for column, value in enumerate(base + rest, 1):
                put(sheet, line, column, value)
            line += 1
    return workbook_bytes(book)


# --- the ledger's invariants -----------------------------------------------------------------

def check_point_ledger(point_id: int) -> list[str]:
    """What is wrong with a point's books (empty when nothing): each balance is the sum of its
    movements and never negative; each hand-out line matches a hand-out; each return line matches
    a return; what points took from a dispatch is not more than it brought."""
    problems = []
    sums = dict(((item, dispatch), int(total)) for item, dispatch, total in db.session.execute(
        select(PointMovement.item_code, PointMovement.dispatch_id, func.sum(PointMovement.quantity))
        .where(PointMovement.point_id == point_id).group_by(PointMovement.item_code, PointMovement.dispatch_id)))
    for row in db.session.scalars(select(PointBalance).where(PointBalance.point_id == point_id)):
        if row.on_hand < 0:
            problems.append(f"{row.item_code}/{row.dispatch_id} below zero: {row.on_hand}")
        if sums.get((row.item_code, row.dispatch_id), 0) != row.on_hand:
            problems.append(f"{row.item_code}/{row.dispatch_id}: balance {row.on_hand} ≠ ledger "
                            f"{sums.get((row.item_code, row.dispatch_id), 0)}")
    for handout in db.session.scalars(select(HandOut).where(HandOut.point_id == point_id)):
        out = -sum(m.quantity for m in db.session.scalars(select(PointMovement).where(
            PointMovement.handout_id == handout.id)))
        if out != handout.quantity:
            problems.append(f"hand-out {handout.id}: {handout.quantity} handed, {out} left the stock")
        if not (handout.household_id or handout.spot_recipient_id):
            problems.append(f"hand-out {handout.id} names no household")
    for movement in db.session.scalars(select(PointMovement).where(PointMovement.point_id == point_id)):
        if movement.kind == "handout" and movement.handout_id is None:
            problems.append(f"movement {movement.id}: hand-out line without a hand-out")
        if movement.kind == "return" and movement.return_id is None:
            problems.append(f"movement {movement.id}: return line without a return")
        if (movement.kind == "receipt") != (movement.quantity > 0):
            problems.append(f"movement {movement.id}: sign does not match its kind")
    for dispatch_id in {d for _, d in sums}:
        brought = {code: line["received"] for code, line in received_dispatch(dispatch_id)["lines"].items()}
        for item, taken in _taken_from_dispatch(dispatch_id).items():
            if taken > brought.get(item, 0):
                problems.append(f"dispatch {dispatch_id}: points took {taken} {item}, it brought {brought.get(item, 0)}")
    return problems


# --- pages -----------------------------------------------------------------------------------

def index_page(user) -> dict:
    require(user, "distribution.view")
    from ..reports import visible_events

    points = db.session.scalars(visible_points(user).limit(200)).all()
    events = db.session.scalars(visible_events(user, "active").limit(50)).all() if can(
        user, "distribution.manage") else []
    names = dict(db.session.execute(select(Region.code, Region.name).where(
        Region.code.in_({p.region_code for p in points}))).all())
    return {"points": points, "events": events, "region_names": names, "kinds": POINT_KINDS,
            "may_manage": can(user, "distribution.manage")}


def point_page(user, point_id: int) -> dict:
    point = get_point(user, point_id)
    region = db.session.get(Region, point.region_code)
    return {"point": point, "region": region, "stock": point_stock(point.id),
            "dispatches": receivable_dispatches(user, point.id) if can(user, "distribution.manage",
                                                                       point.region_code) else [],
            "round": current_round(point.event_id, point.region_code),
            "rounds": db.session.scalars(select(DistributionRound).where(
                DistributionRound.event_id == point.event_id).order_by(DistributionRound.id)).all(),
            "may_manage": can(user, "distribution.manage", point.region_code),
            "may_hand_out": can(user, "distribution.handout", point.region_code),
            "may_open_round": can(user, "distribution.round", point.region_code)}


def handout_page(user, point_id: int) -> dict:
    """What the clerk's phone page needs, to work offline: the point's households (registry and
    registered on the spot, with what each received this round) and the stock."""
    point = get_point(user, point_id, "distribution.handout")
    round_number = current_round(point.event_id, point.region_code)
    households = []
    for row in _recipients(point, point.region_code):
        households.append({"household_id": row.get("household_id"), "name": row["name"],
                           "id_number": row["id_number"], "members": row["members"],
                           "village_code": row["village_code"], "source": row["source"],
                           "received": sorted({r["item"] for r in row["received"] if r["round"] == round_number})})
    return {"point": point, "round": round_number, "households": households, "stock": point_stock(point.id)}


def home_panel(user) -> dict | None:
    return None


def return_from_form(user, point_id: int, form) -> PointReturn:
    """The point page's one-line return form: ``item``, ``quantity``, ``reason``."""
    from ..validation import form_data

    line, errors = form_data(LINE, form)
    if errors:
        raise Invalid(_t("请求有误。"), [{**e, "field": f"lines[0].{e['field']}"} for e in errors])
    body = {"lines": [line]}
    if (form.get("reason") or "").strip():
        body["reason"] = form.get("reason")
    return return_goods(user, point_id, body)


def create_point_from_form(user, form) -> DistributionPoint:
    from ..validation import form_data

    body, errors = form_data(POINT_FIELDS, form)
    _raise_if(errors)
    return create_point(user, body)
