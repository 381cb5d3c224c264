"""Tables of the distribution area (发放签领): distribution points, their stock ledger, rounds,
people registered on the spot, hand-outs and their proofs (signature or photo).

A point's stock has two records that always agree, as a depot's does:

- :class:`PointMovement`, the append-only ledger: one row per (item, source dispatch) touched,
  with the document that caused it (receipt from a dispatch, hand-out, return to a depot) and the
  balances after it;
- :class:`PointBalance`, one row per (point, item, source dispatch) with the units on hand: the
  sum of its movements, never below zero (a check constraint), the row a hand-out locks.

Keeping the source dispatch on every line is what makes each unit traceable: depot receipt →
dispatch (the depot's ledger) → point receipt → a household's hand-out, or a return.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (CheckConstraint, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models_common import make_append_only, utcnow
from ..types import UTCDateTime

POINT_KINDS = {"village": "村发放点", "shelter": "安置点"}
MOVEMENT_KINDS = {"receipt": "接收", "handout": "发放", "return": "退回物资库"}
PROOF_KINDS = {"signature": "签名", "photo": "照片"}


class DistributionPoint(db.Model):
    """A distribution point (发放点) of one event: a village or a shelter (安置点)."""

    __tablename__ = "distribution_point"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(12), default="village")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "event_id": self.event_id, "region_code": self.region_code, "name": self.name,
                "kind": self.kind, "kind_label": POINT_KINDS.get(self.kind, self.kind),
                "created_by": self.created_by, "created_at": self.created_at.isoformat()}


class PointBalance(db.Model):
    """Units of one item at one point that came with one dispatch."""

    __tablename__ = "point_balance"
    __table_args__ = (UniqueConstraint("point_id", "item_code", "dispatch_id"),
                      CheckConstraint("on_hand >= 0", name="point_on_hand_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("distribution_point.id"), index=True)
    item_code: Mapped[str] = mapped_column(ForeignKey("item.code"))
    dispatch_id: Mapped[int] = mapped_column(ForeignKey("dispatch.id"))
    on_hand: Mapped[int] = mapped_column(Integer, default=0)


class PointMovement(db.Model):
    """One line of a point's stock ledger; never edited, never deleted. ``quantity`` is signed
    (incoming positive); ``balance_after`` is the item's total at the point after it."""

    __tablename__ = "point_movement"
    __table_args__ = (Index("ix_point_movement_point_item", "point_id", "item_code", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("distribution_point.id"))
    item_code: Mapped[str] = mapped_column(ForeignKey("item.code"))
    dispatch_id: Mapped[int] = mapped_column(ForeignKey("dispatch.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    quantity: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    handout_id: Mapped[int | None] = mapped_column(ForeignKey("handout.id"), index=True)
    return_id: Mapped[int | None] = mapped_column(ForeignKey("point_return.id"), index=True)
    username: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "at": self.at.isoformat(), "point_id": self.point_id, "item": self.item_code,
                "dispatch_id": self.dispatch_id, "kind": self.kind,
                "kind_label": MOVEMENT_KINDS.get(self.kind, self.kind), "quantity": self.quantity,
                "balance_after": self.balance_after, "handout_id": self.handout_id,
                "return_id": self.return_id, "user": self.username}


make_append_only(PointMovement)


class DistributionRound(db.Model):
    """A round (发放轮次) of an event in a region: opening round 2 lets every household of the
    region receive each item once more. Round 1 needs no row."""

    __tablename__ = "distribution_round"
    __table_args__ = (UniqueConstraint("event_id", "region_code", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    number: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    opened_by: Mapped[str] = mapped_column(String(80))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "event_id": self.event_id, "region_code": self.region_code, "number": self.number,
                "reason": self.reason, "opened_by": self.opened_by, "opened_at": self.opened_at.isoformat()}


class SpotRecipient(db.Model):
    """A person registered on the spot (现场登记) who is not in the registry of households: one
    row per identity number (registered twice, still one household)."""

    __tablename__ = "spot_recipient"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    household_size: Mapped[int] = mapped_column(Integer)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    registered_by: Mapped[str] = mapped_column(String(80))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HandOutProof(db.Model):
    """A hand-out's proof: the recipient's signature drawn on the screen (PNG) or a photo. Its
    bytes are in the file store every instance sees (``stored_key``, :mod:`app.storage`)."""

    __tablename__ = "handout_proof"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    mimetype: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64))
    # nullable in the schema only: SQLite could not make it NOT NULL on this referenced table
    # (migration 0019); every row has one
    stored_key: Mapped[str | None] = mapped_column(String(300))


class HandOut(db.Model):
    """One item handed to one household (签领): unique per (event, household, item, round), which
    is the rule "not the same item twice in one event unless a second round is opened" held by
    the database itself. ``recipient_key`` is ``H<household id>``, or ``S<spot_recipient id>``
    for a person registered on the spot (never the identity number)."""

    __tablename__ = "handout"
    __table_args__ = (UniqueConstraint("event_id", "recipient_key", "item_code", "round_number",
                                       name="uq_handout_once_per_round"),
                      CheckConstraint("quantity > 0", name="handout_quantity_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("distribution_point.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    round_number: Mapped[int] = mapped_column(Integer, default=1)
    recipient_key: Mapped[str] = mapped_column(String(24))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    spot_recipient_id: Mapped[int | None] = mapped_column(ForeignKey("spot_recipient.id"), index=True)
    item_code: Mapped[str] = mapped_column(ForeignKey("item.code"))
    quantity: Mapped[int] = mapped_column(Integer)
    proof_id: Mapped[int] = mapped_column(ForeignKey("handout_proof.id"))
    proof_kind: Mapped[str] = mapped_column(String(12))
    handed_by: Mapped[str] = mapped_column(String(80))
    handed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "point_id": self.point_id, "event_id": self.event_id, "round": self.round_number,
                "household_id": self.household_id, "spot_recipient_id": self.spot_recipient_id,
                "item": self.item_code, "quantity": self.quantity, "proof_kind": self.proof_kind,
                "proof_id": self.proof_id, "handed_by": self.handed_by, "handed_at": self.handed_at.isoformat(),
                "recorded_at": self.recorded_at.isoformat()}


class PointReturn(db.Model):
    """A return (退回) of units a point did not hand out, to the depot they came from."""

    __tablename__ = "point_return"

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("distribution_point.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    returned_by: Mapped[str] = mapped_column(String(80))
    returned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
