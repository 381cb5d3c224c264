"""What the distribution service's modules share: the input fields, the point and its locked
book of balances (:class:`PointBook`, the only writer of a point's stock), the current round."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import func, literal, select, union_all

from gis import codes

from ...database import lock_for_update
from ...depots import Item
from ...errors import Conflict, Invalid, NotFound
from ...extensions import db
from ...i18n import translate as _t
from ...models_common import utcnow
from ...permissions import require
from ...validation import Field, validate
from ..models import POINT_KINDS, DistributionPoint, DistributionRound, HandOut, PointBalance, PointMovement



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
    "expected_round": Field("int", required=False, min=1,
                            description="提交者所见的当前轮次：已不是当前轮次时（重复提交、他人已开启）拒绝（409）"),
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
    for index, element in enumerate(raw):
        if not isinstance(element, dict):
            continue
        values, found = validate(LINE, element)
        errors.extend({**e, "field": f"lines[{index}].{e['field']}"} for e in found)
        code = values.get("item")
        if code is not None and code not in _item_names([code]):
            errors.append({"field": f"lines[{index}].item", "message": _t("物资目录中没有 %(item)s", item=code)})
        elif code in seen:
            errors.append({"field": f"lines[{index}].item", "message": _t("物资 %(item)s 重复", item=code)})
        seen.add(code)
        out.append({"index": index, **values})
    return out


def _item_names(needed=()) -> dict[str, str]:
    """The catalogue's names by code, read once per process and again only when a code in
    ``needed`` is missing from it: items are only ever added to the catalogue
    (``ensure_catalogue``), never renamed or removed, so what was read stays true (a hand-out
    checks and names its lines with it several times, on every request)."""
    from flask import current_app

    names = current_app.extensions.get("distribution_items")
    if names is None or any(code not in names for code in needed):
        names = current_app.extensions["distribution_items"] = dict(db.session.execute(
            select(Item.code, Item.name).order_by(Item.category, Item.code)).all())
    return names


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


class PointBook:
    """The balances of one point, locked (FOR UPDATE) while one transaction posts to it: the only writer of
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
    names = _item_names({item for item, _kind, _total in rows})
    table: dict[str, dict] = {}
    for item, kind, total in rows:
        entry = table.setdefault(item, {"item": item, "name": names.get(item, item), "received": 0,
                                        "handed_out": 0, "returned": 0, "on_hand": 0})
        key = {"receipt": "received", "handout": "handed_out", "return": "returned"}[kind]
        entry[key] += abs(int(total))
        entry["on_hand"] += int(total)
    return [table[k] for k in sorted(table)]


def _taken_from_dispatch(dispatch_id: int) -> dict[str, int]:
    """Units of each item that points already took in from a dispatch."""
    return _taken_from_dispatches([dispatch_id]).get(dispatch_id, {})


def _taken_from_dispatches(dispatch_ids: list[int]) -> dict[int, dict[str, int]]:
    """:func:`_taken_from_dispatch` of each dispatch, in one query (a dispatch nothing was taken
    from is absent)."""
    if not dispatch_ids:
        return {}
    rows = db.session.execute(select(PointMovement.dispatch_id, PointMovement.item_code, func.sum(PointMovement.quantity))
                              .where(PointMovement.dispatch_id.in_(sorted(set(dispatch_ids))),
                                     PointMovement.kind == "receipt")
                              .group_by(PointMovement.dispatch_id, PointMovement.item_code)).all()
    out: dict[int, dict[str, int]] = {}
    for dispatch_id, item, total in rows:
        out.setdefault(dispatch_id, {})[item] = int(total)
    return out


def current_round(event_id: int, region_code: str) -> int:
    """The round open at a region: the highest opened for it or a region containing it (1)."""
    rows = db.session.execute(select(DistributionRound.region_code, DistributionRound.number)
                              .where(DistributionRound.event_id == event_id)).all()
    return _round_at(rows, region_code)


def _round_at(rounds, region_code: str) -> int:
    return max([n for code, n in rounds if codes.is_within(region_code, code)], default=1)


def round_and_received(point: DistributionPoint, recipient_key: str) -> tuple[int, set[str]]:
    """The round open at the point's region and the items the recipient received in it, in one
    statement (a hand-out asks both on every request)."""
    rows = db.session.execute(union_all(
        select(literal("round"), DistributionRound.region_code, DistributionRound.number)
        .where(DistributionRound.event_id == point.event_id),
        select(literal("handout"), HandOut.item_code, HandOut.round_number)
        .where(HandOut.event_id == point.event_id, HandOut.recipient_key == recipient_key))).all()
    number = _round_at([(code, n) for kind, code, n in rows if kind == "round"], point.region_code)
    return number, {code for kind, code, n in rows if kind == "handout" and n == number}


def _local(at: datetime) -> str:
    """A time as the clerk reads it: ISO 8601 in the configured zone (Asia/Shanghai)."""
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).isoformat(timespec="minutes")
