"""Depots (储备库): creating and changing them, assigning their managers, their reserve floors
(保底储备), and which depots a user sees.
"""
from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from gis import codes

from ... import audit
from ...auth import User
from ...errors import Conflict, Invalid
from ...extensions import db
from ...regions import Region
from ...validation import Field, check, validate
from ..models import TIERS, Depot, DepotReserve, depot_manager
from .common import allow, get_depot, raise_if
from .inputs import ITEM, MAX_QUANTITY, known_item, known_region

DEPOT_CODE = Field("str", max_length=40, pattern=r"[A-Za-z0-9._-]+", description="物资库代码（字母、数字、- _ .）",
                   extra={"pattern_message": "只能包含字母、数字和 - _ ."})
DEPOT_LON = Field("number", min=-180, max=180, description="经度（WGS-84）")
DEPOT_LAT = Field("number", min=-90, max=90, description="纬度（WGS-84）")
DEPOT_CAPACITY = Field("number", required=False, min=0, max=1e9, description="库容（平方米）")
USERNAME = Field("str", max_length=80)

DEPOT_FIELDS = {
    "code": DEPOT_CODE, "name": Field("str", max_length=100),
    "tier": Field("str", choices=tuple(TIERS)),
    "region_code": Field("code", description="所在（服务）区划"), "lon": DEPOT_LON,
    "lat": DEPOT_LAT, "capacity_m2": DEPOT_CAPACITY,
    "managers": Field("list", required=False, items=USERNAME, description="物资库管理员用户名"),
}
DEPOT_UPDATE_FIELDS = {
    "name": Field("str", required=False, max_length=100), "lon": replace(DEPOT_LON, required=False),
    "lat": replace(DEPOT_LAT, required=False), "capacity_m2": DEPOT_CAPACITY, "active": Field("bool", required=False),
}
#: What a PATCH may not set to null (``capacity_m2`` may: the capacity is then unknown).
_NOT_NULL = ("name", "lon", "lat", "active")
MANAGER_FIELDS = {"username": USERNAME}
RESERVE_FIELDS = {"floor": Field("int", min=0, max=MAX_QUANTITY, description="保底储备数量"),
                  "released": Field("bool", required=False, default=False, description="允许调往辖区外")}


# --- reading ---------------------------------------------------------------------------------

def depots_query(region_code: str | None = None, *, managed_by=None, active_only: bool = False,
                 tier: str | None = None):
    """A ``select`` of depots (inside ``region_code``, managed by a user, active, of a tier)."""
    stmt = select(Depot).order_by(Depot.code)
    if region_code:
        try:
            code = codes.normalise(region_code)
        except codes.CodeError as exc:
            raise Invalid(str(exc), [{"field": "region_code", "message": str(exc)}]) from exc
        if code != codes.NATIONAL:
            stmt = stmt.where(Depot.region_code.like(codes.prefix_of(code) + "%"))
    if managed_by is not None:
        stmt = stmt.where(Depot.code.in_(select(depot_manager.c.depot_code)
                                         .where(depot_manager.c.user_id == managed_by.id)))
    if active_only:
        stmt = stmt.where(Depot.active.is_(True))
    if tier:
        stmt = stmt.where(Depot.tier == tier)
    return stmt


def depots_for(user, region_code: str | None = None, tier: str | None = None):
    """The depots a user lists (every depot: reference data), as a ``select`` to page."""
    allow(user, "depot.view")
    return depots_query(region_code, tier=tier)


def depot_for(user, code: str) -> Depot:
    allow(user, "depot.view")
    return get_depot(code)


def managed_depots(user) -> list[Depot]:
    """The depots a depot manager is assigned to (none for other roles)."""
    if user is None or user.role != "depot_manager":
        return []
    return db.session.scalars(depots_query(managed_by=user)).all()


# --- creating and changing -------------------------------------------------------------------

def create_depot(user, data) -> Depot:
    """``data``: code, name, tier, region_code, lon, lat, optional capacity_m2, managers (usernames)."""
    allow(user, "depot.create")
    values, errors = validate(DEPOT_FIELDS, data)
    region = known_region(values["region_code"], "region_code", errors)
    if region is not None:
        allow(user, "depot.create", region.code)
    managers = _managers(values["managers"] or [], region, errors)
    raise_if(errors)
    if db.session.get(Depot, values["code"]) is not None:
        raise Conflict(f"物资库代码 {values['code']} 已存在。", [{"field": "code", "message": "已存在"}])
    capacity = values["capacity_m2"]
    depot = Depot(code=values["code"], name=values["name"], tier=values["tier"], region_code=region.code,
                  lon=float(values["lon"]), lat=float(values["lat"]),
                  capacity_m2=float(capacity) if capacity is not None else None, active=True)
    depot.managers = managers
    db.session.add(depot)
    db.session.flush()
    audit.record(user, "depot.create", "depot", depot.code, after=depot.to_dict(), region_code=region.code)
    db.session.commit()
    return depot


def update_depot(user, depot_code: str, data) -> Depot:
    """Change a depot's name, location, capacity or ``active`` (a stopped depot sends nothing
    new); its code, tier and region stay."""
    depot = get_depot(depot_code)
    allow(user, "depot.create", depot.region_code)
    values, errors = validate(DEPOT_UPDATE_FIELDS, data)
    for field in sorted(set(data) - set(DEPOT_UPDATE_FIELDS)):
        errors.append({"field": field, "message": "不能修改（只能修改 name、lon、lat、capacity_m2、active）"})
    refused = {error["field"] for error in errors}
    for field in _NOT_NULL:
        if field in data and values[field] in (None, "") and field not in refused:
            errors.append({"field": field, "message": "必填"})
    raise_if(errors)
    changes = {field: values[field] for field in DEPOT_UPDATE_FIELDS if field in data}
    for field in ("lon", "lat", "capacity_m2"):
        if changes.get(field) is not None:
            changes[field] = float(changes[field])
    before = depot.to_dict()
    for field, value in changes.items():
        setattr(depot, field, value)
    db.session.flush()
    audit.record(user, "depot.update", "depot", depot.code, before=before, after=depot.to_dict(),
                 region_code=depot.region_code)
    db.session.commit()
    return depot


def _managers(usernames: list[str], region: Region | None, errors: list[dict], field: str = "managers") -> list:
    """The users named to manage a depot: depot managers whose jurisdiction holds its region."""
    users = []
    for index, username in enumerate(usernames):
        user = db.session.scalar(select(User).filter_by(username=username)) if username is not None else None
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


def assign_manager(user, depot_code: str, data) -> Depot:
    """Assign ``data["username"]`` (a depot manager of the depot's region) to the depot."""
    depot = get_depot(depot_code)
    allow(user, "depot.assign", depot.region_code)
    values, errors = validate(MANAGER_FIELDS, data)
    raise_if(errors)
    found = _managers([values["username"]], db.session.get(Region, depot.region_code), errors)
    if errors:
        raise Invalid("无法指派该用户。", [dict(e, field="username") for e in errors])
    if found[0].id not in depot.manager_ids:
        return _set_managers(user, depot, [*depot.managers, found[0]], "depot.assign")
    return _set_managers(user, depot, depot.managers, "depot.assign")


def remove_manager(user, depot_code: str, username: str) -> Depot:
    """Take a manager off a depot (also one who no longer qualifies to be assigned)."""
    depot = get_depot(depot_code)
    allow(user, "depot.assign", depot.region_code)
    errors: list[dict] = []
    username = check("username", username, USERNAME, errors)
    raise_if(errors)
    found = [m for m in depot.managers if m.username == username]
    if not found:
        found = _managers([username], db.session.get(Region, depot.region_code), errors)
        if errors:
            raise Invalid("无法指派该用户。", [dict(e, field="username") for e in errors])
    return _set_managers(user, depot, [m for m in depot.managers if m.id != found[0].id], "depot.unassign")


def _set_managers(user, depot: Depot, managers: list, action: str) -> Depot:
    before = depot.to_dict()["managers"]
    depot.managers = managers
    db.session.flush()
    audit.record(user, action, "depot", depot.code, before={"managers": before},
                 after={"managers": depot.to_dict()["managers"]}, region_code=depot.region_code)
    db.session.commit()
    return depot


def set_reserve(user, depot_code: str, item_code, data) -> dict:
    """Set a depot's reserve floor (保底储备) for one item: ``data`` ``{floor, released}``;
    ``released`` lets it go anywhere."""
    depot = get_depot(depot_code)
    allow(user, "stock.configure", depot.region_code)
    values, errors = validate(RESERVE_FIELDS, data)
    item = known_item(check("item", item_code, ITEM, errors), "item", errors)
    raise_if(errors)
    floor, released = values["floor"], values["released"]
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
