"""Tables of the depots area (救灾物资): catalogue, norms, depots, the stock ledger, dispatch
orders (调拨单) and supply requests (申请).

Stock has two records that must always agree:

- :class:`StockMovement`, the append-only ledger (库存台账, as Sahana's ``inv_stock_log``): one
  row per lot touched, with the document that caused it and the balances after it;
- :class:`StockBalance`, one row per (depot, item, lot) holding the current on-hand quantity:
  the sum of that lot's movements. It is the row a dispatch approval locks.

``service.check_ledger`` proves the second is the sum of the first.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (Boolean, CheckConstraint, Column, Date, Float, ForeignKey, Index, Integer,
                        String, Table, Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth import User
from ..extensions import db
from ..models_common import make_append_only, utcnow
from ..statemachine import StateMachine
from ..types import JSONType, UTCDateTime

TIERS = {"central": "中央", "provincial": "省级", "prefecture": "市级", "county": "县级",
         "township": "乡镇级"}

MOVEMENT_KINDS = {
    "receipt": "入库", "dispatch": "调拨出库", "return": "退回", "cancel": "撤销调拨（冲销）",
    "transfer_in": "调入", "transfer_out": "调出", "adjustment": "盘点调整",
    "expiry_writeoff": "过期核销",
}
DOCUMENT_TYPES = {"receipt": "入库单", "dispatch": "调拨单", "adjustment": "盘点调整单",
                  "writeoff": "核销单", "supply_request": "申请",
                  "distribution_return": "发放点退回单"}

#: 调拨单 status: requested (已申请) → approved (已审批，库存已扣减) → shipped (已发运) →
#: received (已签收); cancelled (已撤销) from any state before receipt. Recording the shipment is
#: optional: API.md's approve → receive is allowed, and the receipt then also marks it shipped.
DISPATCH_MACHINE = StateMachine(
    "调拨单",
    {("requested", "approve"): "approved", ("approved", "ship"): "shipped",
     ("shipped", "receive"): "received", ("approved", "receive"): "received", ("requested", "cancel"): "cancelled",
     ("approved", "cancel"): "cancelled", ("shipped", "cancel"): "cancelled"},
    labels={"requested": "待审批", "approved": "已审批", "shipped": "已发运", "received": "已签收",
            "cancelled": "已撤销"},
)

#: 申请 status: open (待处理) → in_progress (调拨中) → filled (已满足); open or in_progress →
#: rejected (不予调拨, with a reason); a filled request reopens when one of its dispatches is
#: cancelled. ``forward`` (转报上级) sends what is still short to the next level up (prefecture →
#: province → central) and keeps the state: the addressed level changes, each step is kept in
#: :class:`SupplyRequestStep`.
SUPPLY_REQUEST_MACHINE = StateMachine(
    "物资申请",
    {("open", "fill"): "in_progress", ("in_progress", "fill"): "in_progress",
     ("open", "forward"): "open", ("in_progress", "forward"): "in_progress",
     ("in_progress", "complete"): "filled", ("filled", "reopen"): "in_progress",
     ("open", "reject"): "rejected", ("in_progress", "reject"): "rejected"},
    labels={"open": "待处理", "in_progress": "调拨中", "filled": "已满足", "rejected": "不予调拨"},
)


class Item(db.Model):
    """A catalogue item (救灾物资品种)."""

    __tablename__ = "item"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(20))
    shelf_life_days: Mapped[int | None] = mapped_column(Integer)

    def to_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "unit": self.unit, "category": self.category,
                "shelf_life_days": self.shelf_life_days}


class DemandNorm(db.Model):
    """A demand norm (需求定额) of one jurisdiction: ``figure[indicator] × per_person × days``
    units of ``item``. A region uses the norms of the nearest jurisdiction above it that has
    any (``000000`` is the national set); with none in the database, ``stockpile.DEFAULT_NORMS``.
    """

    __tablename__ = "demand_norm"
    __table_args__ = (UniqueConstraint("region_code", "item_code", "indicator"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    item_code: Mapped[str] = mapped_column(ForeignKey("item.code"))
    indicator: Mapped[str] = mapped_column(String(40))
    per_person: Mapped[float] = mapped_column(Float)
    days: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str] = mapped_column(String(200), default="")

    def to_dict(self) -> dict:
        return {"region_code": self.region_code, "item": self.item_code, "indicator": self.indicator,
                "per_person": self.per_person, "days": self.days, "note": self.note}


depot_manager = Table(
    "depot_manager", db.metadata,
    Column("depot_code", ForeignKey("depot.code", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)


class Depot(db.Model):
    """A relief-materials depot (救灾物资储备库) of one tier, serving ``region_code``."""

    __tablename__ = "depot"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    tier: Mapped[str] = mapped_column(String(12), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    capacity_m2: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    managers = relationship(User, secondary=depot_manager, order_by=User.username, lazy="selectin")

    @property
    def manager_ids(self) -> frozenset[int]:
        return frozenset(user.id for user in self.managers)

    def to_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "tier": self.tier,
                "tier_label": TIERS.get(self.tier, self.tier), "region_code": self.region_code,
                "lon": self.lon, "lat": self.lat, "capacity_m2": self.capacity_m2,
                "active": self.active, "managers": [user.username for user in self.managers]}


class DepotReserve(db.Model):
    """A depot's reserve floor (保底储备) of one item: units it keeps for its own area. A dispatch
    outside the area cannot take them unless the floor is released (``released``)."""

    __tablename__ = "depot_reserve"

    depot_code: Mapped[str] = mapped_column(ForeignKey("depot.code"), primary_key=True)
    item_code: Mapped[str] = mapped_column(ForeignKey("item.code"), primary_key=True)
    floor: Mapped[int] = mapped_column(Integer, default=0)
    released: Mapped[bool] = mapped_column(Boolean, default=False)


class StockBalance(db.Model):
    """The current on-hand quantity of one lot (批次) of one item at one depot.

    ``lot_key`` identifies the lot within (depot, item): ``"<lot code>|<expiry>"`` (either part
    may be empty), so an anonymous lot with no expiry is ``"|"``.
    """

    __tablename__ = "stock_balance"
    __table_args__ = (
        UniqueConstraint("depot_code", "item_code", "lot_key"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    depot_code: Mapped[str] = mapped_column(ForeignKey("depot.code"))
    item_code: Mapped[str] = mapped_column(ForeignKey("item.code"))
    lot_key: Mapped[str] = mapped_column(String(80))
    lot: Mapped[str | None] = mapped_column(String(60))
    expiry: Mapped[date | None] = mapped_column(Date)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)


class StockMovement(db.Model):
    """One line of the stock ledger (库存台账); never edited, never deleted.

    ``quantity`` is signed (incoming positive). ``balance_after`` is the item's total at the
    depot after this line, ``lot_balance_after`` the lot's. ``reverses_id`` points to the line a
    reversing entry (冲销) undoes.
    """

    __tablename__ = "stock_movement"
    __table_args__ = (
        Index("ix_stock_movement_depot_item", "depot_code", "item_code", "id"),
        Index("ix_stock_movement_document", "document_type", "document_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    depot_code: Mapped[str] = mapped_column(ForeignKey("depot.code"))
    item_code: Mapped[str] = mapped_column(ForeignKey("item.code"))
    lot: Mapped[str | None] = mapped_column(String(60))
    expiry: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    lot_balance_after: Mapped[int] = mapped_column(Integer)
    document_type: Mapped[str] = mapped_column(String(20))
    document_id: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("stock_movement.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    username: Mapped[str] = mapped_column(String(80), default="system")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "at": self.at.isoformat(), "depot_code": self.depot_code,
                "item": self.item_code, "lot": self.lot,
                "expiry": self.expiry.isoformat() if self.expiry else None, "kind": self.kind,
                "kind_label": MOVEMENT_KINDS.get(self.kind, self.kind), "quantity": self.quantity,
                "balance_after": self.balance_after, "lot_balance_after": self.lot_balance_after,
                "document_type": self.document_type, "document_id": self.document_id,
                "reason": self.reason, "reverses_id": self.reverses_id, "user": self.username}


make_append_only(StockMovement)


class Dispatch(db.Model):
    """A dispatch order (调拨单): goods from one depot to one region (and optionally into a depot
    there, a transfer), moved through :data:`DISPATCH_MACHINE`."""

    __tablename__ = "dispatch"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"), index=True)
    from_depot_code: Mapped[str] = mapped_column(ForeignKey("depot.code"), index=True)
    to_region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    to_depot_code: Mapped[str | None] = mapped_column(ForeignKey("depot.code"))
    supply_request_id: Mapped[int | None] = mapped_column(ForeignKey("supply_request.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="requested", index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(80))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(80))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_by: Mapped[str | None] = mapped_column(String(80))
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_by: Mapped[str | None] = mapped_column(String(80))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(80))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    lines = relationship("DispatchLine", order_by="DispatchLine.id", lazy="selectin",
                         back_populates="dispatch", cascade="all, delete-orphan")
    from_depot = relationship("Depot", foreign_keys=[from_depot_code], lazy="select")

    @property
    def status_label(self) -> str:
        return DISPATCH_MACHINE.labels.get(self.status, self.status)

    def to_dict(self) -> dict:
        def iso(value):
            return value.isoformat() if value else None

        return {"id": self.id, "event_id": self.event_id, "from_depot": self.from_depot_code,
                "to_region_code": self.to_region_code, "to_depot": self.to_depot_code,
                "supply_request_id": self.supply_request_id, "status": self.status,
                "status_label": self.status_label, "note": self.note,
                "lines": [line.to_dict() for line in self.lines],
                "requested_by": self.requested_by, "requested_at": iso(self.requested_at),
                "approved_by": self.approved_by, "approved_at": iso(self.approved_at),
                "shipped_by": self.shipped_by, "shipped_at": iso(self.shipped_at),
                "received_by": self.received_by, "received_at": iso(self.received_at),
                "cancelled_by": self.cancelled_by, "cancelled_at": iso(self.cancelled_at),
                "cancel_reason": self.cancel_reason}


class DispatchLine(db.Model):
    """One item of a dispatch order; ``received_quantity`` and ``discrepancy_note`` are filled
    on receipt (签收), a difference being a discrepancy (差异)."""

    __tablename__ = "dispatch_line"
    __table_args__ = (UniqueConstraint("dispatch_id", "item_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dispatch_id: Mapped[int] = mapped_column(ForeignKey("dispatch.id"))
    item_code: Mapped[str] = mapped_column(ForeignKey("item.code"))
    quantity: Mapped[int] = mapped_column(Integer)
    received_quantity: Mapped[int | None] = mapped_column(Integer)
    discrepancy_note: Mapped[str | None] = mapped_column(Text)
    dispatch = relationship("Dispatch", back_populates="lines")

    @property
    def discrepancy(self) -> int | None:
        return None if self.received_quantity is None else self.received_quantity - self.quantity

    def to_dict(self) -> dict:
        return {"item": self.item_code, "quantity": self.quantity,
                "received_quantity": self.received_quantity, "discrepancy": self.discrepancy,
                "discrepancy_note": self.discrepancy_note}


class SupplyRequest(db.Model):
    """A written request (申请) from a region whose own stock is short to the level above,
    whose coordinator fills it by creating dispatches from that level's depots."""

    __tablename__ = "supply_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"), index=True)
    from_region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    to_region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    to_depot_code: Mapped[str | None] = mapped_column(ForeignKey("depot.code"))
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    reason: Mapped[str] = mapped_column(Text)
    raised_by: Mapped[str] = mapped_column(String(80))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by: Mapped[str | None] = mapped_column(String(80))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[str | None] = mapped_column(Text)
    #: Forwarded to the central level (中央): ``to_region_code`` is then the province that
    #: forwarded it (there is no region row for the nation).
    to_central: Mapped[bool] = mapped_column(Boolean, default=False)
    lines = relationship("SupplyRequestLine", order_by="SupplyRequestLine.id", lazy="selectin",
                         cascade="all, delete-orphan")
    steps = relationship("SupplyRequestStep", order_by="SupplyRequestStep.id", lazy="selectin",
                         cascade="all, delete-orphan")
    dispatches = relationship("Dispatch", order_by="Dispatch.id", lazy="selectin",
                              foreign_keys=[Dispatch.supply_request_id])
    to_depot = relationship("Depot", foreign_keys=[to_depot_code], lazy="select")

    @property
    def status_label(self) -> str:
        return SUPPLY_REQUEST_MACHINE.labels.get(self.status, self.status)

    @property
    def addressee_code(self) -> str:
        """The level that acts on the request now: a region code, ``000000`` for central."""
        return "000000" if self.to_central else self.to_region_code

    def filled(self) -> dict[str, int]:
        """Units of each item in the request's dispatches that were not cancelled."""
        totals: dict[str, int] = {}
        for dispatch in self.dispatches:
            if dispatch.status == "cancelled":
                continue
            for line in dispatch.lines:
                totals[line.item_code] = totals.get(line.item_code, 0) + line.quantity
        return totals

    def to_dict(self) -> dict:
        filled = self.filled()
        return {"id": self.id, "event_id": self.event_id, "from_region_code": self.from_region_code,
                "to_region_code": self.to_region_code, "to_central": bool(self.to_central),
                "addressee_code": self.addressee_code, "to_depot": self.to_depot_code,
                "status": self.status, "status_label": self.status_label, "reason": self.reason,
                "lines": [{"item": line.item_code, "quantity": line.quantity,
                           "filled": filled.get(line.item_code, 0),
                           "outstanding": max(line.quantity - filled.get(line.item_code, 0), 0)}
                          for line in self.lines],
                "dispatch_ids": [d.id for d in self.dispatches],
                "raised_by": self.raised_by, "raised_at": self.raised_at.isoformat(),
                "closed_by": self.closed_by,
                "closed_at": self.closed_at.isoformat() if self.closed_at else None,
                "close_reason": self.close_reason, "steps": [step.to_dict() for step in self.steps]}


class SupplyRequestLine(db.Model):
    __tablename__ = "supply_request_line"
    __table_args__ = (UniqueConstraint("supply_request_id", "item_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supply_request_id: Mapped[int] = mapped_column(ForeignKey("supply_request.id"))
    item_code: Mapped[str] = mapped_column(ForeignKey("item.code"))
    quantity: Mapped[int] = mapped_column(Integer)


#: What a level did with a supply request, as its requester reads it.
STEP_ACTIONS = {"raise": "发起申请", "fill": "本级调拨", "forward": "转报上级", "reject": "不予调拨",
                "complete": "已全部满足", "reopen": "重新待调拨"}


class SupplyRequestStep(db.Model):
    """One step of a supply request up the tiers (append-only): who, at which level
    (``level_code``, ``000000`` for central), did what, with which quantities and note. The
    requester reads the whole trail on the request's page."""

    __tablename__ = "supply_request_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    supply_request_id: Mapped[int] = mapped_column(ForeignKey("supply_request.id"), index=True)
    action: Mapped[str] = mapped_column(String(12))
    level_code: Mapped[str] = mapped_column(String(12))
    to_level_code: Mapped[str | None] = mapped_column(String(12))
    lines: Mapped[list | None] = mapped_column(JSONType)
    note: Mapped[str | None] = mapped_column(Text)
    username: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def action_label(self) -> str:
        return STEP_ACTIONS.get(self.action, self.action)

    def to_dict(self) -> dict:
        return {"action": self.action, "action_label": self.action_label, "level_code": self.level_code,
                "to_level_code": self.to_level_code, "lines": self.lines or [], "note": self.note,
                "user": self.username, "at": self.at.isoformat()}


make_append_only(SupplyRequestStep)


#: 回补 status: open (待回补) → settled (已回补); cancelled (已撤销) when the draw is cancelled
#: before anything was sent back.
REPLENISHMENT_MACHINE = StateMachine(
    "回补",
    {("open", "settle"): "settled", ("open", "cancel"): "cancelled"},
    labels={"open": "待回补", "settled": "已回补", "cancelled": "已撤销"},
)

replenishment_dispatch = Table(
    "replenishment_dispatch", db.metadata,
    Column("replenishment_id", ForeignKey("replenishment.id"), primary_key=True),
    Column("dispatch_id", ForeignKey("dispatch.id"), primary_key=True, unique=True),
)


class Replenishment(db.Model):
    """A replenishment obligation (回补): a higher level (``owed_by``, ``000000`` for central)
    drew on a lower level's depot through dispatch ``dispatch_id`` and owes the depot what was
    taken (the dispatch's lines), until dispatches from its own depots into that depot
    (``dispatches``) are received."""

    __tablename__ = "replenishment"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispatch_id: Mapped[int] = mapped_column(ForeignKey("dispatch.id"), unique=True)
    depot_code: Mapped[str] = mapped_column(ForeignKey("depot.code"), index=True)
    owed_by: Mapped[str] = mapped_column(String(12), index=True)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    draw = relationship("Dispatch", foreign_keys=[dispatch_id], lazy="selectin")
    depot = relationship("Depot", foreign_keys=[depot_code], lazy="selectin")
    dispatches = relationship("Dispatch", secondary=replenishment_dispatch, order_by="Dispatch.id",
                              lazy="selectin")

    @property
    def status_label(self) -> str:
        return REPLENISHMENT_MACHINE.labels.get(self.status, self.status)
