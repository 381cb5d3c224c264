"""Reports (who received what, who nothing yet), the Excel export, the ledger's invariants and
what each page shows."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from gis import codes

from ...cycles import households_brief, mask_id
from ...depots import received_dispatch
from ...errors import NotFound
from ...extensions import db
from ...i18n import translate as _t
from ...permissions import can, require
from ...regions import Region, search_regions
from ...reports import visible_events
from ...spreadsheets import new_workbook, put, workbook_bytes
from ..models import (POINT_KINDS, DistributionPoint, DistributionRound, HandOut, PointBalance, PointMovement,
    SpotRecipient)

from .common import (_item_names, get_point, visible_points, point_stock, _taken_from_dispatch, current_round, _local)
from .points import receivable_dispatches


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
    rows += [{"key": f"S{s.id}", "spot_recipient_id": s.id, "village_code": s.region_code, "name": s.name,
              "id_number": mask_id(s.id_number), "members": s.household_size, "source": "spot"}
             for s in spots if f"S{s.id}" in by_key]
    names = _item_names({h.item_code for got in by_key.values() for h in got})
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
    report = report_for(user, point_id, region)
    book = new_workbook(_t("发放签领"))
    sheet = book.active
    head = ["村（区划）", "户主/姓名", "身份证号", "家庭人口", "来源", "物资", "数量", "轮次", "发放人", "发放时间",
            "凭证"]
    for column, text in enumerate(head, 1):
        put(sheet, 1, column, _t(text))
    source = {"registry": "名册户", "spot": "现场登记"}
    line = 2
    for row in report["households"]:
        base = [row["village_code"], row["name"], row["id_number"], row["members"], _t(source[row["source"]])]
        for got in row["received"] or [None]:
            rest = [got["name"], got["quantity"], got["round"], got["handed_by"], got["handed_at"],
                    _t({"signature": "签名", "photo": "照片"}[got["proof_kind"]])] if got else \
                [_t("尚未领取"), None, None, None, None, None]
            for column, value in enumerate(base + rest, 1):
                put(sheet, line, column, value)
            line += 1
    return workbook_bytes(book)


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


def index_page(user) -> dict:
    require(user, "distribution.view")
    points = db.session.scalars(visible_points(user).limit(200)).all()
    events = db.session.scalars(visible_events(user, "active").limit(50)).all() if can(
        user, "distribution.manage") else []
    names = dict(db.session.execute(select(Region.code, Region.name).where(
        Region.code.in_({p.region_code for p in points}))).all())
    return {"points": points, "events": events, "region_names": names, "kinds": POINT_KINDS,
            "may_manage": can(user, "distribution.manage")}


def places(user, query: str | None) -> list[dict]:
    """Where the user may set up a point (the picker of the page's form): the townships and
    villages of their jurisdiction whose name holds ``query`` or whose code starts with it."""
    require(user, "distribution.manage")
    return search_regions(query, within=user.region_code, levels=("township", "village"))


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
