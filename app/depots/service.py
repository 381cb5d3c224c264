"""Depots and stock (救灾物资): plain functions that check permission first, validate everything,
run one transaction and write the audit log. Pages and the JSON API call the same functions.

Concurrency: every function that moves stock locks the depot row and then its stock-balance
rows (``SELECT … FOR UPDATE`` on PostgreSQL through :func:`app.database.lock_for_update`; on
SQLite every transaction already starts as ``BEGIN IMMEDIATE``, which serialises writers). A
dispatch is locked before its depot, a depot before its balances, and a supply request last (or
alone), so two approvals can never both take the same units and never deadlock.

``user=None`` means the system itself (demo loader, CLI): no permission check, audited as
``system``.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from flask import current_app
from sqlalchemy import func, select

import stockpile
from gis import codes, great_circle_km

from .. import audit
from ..api import Field, check
from ..database import lock_for_update
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..models_common import utcnow
from ..notifications import coordinators_covering, notify
from ..permissions import Target, can, require
from ..regions import Region
from .models import (DISPATCH_MACHINE, SUPPLY_REQUEST_MACHINE, TIERS, DemandNorm, Depot, DepotReserve,
                     Dispatch, DispatchLine, Item, StockBalance, StockMovement, SupplyRequest,
                     SupplyRequestLine)

#: Dispatches whose goods count as sent to their region (demand is net of them).
SENT_STATUSES = ("approved", "shipped", "received")
#: Dispatches the map shows as moving (approved: loading; shipped: on the road).
IN_TRANSIT_STATUSES = ("approved", "shipped")
MAX_QUANTITY = 10**9


# --- small helpers ------------------------------------------------------------------------

def today() -> date:
    """Today in the configured time zone (Asia/Shanghai): the day expiry dates are read against."""
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


def lot_key(lot: str | None, expiry: date | None) -> str:
    return f"{lot or ''}|{expiry.isoformat() if expiry else ''}"


def _require(user, action: str, target=None) -> None:
    if user is not None:
        require(user, action, target)


def _who(user) -> str:
    return getattr(user, "username", None) or "system"


def _depot_target(depot: Depot) -> Target:
    return Target(depot.region_code, depot.manager_ids)


def _whole(value, field: str, errors: list[dict], *, minimum: int = 1) -> int | None:
    return Field("int", min=minimum, max=MAX_QUANTITY).convert(field, value, errors)


def _text(value, field: str, errors: list[dict], *, required: bool = False, max_length: int = 500,
          multiline: bool = True):
    """Optional text (``None`` when absent or blank): notes and reasons may span lines, codes
    and names (``multiline=False``) may not."""
    if value is None or value == "":
        if required:
            errors.append({"field": field, "message": "必填"})
        return None
    return Field("str", required=required, max_length=max_length, multiline=multiline).convert(
        field, value, errors) or None


def _date(value, field: str, errors: list[dict]) -> date | None:
    if value is None or value == "":
        return None
    return Field("date").convert(field, value, errors)


def _region(code, field: str, errors: list[dict]) -> Region | None:
    if code is None or code == "":
        errors.append({"field": field, "message": "必填"})
        return None
    code = Field("code").convert(field, code, errors)
    if code is None:
        return None
    region = db.session.get(Region, code)
    if region is None:
        errors.append({"field": field, "message": f"区划 {code} 不存在"})
    return region


_CODE = Field("str", max_length=40)


def _item(code, field: str, errors: list[dict]) -> Item | None:
    if code is None or code == "":
        errors.append({"field": field, "message": "必填（物资代码）"})
        return None
    code = _CODE.convert(field, code, errors)
    if code is None:
        return None
    item = db.session.get(Item, code)
    if item is None:
        errors.append({"field": field, "message": f"物资 {code} 不在目录中"})
    return item


def _depot_ref(code, field: str, errors: list[dict]) -> Depot | None:
    """A depot named in a body (``from_depot``, ``to_depot``): text within the code column,
    and one that exists."""
    code = _CODE.convert(field, code, errors)
    if code is None:
        return None
    depot = db.session.get(Depot, code)
    if depot is None:
        errors.append({"field": field, "message": f"物资库 {code} 不存在"})
    return depot


def _event_id(value, errors: list[dict], field: str = "event_id") -> int | None:
    """An optional reference to a disaster event: ``None``, or the id of one that exists."""
    if value is None:
        return None
    from ..reports import Event

    event_id = Field("int", min=1).convert(field, value, errors)
    if event_id is not None and db.session.get(Event, event_id) is None:
        errors.append({"field": field, "message": f"灾害过程 {value} 不存在"})
    return event_id


def _lines(raw, errors: list[dict], field: str = "lines") -> list[tuple[Item, int]]:
    """``[{"item", "quantity"}]`` → ``[(Item, quantity)]``; every bad field named, duplicates too."""
    if not isinstance(raw, list) or not raw:
        errors.append({"field": field, "message": "至少需要一行（物资、数量）"})
        return []
    out: list[tuple[Item, int]] = []
    seen: set[str] = set()
    for index, line in enumerate(raw):
        where = f"{field}[{index}]"
        if not isinstance(line, dict):
            errors.append({"field": where, "message": "必须是对象 {item, quantity}"})
            continue
        item = _item(line.get("item"), f"{where}.item", errors)
        quantity = _whole(line.get("quantity"), f"{where}.quantity", errors)
        if item is not None and item.code in seen:
            errors.append({"field": f"{where}.item", "message": f"物资 {item.code} 重复"})
            continue
        if item is not None:
            seen.add(item.code)
        if item is not None and quantity is not None:
            out.append((item, quantity))
    return out


def _raise_if(errors: list[dict], detail: str = "") -> None:
    if errors:
        raise Invalid(detail or f"请求有 {len(errors)} 处错误。", errors)


# --- catalogue and norms ------------------------------------------------------------------

#: What a 404 or 403 calls a row of each model.
_NOUNS = {Depot: "物资库", Dispatch: "调拨单", SupplyRequest: "物资申请"}


def _get(model, key, *, lock: bool = False):
    """The row of ``model`` with primary key ``key``, or a 404. ``lock=True`` reads it afresh
    and locked for the transaction that changes it (``FOR UPDATE`` on PostgreSQL; see the
    module's note on lock order)."""
    if lock:
        (column,) = model.__mapper__.primary_key
        row = db.session.scalar(lock_for_update(select(model).where(column == key))
                                .execution_options(populate_existing=True))
    else:
        row = db.session.get(model, key)
    if row is None:
        raise NotFound(f"{_NOUNS[model]} {key} 不存在。")
    return row


def _readable(model, key, visible):
    """The row (404 when there is none) if the user's query ``visible`` returns it, else 403."""
    row = _get(model, key)
    if db.session.scalar(visible.where(model.id == key)) is None:
        raise Forbidden(f"{_NOUNS[model]} {key} 不在您的管辖范围内。")
    return row


def list_items() -> list[Item]:
    return db.session.scalars(select(Item).order_by(Item.category, Item.code)).all()


def ensure_catalogue(items=stockpile.DEFAULT_ITEMS) -> int:
    """Add the shipped catalogue items that are missing (never changes existing ones)."""
    added = 0
    for item in items:
        if db.session.get(Item, item.code) is None:
            db.session.add(Item(code=item.code, name=item.name, unit=item.unit, category=item.category,
                                shelf_life_days=item.shelf_life_days))
            added += 1
    db.session.flush()
    return added


def _catalogue_for_library() -> list[stockpile.Item]:
    return [stockpile.Item(row.code, row.name, row.unit, row.category, row.shelf_life_days) for row in list_items()]


def _all_norms() -> dict[str, list[stockpile.DemandNorm]]:
    grouped: dict[str, list[stockpile.DemandNorm]] = defaultdict(list)
    for row in db.session.scalars(select(DemandNorm).order_by(DemandNorm.region_code, DemandNorm.id)):
        grouped[row.region_code].append(
            stockpile.DemandNorm(row.item_code, row.indicator, row.per_person, row.days, row.note))
    return grouped


def norms_for(region_code: str, grouped: dict | None = None) -> tuple[str, tuple]:
    """``(source_region, norms)``: the norms of the nearest jurisdiction at or above
    ``region_code`` that configured any; ``("default", stockpile.DEFAULT_NORMS)`` otherwise."""
    grouped = _all_norms() if grouped is None else grouped
    for code in (region_code, *codes.ancestors(region_code), codes.NATIONAL):
        if grouped.get(code):
            return code, tuple(grouped[code])
    return "default", stockpile.DEFAULT_NORMS


def norms_as_dicts(region_code: str) -> dict:
    source, norms = norms_for(codes.normalise(region_code))
    return {"region_code": region_code, "source": source,
            "norms": [{"item": n.item, "indicator": n.indicator, "per_person": float(n.per_person),
                       "days": n.days, "note": n.note} for n in norms]}


def set_norms(user, region_code: str, config: list[dict]) -> dict:
    """Replace the norms of one jurisdiction (``000000`` is national); an empty list removes
    them, so the region falls back to the level above."""
    try:
        code = codes.normalise(region_code)
    except codes.CodeError as exc:
        raise Invalid(str(exc), [{"field": "region_code", "message": str(exc)}]) from exc
    _require(user, "stock.configure", code)
    if code != codes.NATIONAL and db.session.get(Region, code) is None:
        raise NotFound(f"区划 {code} 不存在。")
    try:
        norms = stockpile.norms_from_config(config, items=_catalogue_for_library())
    except stockpile.NormConfigError as exc:
        raise Invalid("需求定额有误。", [{"field": f"norms{name}", "message": message}
                                       for name, message in exc.errors]) from exc
    seen = set()
    errors = []
    for index, norm in enumerate(norms):
        if (norm.item, norm.indicator) in seen:
            errors.append({"field": f"norms[{index}].item", "message": "同一物资、同一指标只能有一条定额"})
        seen.add((norm.item, norm.indicator))
    _raise_if(errors)
    before = norms_as_dicts(code)
    for row in db.session.scalars(select(DemandNorm).where(DemandNorm.region_code == code)):
        db.session.delete(row)
    db.session.flush()
    for norm in norms:
        db.session.add(DemandNorm(region_code=code, item_code=norm.item, indicator=norm.indicator,
                                  per_person=float(norm.per_person), days=norm.days, note=norm.note))
    db.session.flush()
    after = norms_as_dicts(code)
    audit.record(user, "demand_norm.set", "demand_norm", code, before=before, after=after,
                 region_code=None if code == codes.NATIONAL else code)
    db.session.commit()
    return after


def ensure_default_norms() -> bool:
    """Store ``stockpile.DEFAULT_NORMS`` as the national norms when no norm exists at all."""
    if db.session.scalar(select(func.count()).select_from(DemandNorm)):
        return False
    for norm in stockpile.DEFAULT_NORMS:
        db.session.add(DemandNorm(region_code=codes.NATIONAL, item_code=norm.item, indicator=norm.indicator,
                                  per_person=float(norm.per_person), days=norm.days, note=norm.note))
    db.session.flush()
    return True


# --- depots -------------------------------------------------------------------------------

DEPOT_CODE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
DEPOT_CODE = Field("str", max_length=40, pattern=r"[A-Za-z0-9._-]+", description="物资库代码（字母、数字、- _ .）")
DEPOT_LON = Field("number", min=-180, max=180, description="经度（WGS-84）")
DEPOT_LAT = Field("number", min=-90, max=90, description="纬度（WGS-84）")
DEPOT_CAPACITY = Field("number", required=False, min=0, max=1e9, description="库容（平方米）")


def get_depot(code: str, *, lock: bool = False) -> Depot:
    return _get(Depot, code, lock=lock)


def depots_query(region_code: str | None = None, *, managed_by=None, active_only: bool = False):
    stmt = select(Depot).order_by(Depot.code)
    if region_code:
        try:
            code = codes.normalise(region_code)
        except codes.CodeError as exc:
            raise Invalid(str(exc), [{"field": "region_code", "message": str(exc)}]) from exc
        if code != codes.NATIONAL:
            stmt = stmt.where(Depot.region_code.like(codes.prefix_of(code) + "%"))
    if managed_by is not None:
        from .models import depot_manager

        stmt = stmt.where(Depot.code.in_(select(depot_manager.c.depot_code)
                                         .where(depot_manager.c.user_id == managed_by.id)))
    if active_only:
        stmt = stmt.where(Depot.active.is_(True))
    return stmt


def create_depot(user, data: dict) -> Depot:
    """``data``: code, name, tier, region_code, lon, lat, optional capacity_m2, managers (usernames)."""
    _require(user, "depot.create")
    errors: list[dict] = []
    code = _text(data.get("code"), "code", errors, required=True, max_length=40, multiline=False)
    if code and not set(code) <= DEPOT_CODE_CHARS:
        errors.append({"field": "code", "message": "只能包含字母、数字和 - _ ."})
    name = _text(data.get("name"), "name", errors, required=True, max_length=100, multiline=False)
    tier = check("tier", data.get("tier"), Field("str", choices=tuple(TIERS)), errors)
    region = _region(data.get("region_code"), "region_code", errors)
    if region is not None:
        _require(user, "depot.create", region.code)
    lon = check("lon", data.get("lon"), DEPOT_LON, errors)
    lat = check("lat", data.get("lat"), DEPOT_LAT, errors)
    capacity = check("capacity_m2", data.get("capacity_m2"), DEPOT_CAPACITY, errors)
    managers = _managers(data.get("managers") or [], region, errors)
    _raise_if(errors)
    if db.session.get(Depot, code) is not None:
        raise Conflict(f"物资库代码 {code} 已存在。", [{"field": "code", "message": "已存在"}])
    depot = Depot(code=code, name=name, tier=tier, region_code=region.code, lon=float(lon), lat=float(lat),
                  capacity_m2=float(capacity) if capacity is not None else None, active=True)
    depot.managers = managers
    db.session.add(depot)
    db.session.flush()
    audit.record(user, "depot.create", "depot", depot.code, after=depot.to_dict(), region_code=region.code)
    db.session.commit()
    return depot


def update_depot(user, depot_code: str, data: dict) -> Depot:
    """Change a depot's name, location, capacity or ``active`` (a stopped depot sends nothing
    new); its code, tier and region stay."""
    depot = get_depot(depot_code)
    _require(user, "depot.create", depot.region_code)
    errors: list[dict] = []
    unknown = sorted(set(data) - {"name", "lon", "lat", "capacity_m2", "active"})
    for field in unknown:
        errors.append({"field": field, "message": "不能修改（只能修改 name、lon、lat、capacity_m2、active）"})
    changes: dict = {}
    if "name" in data:
        changes["name"] = _text(data["name"], "name", errors, required=True, max_length=100, multiline=False)
    for field, spec in (("lon", DEPOT_LON), ("lat", DEPOT_LAT)):
        if field in data:
            value = check(field, data[field], spec, errors)
            if value is not None:
                changes[field] = float(value)
    if "capacity_m2" in data:
        before = len(errors)
        value = check("capacity_m2", data["capacity_m2"], DEPOT_CAPACITY, errors)
        if len(errors) == before:
            changes["capacity_m2"] = None if value is None else float(value)
    if "active" in data:
        value = check("active", data["active"], Field("bool"), errors)
        if value is not None:
            changes["active"] = value
    _raise_if(errors)
    before = depot.to_dict()
    for field, value in changes.items():
        setattr(depot, field, value)
    db.session.flush()
    audit.record(user, "depot.update", "depot", depot.code, before=before, after=depot.to_dict(),
                 region_code=depot.region_code)
    db.session.commit()
    return depot


def _managers(usernames, region: Region | None, errors: list[dict], field: str = "managers") -> list:
    from ..auth import User

    if not isinstance(usernames, list):
        errors.append({"field": field, "message": "必须是用户名数组"})
        return []
    users = []
    for index, username in enumerate(usernames):
        user = db.session.scalar(select(User).filter_by(username=username)) if isinstance(username, str) else None
        where = f"{field}[{index}]"
        if user is None:
            errors.append({"field": where, "message": f"用户 {username} 不存在"})
        elif user.role != "depot_manager":
            errors.append({"field": where, "message": f"用户 {username} 不是物资库管理员"})
        elif region is not None and not codes.is_within(region.code, user.region_code):
            errors.append({"field": where, "message": f"物资库所在区划不在用户 {username} 的管辖范围内"})
        else:
            users.append(user)
    return users


def assign_manager(user, depot_code: str, username: str, *, remove: bool = False) -> Depot:
    depot = get_depot(depot_code)
    _require(user, "depot.assign", depot.region_code)
    errors: list[dict] = []
    region = db.session.get(Region, depot.region_code)
    found = _managers([username], region, errors, field="username")
    if errors:
        if remove and any(m.username == username for m in depot.managers):
            found = [m for m in depot.managers if m.username == username]
        else:
            raise Invalid("无法指派该用户。", [dict(e, field="username") for e in errors])
    before = depot.to_dict()
    target = found[0]
    if remove:
        depot.managers = [m for m in depot.managers if m.id != target.id]
    elif target.id not in depot.manager_ids:
        depot.managers = [*depot.managers, target]
    db.session.flush()
    audit.record(user, "depot.unassign" if remove else "depot.assign", "depot", depot.code,
                 before={"managers": before["managers"]}, after={"managers": depot.to_dict()["managers"]},
                 region_code=depot.region_code)
    db.session.commit()
    return depot


def set_reserve(user, depot_code: str, item_code: str, floor, released: bool = False) -> dict:
    """Set a depot's reserve floor (保底储备) for one item; ``released`` lets it go anywhere."""
    depot = get_depot(depot_code)
    _require(user, "stock.configure", depot.region_code)
    errors: list[dict] = []
    item = _item(item_code, "item", errors)
    floor = _whole(floor, "floor", errors, minimum=0)
    if not isinstance(released, bool):
        errors.append({"field": "released", "message": "必须是 true 或 false"})
    _raise_if(errors)
    row = db.session.get(DepotReserve, (depot.code, item.code))
    before = {"floor": row.floor, "released": row.released} if row else None
    if row is None:
        row = DepotReserve(depot_code=depot.code, item_code=item.code)
        db.session.add(row)
    row.floor, row.released = floor, released
    db.session.flush()
    after = {"depot": depot.code, "item": item.code, "floor": floor, "released": released}
    audit.record(user, "depot.reserve", "depot", depot.code, before=before, after=after,
                 region_code=depot.region_code)
    db.session.commit()
    return after


# --- the book: locked stock of one depot ---------------------------------------------------

class _Book:
    """The stock of some items at one locked depot while one transaction posts to it.

    Lots, FEFO and the refusal to go below zero come from :mod:`stockpile`; each lot touched
    becomes one :class:`StockMovement` with the item's and the lot's balance after it.
    """

    def __init__(self, depot: Depot, user, document_type: str, document_id, items):
        self.depot, self.user = depot, user
        self.document_type, self.document_id = document_type, str(document_id)
        self.at = utcnow()
        items = sorted(set(items))
        rows = db.session.scalars(
            lock_for_update(select(StockBalance)
                            .where(StockBalance.depot_code == depot.code, StockBalance.item_code.in_(items))
                            .order_by(StockBalance.id))
            .execution_options(populate_existing=True)).all()
        self.rows: dict[str, dict[stockpile.Lot, StockBalance]] = {item: {} for item in items}
        for row in rows:
            self.rows[row.item_code][stockpile.Lot(row.lot, row.expiry)] = row
        self.made: list[StockMovement] = []

    def total(self, item: str) -> int:
        return sum(row.on_hand for row in self.rows[item].values())

    def usable(self, item: str, on: date) -> int:
        """Units not past their expiry date on ``on`` (an item may be used on its expiry day)."""
        return sum(row.on_hand for lot, row in self.rows[item].items()
                   if lot.expiry is None or lot.expiry >= on)

    def _state(self, item: str, usable_on: date | None) -> stockpile.StockState:
        held = [stockpile.Movement("receipt", item, row.on_hand, lot=lot.code, expiry=lot.expiry)
                for lot, row in self.rows[item].items()
                if row.on_hand > 0 and (usable_on is None or lot.expiry is None or lot.expiry >= usable_on)]
        return stockpile.replay(held)

    def post(self, movement: stockpile.Movement, *, usable_on: date | None = None) -> list[StockMovement]:
        """Post through :func:`stockpile.post` (FEFO for outgoing stock without a lot); raises
        ``stockpile.InsufficientStock`` or ``stockpile.LedgerError`` and then changes nothing."""
        state = self._state(movement.item, usable_on if movement.delta < 0 else None)
        _, entry = stockpile.post(state, movement)
        sign = 1 if movement.delta > 0 else -1
        return self.apply(movement.item, movement.kind, [(p.lot, sign * p.quantity) for p in entry.lots],
                          reason=movement.reason)

    def apply(self, item: str, kind: str, parts, *, reason: str | None = None,
              reverses: list[int | None] | None = None) -> list[StockMovement]:
        """Write ``parts`` (``[(Lot, signed quantity)]``) to the balances and the ledger."""
        total = self.total(item)
        made = []
        for index, (lot, quantity) in enumerate(parts):
            row = self.rows[item].get(lot)
            if row is None:
                row = StockBalance(depot_code=self.depot.code, item_code=item, lot_key=lot_key(lot.code, lot.expiry),
                                   lot=lot.code, expiry=lot.expiry, on_hand=0)
                db.session.add(row)
                self.rows[item][lot] = row
            if row.on_hand + quantity < 0:
                raise stockpile.InsufficientStock(item, -quantity, row.on_hand, lot)
            row.on_hand += quantity
            total += quantity
            movement = StockMovement(
                depot_code=self.depot.code, item_code=item, lot=lot.code, expiry=lot.expiry, kind=kind,
                quantity=quantity, balance_after=total, lot_balance_after=row.on_hand,
                document_type=self.document_type, document_id=self.document_id, reason=reason,
                reverses_id=reverses[index] if reverses else None,
                user_id=getattr(self.user, "id", None), username=_who(self.user), at=self.at)
            db.session.add(movement)
            made.append(movement)
        self.made.extend(made)
        return made


def _insufficient(exc: stockpile.InsufficientStock, field: str) -> Conflict:
    return Conflict(f"库存不足：{exc.item} 需要 {exc.requested}，可用 {exc.available}。",
                    [{"field": field, "message": f"需要 {exc.requested}，可用 {exc.available}"}])


def _stock_document_id(kind: str, depot_code: str) -> str:
    """The next number of a depot's receipts, adjustments or write-offs (入库单号 …): the date
    and a counter. Called with the depot locked, so two documents never share a number."""
    stamp = utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y%m%d")
    count = db.session.scalar(select(func.count(func.distinct(StockMovement.document_id)))
                              .where(StockMovement.depot_code == depot_code, StockMovement.document_type == kind,
                                     StockMovement.document_id.like(f"{stamp}-%")))
    return f"{stamp}-{count + 1:04d}"


def receive_stock(user, depot_code: str, item_code, quantity, note=None, lot=None, expiry=None) -> list[dict]:
    """Receipt (入库) of goods into a depot. Without ``expiry``, an item with a shelf life expires
    ``shelf_life_days`` after today."""
    depot = get_depot(depot_code)
    _require(user, "stock.receive", _depot_target(depot))
    errors: list[dict] = []
    item = _item(item_code, "item", errors)
    quantity = _whole(quantity, "quantity", errors)
    note = _text(note, "note", errors)
    lot = _text(lot, "lot", errors, max_length=60)
    expiry = _date(expiry, "expiry", errors)
    if not depot.active:
        errors.append({"field": "depot", "message": "物资库已停用"})
    _raise_if(errors)
    if expiry is None and item.shelf_life_days:
        expiry = today() + timedelta(days=item.shelf_life_days)
    depot = get_depot(depot.code, lock=True)
    book = _Book(depot, user, "receipt", _stock_document_id("receipt", depot.code), [item.code])
    try:
        made = book.post(stockpile.Movement("receipt", item.code, quantity, lot=lot, expiry=expiry, reason=note))
    except stockpile.LedgerError as exc:
        raise Invalid(f"批次 {lot} 已有不同的有效期。", [{"field": "expiry", "message": str(exc)}]) from exc
    db.session.flush()
    audit.record(user, "stock.receipt", "depot", depot.code, region_code=depot.region_code, note=note,
                 after={"item": item.code, "quantity": quantity, "lot": lot, "expiry": expiry,
                        "document_id": book.document_id})
    db.session.commit()
    return [m.to_dict() for m in made]


def adjust_stock(user, depot_code: str, item_code, quantity, reason, lot=None, expiry=None) -> list[dict]:
    """Stocktake adjustment (盘点调整): a signed, non-zero quantity with a reason. A decrease
    comes from the named lot, else first-expiry-first-out."""
    depot = get_depot(depot_code)
    _require(user, "stock.adjust", _depot_target(depot))
    errors: list[dict] = []
    item = _item(item_code, "item", errors)
    if isinstance(quantity, bool) or not isinstance(quantity, (int, float)) or int(quantity) != quantity:
        errors.append({"field": "quantity", "message": "必须是整数（正数为盘盈，负数为盘亏）"})
    elif quantity == 0:
        errors.append({"field": "quantity", "message": "不能为 0"})
    elif abs(quantity) > MAX_QUANTITY:
        errors.append({"field": "quantity", "message": f"绝对值不能大于 {MAX_QUANTITY}"})
    reason = _text(reason, "reason", errors, required=True)
    lot = _text(lot, "lot", errors, max_length=60)
    expiry = _date(expiry, "expiry", errors)
    if expiry is not None and isinstance(quantity, (int, float)) and quantity < 0:
        errors.append({"field": "expiry", "message": "盘亏请用批次号指定批次，不填有效期"})
    _raise_if(errors)
    quantity = int(quantity)
    depot = get_depot(depot.code, lock=True)
    book = _Book(depot, user, "adjustment", _stock_document_id("adjustment", depot.code), [item.code])
    try:
        made = book.post(stockpile.Movement("adjustment", item.code, quantity, lot=lot,
                                            expiry=expiry if quantity > 0 else None, reason=reason))
    except stockpile.InsufficientStock as exc:
        raise _insufficient(exc, "quantity") from exc
    except stockpile.LedgerError as exc:
        raise Invalid("调整有误。", [{"field": "lot", "message": str(exc)}]) from exc
    db.session.flush()
    audit.record(user, "stock.adjust", "depot", depot.code, region_code=depot.region_code, note=reason,
                 after={"item": item.code, "quantity": quantity, "lot": lot, "document_id": book.document_id})
    db.session.commit()
    return [m.to_dict() for m in made]


def write_off_expired(user, depot_code: str, on=None, reason=None) -> list[dict]:
    """Expiry write-off (过期核销): every lot whose expiry date is before ``on`` (default today)."""
    depot = get_depot(depot_code)
    _require(user, "stock.adjust", _depot_target(depot))
    errors: list[dict] = []
    on = _date(on, "on", errors) or today()
    reason = _text(reason, "reason", errors)
    _raise_if(errors)
    depot = get_depot(depot.code, lock=True)
    items = db.session.scalars(select(StockBalance.item_code).distinct()
                               .where(StockBalance.depot_code == depot.code)).all()
    book = _Book(depot, user, "writeoff", _stock_document_id("writeoff", depot.code), items)
    made = []
    for item in sorted(items):
        lots = {lot: row.on_hand for lot, row in book.rows[item].items()}
        due = stockpile.expiring(lots, on - timedelta(days=1))
        if due:
            movement = stockpile.Movement("expiry_writeoff", item, sum(p.quantity for p in due),
                                          lots=tuple(due), reason=reason or f"过期核销（{on.isoformat()} 前到期）")
            made.extend(book.post(movement))
    if not made:
        db.session.rollback()
        return []
    db.session.flush()
    audit.record(user, "stock.writeoff", "depot", depot.code, region_code=depot.region_code,
                 after={"document_id": book.document_id, "lines": [m.to_dict() for m in made]})
    db.session.commit()
    return [m.to_dict() for m in made]


# --- reading stock ---------------------------------------------------------------------------

def _reserves(depot_codes=None) -> dict[tuple[str, str], DepotReserve]:
    stmt = select(DepotReserve)
    if depot_codes is not None:
        stmt = stmt.where(DepotReserve.depot_code.in_(list(depot_codes)))
    return {(r.depot_code, r.item_code): r for r in db.session.scalars(stmt)}


def stock_levels(depot_code: str, on: date | None = None) -> list[dict]:
    """Stock of each item at a depot: ``on_hand`` (账面), ``expired``, ``reserved`` (the reserve
    floor unless released), ``available`` = on hand − expired − reserved (never below 0), the
    floor warning and the lots in FEFO order."""
    get_depot(depot_code)
    on = on or today()
    rows = db.session.scalars(select(StockBalance).where(StockBalance.depot_code == depot_code)).all()
    reserves = _reserves([depot_code])
    items = {i.code: i for i in list_items()}
    by_item: dict[str, list[StockBalance]] = defaultdict(list)
    for row in rows:
        by_item[row.item_code].append(row)
    for _, item_code in reserves:
        by_item.setdefault(item_code, [])
    out = []
    for code in sorted(by_item):
        lots = sorted((r for r in by_item[code] if r.on_hand > 0),
                      key=lambda r: stockpile.fefo_key(stockpile.Lot(r.lot, r.expiry)))
        on_hand = sum(r.on_hand for r in lots)
        expired = sum(r.on_hand for r in lots if r.expiry is not None and r.expiry < on)
        reserve = reserves.get((depot_code, code))
        floor = reserve.floor if reserve else 0
        reserved = 0 if reserve is None or reserve.released else reserve.floor
        item = items.get(code)
        out.append({
            "item": code, "name": item.name if item else code, "unit": item.unit if item else "",
            "on_hand": on_hand, "reserved": reserved,
            "available": stockpile.available(on_hand - expired, reserved),
            "expired": expired, "floor": floor, "released": bool(reserve and reserve.released),
            "below_floor": floor > 0 and on_hand - expired < floor,
            "lots": [{"lot": r.lot, "expiry": r.expiry.isoformat() if r.expiry else None,
                      "on_hand": r.on_hand, "expired": r.expiry is not None and r.expiry < on} for r in lots],
        })
    return out


def ledger_query(depot_code: str, item: str | None = None):
    get_depot(depot_code)
    stmt = select(StockMovement).where(StockMovement.depot_code == depot_code).order_by(StockMovement.id)
    if item:
        stmt = stmt.where(StockMovement.item_code == item)
    return stmt


@dataclass(frozen=True)
class LedgerMismatch:
    depot_code: str
    item_code: str
    lot: str | None
    expiry: date | None
    balance: int
    ledger_sum: int


def check_ledger(depot_code: str | None = None) -> list[LedgerMismatch]:
    """Every stock balance row against the sum of its ledger lines; an empty list means they
    agree (and that no balance is negative)."""
    sums = select(StockMovement.depot_code, StockMovement.item_code, StockMovement.lot, StockMovement.expiry,
                  func.sum(StockMovement.quantity)).group_by(
        StockMovement.depot_code, StockMovement.item_code, StockMovement.lot, StockMovement.expiry)
    balances = select(StockBalance)
    if depot_code:
        sums = sums.where(StockMovement.depot_code == depot_code)
        balances = balances.where(StockBalance.depot_code == depot_code)
    ledger = {(d, i, lot_key(lot, expiry)): (lot, expiry, int(total))
              for d, i, lot, expiry, total in db.session.execute(sums)}
    found = []
    for row in db.session.scalars(balances):
        key = (row.depot_code, row.item_code, row.lot_key)
        _, _, total = ledger.pop(key, (row.lot, row.expiry, 0))
        if total != row.on_hand or row.on_hand < 0:
            found.append(LedgerMismatch(row.depot_code, row.item_code, row.lot, row.expiry, row.on_hand, total))
    for (depot, item, _), (lot, expiry, total) in ledger.items():
        found.append(LedgerMismatch(depot, item, lot, expiry, 0, total))
    return found


def _usable_stock(depot_codes=None, on: date | None = None) -> dict[tuple[str, str], int]:
    """``{(depot, item): units on hand and not expired}``."""
    on = on or today()
    stmt = (select(StockBalance.depot_code, StockBalance.item_code, func.sum(StockBalance.on_hand))
            .where((StockBalance.expiry.is_(None)) | (StockBalance.expiry >= on), StockBalance.on_hand > 0)
            .group_by(StockBalance.depot_code, StockBalance.item_code))
    if depot_codes is not None:
        stmt = stmt.where(StockBalance.depot_code.in_(list(depot_codes)))
    return {(d, i): int(q) for d, i, q in db.session.execute(stmt)}


def depot_stock_table(item: str | None = None, region_code: str | None = None) -> list[dict]:
    """Plain data for the map: every active depot (inside ``region_code`` when given) with its
    location and ``stock: {item_code: available}`` (only ``item`` when given). No permission
    check: the caller checks ``depot.view``."""
    depots = db.session.scalars(depots_query(region_code, active_only=True)).all()
    by_depot: dict[str, dict[str, float]] = {}
    for (code, item_code), units in _usable_stock().items():
        if not item or item_code == item:
            by_depot.setdefault(code, {})[item_code] = units
    reserves = _reserves()
    out = []
    for depot in depots:
        stock = {}
        for item_code, units in by_depot.get(depot.code, {}).items():
            reserve = reserves.get((depot.code, item_code))
            held = 0 if reserve is None or reserve.released else reserve.floor
            stock[item_code] = stockpile.available(units, held)
        if item and item not in stock:
            stock[item] = 0
        out.append({"code": depot.code, "name": depot.name, "tier": depot.tier,
                    "region_code": depot.region_code, "lon": depot.lon, "lat": depot.lat,
                    "stock": dict(sorted(stock.items()))})
    return out


def dispatches_in_transit(event_id: int | None = None) -> list[dict]:
    """Plain data for the map: approved and shipped dispatches with both ends' locations."""
    stmt = select(Dispatch).where(Dispatch.status.in_(IN_TRANSIT_STATUSES)).order_by(Dispatch.id)
    if event_id is not None:
        stmt = stmt.where(Dispatch.event_id == event_id)
    out = []
    for d in db.session.scalars(stmt):
        region = db.session.get(Region, d.to_region_code)
        out.append({"id": d.id, "from_depot": d.from_depot_code, "from_lon": d.from_depot.lon,
                    "from_lat": d.from_depot.lat, "to_region_code": d.to_region_code,
                    "to_lon": region.lon if region else None, "to_lat": region.lat if region else None,
                    "status": d.status, "lines": [{"item": l.item_code, "quantity": l.quantity} for l in d.lines]})
    return out


# --- dispatch orders (调拨单) -----------------------------------------------------------------

def get_dispatch(dispatch_id: int, *, lock: bool = False) -> Dispatch:
    return _get(Dispatch, dispatch_id, lock=lock)


def dispatch_for(user, dispatch_id: int) -> Dispatch:
    """A dispatch the user may read (the same rule as :func:`dispatches_query`): 404 when there
    is none, 403 when it lies outside the user's jurisdiction and depots."""
    return _readable(Dispatch, dispatch_id, dispatches_query(user))


def dispatch_detail(dispatch: Dispatch) -> dict:
    """The dispatch with the lots its approval took (批次、有效期)."""
    body = dispatch.to_dict()
    taken = db.session.scalars(select(StockMovement).where(
        StockMovement.document_type == "dispatch", StockMovement.document_id == str(dispatch.id),
        StockMovement.depot_code == dispatch.from_depot_code).order_by(StockMovement.id)).all()
    body["movements"] = [m.to_dict() for m in taken]
    return body


def dispatches_query(user=None, *, status: str | None = None, depot: str | None = None,
                     event_id: int | None = None, region_code: str | None = None):
    """Dispatches a user may see: from depots they manage or inside their jurisdiction (either
    end), newest first."""
    stmt = select(Dispatch).order_by(Dispatch.id.desc())
    if status:
        stmt = stmt.where(Dispatch.status == status)
    if depot:
        stmt = stmt.where(Dispatch.from_depot_code == depot)
    if event_id is not None:
        stmt = stmt.where(Dispatch.event_id == event_id)
    if region_code:
        stmt = stmt.where(Dispatch.to_region_code.like(codes.prefix_of(region_code) + "%"))
    if user is not None and user.region_code != codes.NATIONAL:
        prefix = codes.prefix_of(user.region_code) + "%"
        depot_codes = select(Depot.code).where(Depot.region_code.like(prefix))
        if user.role == "depot_manager":
            from .models import depot_manager

            depot_codes = depot_codes.union(select(depot_manager.c.depot_code)
                                            .where(depot_manager.c.user_id == user.id))
        stmt = stmt.where(Dispatch.to_region_code.like(prefix) | Dispatch.from_depot_code.in_(depot_codes))
    return stmt


def create_dispatch(user, data: dict, *, supply_request: SupplyRequest | None = None, commit: bool = True) -> Dispatch:
    """A dispatch request (调拨申请): ``event_id`` (optional), ``from_depot``, ``to_region_code``,
    ``to_depot`` (optional: receive the goods into that depot, a transfer), ``lines``, ``note``."""
    _require(user, "dispatch.request")
    errors: list[dict] = []
    depot = None
    if data.get("from_depot") is None or data.get("from_depot") == "":
        errors.append({"field": "from_depot", "message": "必填"})
    else:
        depot = _depot_ref(data["from_depot"], "from_depot", errors)
        if depot is not None and not depot.active:
            errors.append({"field": "from_depot", "message": "物资库已停用"})
    region = _region(data.get("to_region_code"), "to_region_code", errors)
    if user is not None and depot is not None and region is not None and supply_request is None:
        if not (can(user, "dispatch.request", region.code) or can(user, "dispatch.request", depot.region_code)):
            raise Forbidden("只能为本辖区申请调拨，或从本辖区的物资库调出。")
    event_id = _event_id(data.get("event_id"), errors)
    to_depot = None
    if data.get("to_depot") not in (None, ""):
        to_depot = _depot_ref(data["to_depot"], "to_depot", errors)
        if to_depot is None:
            pass
        elif depot is not None and to_depot.code == depot.code:
            errors.append({"field": "to_depot", "message": "调入库不能与调出库相同"})
        elif region is not None and not codes.is_within(to_depot.region_code, region.code):
            errors.append({"field": "to_depot", "message": "调入库必须在接收区划内"})
    lines = _lines(data.get("lines"), errors)
    note = _text(data.get("note"), "note", errors) or ""
    _raise_if(errors)
    dispatch = Dispatch(event_id=event_id, from_depot_code=depot.code, to_region_code=region.code,
                        to_depot_code=to_depot.code if to_depot else None, status="requested", note=note,
                        requested_by=_who(user), requested_at=utcnow(),
                        supply_request_id=supply_request.id if supply_request else None)
    dispatch.lines = [DispatchLine(item_code=item.code, quantity=quantity) for item, quantity in lines]
    db.session.add(dispatch)
    db.session.flush()
    audit.record(user, "dispatch.request", "dispatch", dispatch.id, after=dispatch.to_dict(),
                 region_code=region.code)
    if depot.managers:
        notify(depot.managers, "dispatch.requested", f"调拨单 #{dispatch.id} 待审批",
               f"{depot.name} → {region.name}：" + "，".join(f"{i.name} {q}{i.unit}" for i, q in lines),
               link=f"/depots/dispatches/{dispatch.id}")
    if commit:
        db.session.commit()
    return dispatch


def _line_limit(depot: Depot, book: _Book, item: str, to_region: str, on: date,
                reserves: dict) -> int:
    usable = book.usable(item, on)
    reserve = reserves.get((depot.code, item))
    inside = depot.tier == "central" or codes.is_within(to_region, depot.region_code)
    if inside or reserve is None or reserve.released:
        return usable
    return max(usable - reserve.floor, 0)


def approve_dispatch(user, dispatch_id: int) -> Dispatch:
    """Approve (审批): take every line's stock from the source depot, first expiry first, in one
    transaction. Units past their expiry never go out; outside its own area a depot keeps its
    reserve floor. ``409`` names every short line, and then nothing is taken."""
    dispatch = get_dispatch(dispatch_id, lock=True)
    depot = dispatch.from_depot
    _require(user, "dispatch.approve", _depot_target(depot))
    DISPATCH_MACHINE.next_state(dispatch.status, "approve")
    depot = get_depot(depot.code, lock=True)
    book = _Book(depot, user, "dispatch", dispatch.id, [line.item_code for line in dispatch.lines])
    on = today()
    reserves = _reserves([depot.code])
    short = []
    for index, line in enumerate(dispatch.lines):
        limit = _line_limit(depot, book, line.item_code, dispatch.to_region_code, on, reserves)
        if line.quantity > limit:
            short.append({"field": f"lines[{index}].quantity",
                          "message": f"{line.item_code}：申请 {line.quantity}，可用 {limit}，缺 {line.quantity - limit}"})
    if short:
        raise Conflict(f"{depot.name}库存不足，调拨单 #{dispatch.id} 未审批，未扣减任何库存。", short,
                       title="库存不足")
    for index, line in enumerate(dispatch.lines):
        try:
            book.post(stockpile.Movement("dispatch", line.item_code, line.quantity,
                                         reason=f"调拨单 #{dispatch.id} → {dispatch.to_region_code}"),
                      usable_on=on)
        except stockpile.InsufficientStock as exc:  # the limit above makes this unreachable
            raise _insufficient(exc, f"lines[{index}].quantity") from exc
    before, after = DISPATCH_MACHINE.fire(dispatch, "approve")
    dispatch.approved_by, dispatch.approved_at = _who(user), utcnow()
    db.session.flush()
    audit.record(user, "dispatch.approve", "dispatch", dispatch.id, before={"status": before},
                 after={"status": after, "movements": [m.id for m in book.made]}, region_code=depot.region_code)
    db.session.commit()
    return dispatch


def ship_dispatch(user, dispatch_id: int, note: str | None = None) -> Dispatch:
    dispatch = get_dispatch(dispatch_id, lock=True)
    depot = dispatch.from_depot
    _require(user, "dispatch.ship", _depot_target(depot))
    errors: list[dict] = []
    note = _text(note, "note", errors)
    _raise_if(errors)
    before, after = DISPATCH_MACHINE.fire(dispatch, "ship")
    dispatch.shipped_by, dispatch.shipped_at = _who(user), utcnow()
    if note:
        dispatch.note = f"{dispatch.note}\n发运：{note}".strip()
    audit.record(user, "dispatch.ship", "dispatch", dispatch.id, before={"status": before},
                 after={"status": after}, region_code=depot.region_code, note=note)
    db.session.commit()
    return dispatch


def receive_dispatch(user, dispatch_id: int, lines=None, note: str | None = None) -> Dispatch:
    """Receipt at the destination (签收): ``lines`` gives the counted quantity of each item
    (``[{"item", "quantity", "note"}]``); items left out arrived in full. A difference is a
    discrepancy, kept with its note. With a destination depot the received units are posted
    there (调入), lot by lot as they were taken."""
    dispatch = get_dispatch(dispatch_id, lock=True)
    _require(user, "dispatch.receive", dispatch.to_region_code)
    DISPATCH_MACHINE.next_state(dispatch.status, "receive")
    errors: list[dict] = []
    note = _text(note, "note", errors)
    by_item = {line.item_code: line for line in dispatch.lines}
    counted: dict[str, tuple[int, str | None]] = {}
    if lines is not None:
        if not isinstance(lines, list):
            errors.append({"field": "lines", "message": "必须是数组"})
            lines = []
        for index, raw in enumerate(lines):
            where = f"lines[{index}]"
            if not isinstance(raw, dict):
                errors.append({"field": where, "message": "必须是对象 {item, quantity, note}"})
                continue
            code = _CODE.convert(f"{where}.item", raw.get("item"), errors)
            if code is None:
                pass
            elif code not in by_item:
                errors.append({"field": f"{where}.item", "message": f"调拨单中没有物资 {code}"})
            elif code in counted:
                errors.append({"field": f"{where}.item", "message": f"物资 {code} 重复"})
            quantity = _whole(raw.get("quantity"), f"{where}.quantity", errors, minimum=0)
            line_note = _text(raw.get("note"), f"{where}.note", errors)
            if code in by_item and quantity is not None:
                counted[code] = (quantity, line_note)
    _raise_if(errors)
    for code, line in by_item.items():
        quantity, line_note = counted.get(code, (line.quantity, None))
        line.received_quantity = quantity
        if quantity != line.quantity:
            line.discrepancy_note = line_note or note or "未说明原因"
        elif line_note:
            line.discrepancy_note = line_note
    made = []
    if dispatch.to_depot_code:
        made = _transfer_in(user, dispatch)
    before, after = DISPATCH_MACHINE.fire(dispatch, "receive")
    dispatch.received_by, dispatch.received_at = _who(user), utcnow()
    if dispatch.shipped_at is None:  # received without a recorded shipment
        dispatch.shipped_by, dispatch.shipped_at = dispatch.received_by, dispatch.received_at
    if note:
        dispatch.note = f"{dispatch.note}\n签收：{note}".strip()
    db.session.flush()
    audit.record(user, "dispatch.receive", "dispatch", dispatch.id, before={"status": before},
                 after={"status": after, "lines": [l.to_dict() for l in dispatch.lines],
                        "transfer_in": [m.id for m in made]},
                 region_code=dispatch.to_region_code, note=note)
    db.session.commit()
    return dispatch


def _transfer_in(user, dispatch: Dispatch) -> list[StockMovement]:
    taken = db.session.scalars(select(StockMovement).where(
        StockMovement.document_type == "dispatch", StockMovement.document_id == str(dispatch.id),
        StockMovement.depot_code == dispatch.from_depot_code, StockMovement.kind == "dispatch")
        .order_by(StockMovement.id)).all()
    depot = get_depot(dispatch.to_depot_code, lock=True)
    book = _Book(depot, user, "dispatch", dispatch.id, [line.item_code for line in dispatch.lines])
    made = []
    for line in dispatch.lines:
        lots = [(stockpile.Lot(m.lot, m.expiry), -m.quantity) for m in taken if m.item_code == line.item_code]
        left = line.received_quantity or 0
        parts = []
        for index, (lot, quantity) in enumerate(lots):
            share = left if index == len(lots) - 1 else min(quantity, left)
            if share > 0:
                parts.append((lot, share))
            left -= share
        if not lots and left > 0:
            parts.append((stockpile.Lot(), left))
        made.extend(book.apply(line.item_code, "transfer_in", parts,
                               reason=f"调拨单 #{dispatch.id} 自 {dispatch.from_depot_code} 调入"))
    return made


def cancel_dispatch(user, dispatch_id: int, reason: str | None = None) -> Dispatch:
    """Cancel (撤销) before receipt. Stock already taken returns to the very lots it came from,
    by reversing entries (冲销) that point to the lines they undo."""
    dispatch = get_dispatch(dispatch_id, lock=True)
    depot = dispatch.from_depot
    _require(user, "dispatch.cancel", _depot_target(depot))
    errors: list[dict] = []
    reason = _text(reason, "reason", errors)
    _raise_if(errors)
    DISPATCH_MACHINE.next_state(dispatch.status, "cancel")
    made = []
    if dispatch.status in ("approved", "shipped"):
        depot = get_depot(depot.code, lock=True)
        taken = db.session.scalars(select(StockMovement).where(
            StockMovement.document_type == "dispatch", StockMovement.document_id == str(dispatch.id),
            StockMovement.depot_code == depot.code, StockMovement.kind == "dispatch")
            .order_by(StockMovement.id)).all()
        undone = set(db.session.scalars(select(StockMovement.reverses_id).where(
            StockMovement.reverses_id.in_([m.id for m in taken]))).all())
        taken = [m for m in taken if m.id not in undone]
        book = _Book(depot, user, "dispatch", dispatch.id, {m.item_code for m in taken})
        for item in sorted({m.item_code for m in taken}):
            rows = [m for m in taken if m.item_code == item]
            made.extend(book.apply(item, "cancel", [(stockpile.Lot(m.lot, m.expiry), -m.quantity) for m in rows],
                                   reason=reason or f"撤销调拨单 #{dispatch.id}", reverses=[m.id for m in rows]))
    before, after = DISPATCH_MACHINE.fire(dispatch, "cancel")
    dispatch.cancelled_by, dispatch.cancelled_at, dispatch.cancel_reason = _who(user), utcnow(), reason
    if dispatch.supply_request_id:
        request = get_supply_request(dispatch.supply_request_id, lock=True)
        if request.status == "filled":
            SUPPLY_REQUEST_MACHINE.fire(request, "reopen")
    db.session.flush()
    audit.record(user, "dispatch.cancel", "dispatch", dispatch.id, before={"status": before},
                 after={"status": after, "reversals": [m.id for m in made]},
                 region_code=depot.region_code, note=reason)
    db.session.commit()
    return dispatch


# --- demand and allocation ------------------------------------------------------------------

def _event(user, event_id: int):
    from ..reports import Event

    event = db.session.get(Event, event_id)
    if event is None:
        raise NotFound(f"灾害过程 {event_id} 不存在。")
    if user is not None:
        regions = event.region_codes or [codes.NATIONAL]
        if not any(can(user, "event.view", code) for code in regions):
            require(user, "event.view", regions[0])
    return event


def _demand_units(totals) -> dict[str, dict]:
    """The regions demand is computed for: every county-level region with figures; a region
    above the county that reported directly counts when no unit lies inside it."""
    units = {code for code in totals if codes.level_of(code) == "county"}
    above = sorted((code for code, total in totals.items()
                    if total.direct and codes.level_of(code) in ("prefecture", "province")),
                   key=lambda code: codes.LEVELS.index(codes.level_of(code)), reverse=True)
    for code in above:
        if not any(codes.is_within(unit, code) for unit in units):
            units.add(code)
    return {code: totals[code].figures for code in sorted(units)}


def _dispatched(event_id: int, units) -> dict[tuple[str, str], int]:
    """Units already sent (approved, shipped; received counts what arrived) to each unit."""
    sent: dict[tuple[str, str], int] = defaultdict(int)
    rows = db.session.scalars(select(Dispatch).where(Dispatch.event_id == event_id,
                                                     Dispatch.status.in_(SENT_STATUSES))).all()
    for dispatch in rows:
        unit = next((u for u in units if codes.is_within(dispatch.to_region_code, u)), None)
        if unit is None:
            continue
        for line in dispatch.lines:
            quantity = line.received_quantity if dispatch.status == "received" else line.quantity
            sent[(unit, line.item_code)] += quantity or 0
    return sent


def event_demand(user, event_id: int, items=None) -> list[dict]:
    """Outstanding needs of an event (需求): the latest rolled-up figures of each affected
    county-level region × that region's norms, less what was already dispatched there."""
    from ..reports import event_totals

    _event(user, event_id)
    units = _demand_units(event_totals(event_id))
    sent = _dispatched(event_id, units)
    grouped = _all_norms()
    names = dict(db.session.execute(select(Region.code, Region.name).where(Region.code.in_(list(units)))).all())
    out = []
    for code, figures in units.items():
        _, norms = norms_for(code, grouped)
        gross = {line.item: line.quantity for line in stockpile.compute_demand({code: figures}, norms)}
        for line in stockpile.compute_demand({code: figures}, norms, dispatched=sent):
            if items and line.item not in items:
                continue
            out.append({"region_code": line.region_code, "region_name": names.get(code, code),
                        "item": line.item, "quantity": line.quantity,
                        "needed": gross.get(line.item, line.quantity),
                        "dispatched": sent.get((code, line.item), 0)})
    return out


def allocation_plan(user, event_id: int, items=None, max_distance_km=None, released=()) -> dict:
    """A proposed allocation (调拨方案) of the event's outstanding demand from the depots' usable
    stock: ``stockpile.allocate`` with great-circle distances. It moves no stock."""
    event = _event(user, event_id)
    errors: list[dict] = []
    if items is not None:
        if not isinstance(items, list):
            errors.append({"field": "items", "message": "必须是物资代码数组"})
            items = None
        else:
            for index, code in enumerate(items):
                _item(code, f"items[{index}]", errors)
    if max_distance_km is not None and (isinstance(max_distance_km, bool)
                                        or not isinstance(max_distance_km, (int, float)) or max_distance_km < 0):
        errors.append({"field": "max_distance_km", "message": "必须是不小于 0 的数字"})
    if not isinstance(released, (list, tuple)):
        errors.append({"field": "released", "message": "必须是物资库代码数组"})
        released = ()
    for index, code in enumerate(released):
        if not isinstance(code, str) or db.session.get(Depot, code) is None:
            errors.append({"field": f"released[{index}]", "message": f"物资库 {code} 不存在"})
    _raise_if(errors)
    lines = event_demand(None, event.id, items)
    demand = [stockpile.DemandLine(l["region_code"], l["item"], l["quantity"]) for l in lines]
    wanted = {l.item for l in demand}
    depots = {d.code: d for d in db.session.scalars(select(Depot).where(Depot.active.is_(True)))}
    usable = _usable_stock(list(depots))
    reserves = _reserves(list(depots))
    supply = []
    for (code, item), units in sorted(usable.items()):
        if item not in wanted or units <= 0:
            continue
        depot = depots[code]
        reserve = reserves.get((code, item))
        floor = 0 if reserve is None or reserve.released else min(reserve.floor, units)
        supply.append(stockpile.Supply(code, item, units, depot.tier, depot.region_code, floor))
    regions = sorted({l.region_code for l in demand})
    depot_codes = sorted({s.depot_code for s in supply})
    points = {r.code: r for r in db.session.scalars(select(Region).where(Region.code.in_(regions)))}
    dlon = np.array([depots[c].lon for c in depot_codes], dtype=float)
    dlat = np.array([depots[c].lat for c in depot_codes], dtype=float)
    rlon = np.array([points[c].lon if points[c].lon is not None else np.nan for c in regions], dtype=float)
    rlat = np.array([points[c].lat if points[c].lat is not None else np.nan for c in regions], dtype=float)
    km = np.round(great_circle_km(dlon[:, None], dlat[:, None], rlon[None, :], rlat[None, :]), 3) \
        if depot_codes and regions else np.zeros((len(depot_codes), len(regions)))
    matrix = stockpile.DistanceMatrix(depot_codes, regions, np.nan_to_num(km, nan=np.inf))
    rules = stockpile.AllocationRules(max_distance_km=max_distance_km, released=frozenset(released))
    plan = stockpile.allocate(demand, supply, matrix, rules)
    body = plan.to_dict()
    body["event_id"] = event.id
    body["demand"] = lines
    return body


# --- supply requests (申请) -------------------------------------------------------------------

def get_supply_request(request_id: int, *, lock: bool = False) -> SupplyRequest:
    return _get(SupplyRequest, request_id, lock=lock)


def supply_request_for(user, request_id: int) -> SupplyRequest:
    """A supply request the user may read (the rule of :func:`supply_requests_query`)."""
    return _readable(SupplyRequest, request_id, supply_requests_query(user))


def supply_requests_query(user=None, *, status: str | None = None, region_code: str | None = None):
    """Requests raised inside, or addressed to a level inside, the user's jurisdiction."""
    stmt = select(SupplyRequest).order_by(SupplyRequest.id.desc())
    if status:
        stmt = stmt.where(SupplyRequest.status == status)
    if region_code:
        prefix = codes.prefix_of(region_code) + "%"
        stmt = stmt.where(SupplyRequest.from_region_code.like(prefix) | SupplyRequest.to_region_code.like(prefix))
    if user is not None and user.region_code != codes.NATIONAL:
        prefix = codes.prefix_of(user.region_code) + "%"
        stmt = stmt.where(SupplyRequest.from_region_code.like(prefix) | SupplyRequest.to_region_code.like(prefix))
    return stmt


def _region_managers(region_code: str) -> frozenset[int]:
    depots = db.session.scalars(depots_query(region_code)).all()
    return frozenset(uid for depot in depots for uid in depot.manager_ids)


def raise_supply_request(user, data: dict) -> SupplyRequest:
    """A written request (申请) to the level above when local stock is short: ``from_region_code``,
    ``lines``, ``reason``; optional ``to_region_code`` (default: the parent region), ``event_id``,
    ``to_depot`` (the depot that will receive the goods)."""
    _require(user, "supply_request.raise")
    errors: list[dict] = []
    source = _region(data.get("from_region_code"), "from_region_code", errors)
    if source is not None:
        _require(user, "supply_request.raise", Target(source.code, _region_managers(source.code)))
    target = None
    if data.get("to_region_code") is not None:
        target = _region(data.get("to_region_code"), "to_region_code", errors)
        if target is not None and source is not None and (
                target.code == source.code or not codes.is_within(source.code, target.code)):
            errors.append({"field": "to_region_code", "message": "只能向上级区划申请"})
            target = None
    elif source is not None:
        target = db.session.get(Region, source.parent_code) if source.parent_code else None
        if target is None:
            errors.append({"field": "to_region_code", "message": "该区划没有上级区划，请指定"})
    event_id = _event_id(data.get("event_id"), errors)
    to_depot = None
    if data.get("to_depot") not in (None, ""):
        to_depot = _depot_ref(data["to_depot"], "to_depot", errors)
        if to_depot is None:
            pass
        elif source is not None and not codes.is_within(to_depot.region_code, source.code):
            errors.append({"field": "to_depot", "message": "接收物资库必须在申请区划内"})
    lines = _lines(data.get("lines"), errors)
    reason = _text(data.get("reason"), "reason", errors, required=True, max_length=4000)
    _raise_if(errors)
    request = SupplyRequest(event_id=event_id, from_region_code=source.code, to_region_code=target.code,
                            to_depot_code=to_depot.code if to_depot else None, status="open", reason=reason,
                            raised_by=_who(user), raised_at=utcnow())
    request.lines = [SupplyRequestLine(item_code=item.code, quantity=q) for item, q in lines]
    db.session.add(request)
    db.session.flush()
    audit.record(user, "supply_request.raise", "supply_request", request.id, after=request.to_dict(),
                 region_code=source.code)
    coordinators = coordinators_covering(target.code, levels=[codes.level_of(target.code)])
    notify(coordinators, "supply_request.raised", f"{source.name}申请调拨物资（#{request.id}）",
           "，".join(f"{i.name} {q}{i.unit}" for i, q in lines) + f"。理由：{reason}",
           link=f"/depots/supply-requests/{request.id}")
    db.session.commit()
    return request


def fill_supply_request(user, request_id: int, lines, note: str | None = None) -> SupplyRequest:
    """The level above fills a request from its own depots: ``lines`` ``[{"from_depot", "item",
    "quantity"}]`` become one dispatch per depot (status requested) to the requesting region."""
    request = get_supply_request(request_id, lock=True)
    _require(user, "supply_request.fill", request.to_region_code)
    SUPPLY_REQUEST_MACHINE.next_state(request.status, "fill")
    errors: list[dict] = []
    outstanding = {l["item"]: l["outstanding"] for l in request.to_dict()["lines"]}
    per_depot: dict[str, list[dict]] = defaultdict(list)
    totals: dict[str, int] = defaultdict(int)
    if not isinstance(lines, list) or not lines:
        errors.append({"field": "lines", "message": "至少需要一行（物资库、物资、数量）"})
        lines = []
    for index, raw in enumerate(lines):
        where = f"lines[{index}]"
        if not isinstance(raw, dict):
            errors.append({"field": where, "message": "必须是对象 {from_depot, item, quantity}"})
            continue
        depot = _depot_ref(raw.get("from_depot"), f"{where}.from_depot", errors)
        if depot is None:
            pass
        elif not codes.is_within(depot.region_code, request.to_region_code):
            errors.append({"field": f"{where}.from_depot", "message": "只能从受理级别辖区内的物资库调拨"})
        elif not depot.active:
            errors.append({"field": f"{where}.from_depot", "message": "物资库已停用"})
        item = _CODE.convert(f"{where}.item", raw.get("item"), errors)
        if item is None:
            pass
        elif item not in outstanding:
            errors.append({"field": f"{where}.item", "message": f"申请中没有物资 {item}"})
        quantity = _whole(raw.get("quantity"), f"{where}.quantity", errors)
        if depot is not None and item in outstanding and quantity is not None:
            if any(line["item"] == item for line in per_depot[depot.code]):
                errors.append({"field": f"{where}.item", "message": f"同一物资库的物资 {item} 重复"})
                continue
            totals[item] += quantity
            if totals[item] > outstanding[item]:
                errors.append({"field": f"{where}.quantity",
                               "message": f"超过申请未满足数量 {outstanding[item]}"})
            per_depot[depot.code].append({"item": item, "quantity": quantity})
    note = _text(note, "note", errors)
    _raise_if(errors)
    made = []
    for depot_code, depot_lines in sorted(per_depot.items()):
        made.append(create_dispatch(user, {"event_id": request.event_id, "from_depot": depot_code,
                                           "to_region_code": request.from_region_code,
                                           "to_depot": request.to_depot_code, "lines": depot_lines,
                                           "note": note or f"物资申请 #{request.id}"},
                                    supply_request=request, commit=False))
    before, _ = SUPPLY_REQUEST_MACHINE.fire(request, "fill")
    db.session.flush()
    db.session.expire(request, ["dispatches"])
    if all(line["outstanding"] == 0 for line in request.to_dict()["lines"]):
        SUPPLY_REQUEST_MACHINE.fire(request, "complete")
    audit.record(user, "supply_request.fill", "supply_request", request.id, before={"status": before},
                 after={"status": request.status, "dispatches": [d.id for d in made]},
                 region_code=request.from_region_code, note=note)
    db.session.commit()
    return request


def reject_supply_request(user, request_id: int, reason) -> SupplyRequest:
    request = get_supply_request(request_id, lock=True)
    _require(user, "supply_request.fill", request.to_region_code)
    errors: list[dict] = []
    reason = _text(reason, "reason", errors, required=True, max_length=4000)
    _raise_if(errors)
    before, after = SUPPLY_REQUEST_MACHINE.fire(request, "reject")
    request.closed_by, request.closed_at, request.close_reason = _who(user), utcnow(), reason
    audit.record(user, "supply_request.reject", "supply_request", request.id, before={"status": before},
                 after={"status": after}, region_code=request.from_region_code, note=reason)
    from ..auth import User

    raiser = db.session.scalar(select(User).filter_by(username=request.raised_by))
    if raiser is not None:
        notify([raiser], "supply_request.rejected", f"物资申请 #{request.id} 不予调拨", reason,
               link=f"/depots/supply-requests/{request.id}")
    db.session.commit()
    return request


def stock_warnings(depot_codes, on: date | None = None) -> dict[str, dict]:
    """Per depot: ``below_floor`` (names of the items whose usable stock is under the reserve
    floor, 低于保底储备) and ``expired`` (units past their expiry date, 待核销)."""
    on = on or today()
    depot_codes = list(depot_codes)
    out = {code: {"below_floor": [], "expired": 0} for code in depot_codes}
    if not depot_codes:
        return out
    usable: dict[tuple[str, str], int] = defaultdict(int)
    for row in db.session.scalars(select(StockBalance).where(StockBalance.depot_code.in_(depot_codes),
                                                             StockBalance.on_hand > 0)):
        if row.expiry is not None and row.expiry < on:
            out[row.depot_code]["expired"] += row.on_hand
        else:
            usable[(row.depot_code, row.item_code)] += row.on_hand
    names = dict(db.session.execute(select(Item.code, Item.name)).all())
    for (depot, item), reserve in sorted(_reserves(depot_codes).items()):
        if reserve.floor > 0 and usable[(depot, item)] < reserve.floor:
            out[depot]["below_floor"].append(names.get(item, item))
    return out
