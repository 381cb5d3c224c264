"""Rolls (救助名册): the main roll frozen at approval and the supplementary rolls (补充名册), each
entry a snapshot of one household with the instalments it is owed. A final roll refuses every
change; entries are append-only."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, mapped_column

from ...extensions import db
from ...models_common import AppendOnlyError, make_append_only, utcnow
from ...types import JSONType, UTCDateTime
from ... import idcard
from ..rules import Instalment


class Roll(db.Model):
    """A roll (救助名册): the main roll frozen at approval, or a supplementary roll (补充名册) for
    corrections, additions and extensions, which has its own notice and is then frozen.
    A frozen or cancelled roll refuses every change."""

    __tablename__ = "relief_roll"
    __table_args__ = (UniqueConstraint("cycle_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("relief_cycle.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 0: the main roll
    kind: Mapped[str] = mapped_column(String(14))  # main | supplementary
    purpose: Mapped[str] = mapped_column(String(10))  # approval | add | adjust | extend
    #: village (民主评议) → notice (公示) → township (乡审) → county (待县批) → frozen; or cancelled
    status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    approval_ref: Mapped[str | None] = mapped_column(String(100))
    notice_location: Mapped[str] = mapped_column(String(200), default="")  # where the notice is posted
    months_total: Mapped[int | None] = mapped_column(Integer)
    notice_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    frozen_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    entry_count: Mapped[int] = mapped_column(Integer, default=0)

    def to_dict(self) -> dict:
        iso = lambda v: v.isoformat() if v else None  # noqa: E731
        return {"id": self.id, "cycle_id": self.cycle_id, "seq": self.seq, "kind": self.kind,
                "purpose": self.purpose, "status": self.status, "reason": self.reason,
                "approval_ref": self.approval_ref, "months_total": self.months_total,
                "notice_started_at": iso(self.notice_started_at), "notice_ends_at": iso(self.notice_ends_at),
                "status_label": ROLL_STATUS_LABELS.get(self.status, self.status),
                "frozen_at": iso(self.frozen_at), "total": self.total_fen / 100,
                "entry_count": self.entry_count}


#: A supplementary roll's states in the official order (the main roll is frozen at approval).
ROLL_STATUS_LABELS = {"village": "待民主评议", "notice": "公示中", "township": "乡镇审核中", "county": "待县级审批",
                      "frozen": "已冻结", "cancelled": "已撤销"}
#: The states of a roll not yet frozen nor cancelled: one at a time per cycle.
ROLL_OPEN = ("village", "notice", "township", "county")


class RollStep(db.Model):
    """A village's 民主评议 or a township's 乡审 of a supplementary roll, for the roll's households in
    that village or township. Append-only; one per roll, stage and region."""

    __tablename__ = "relief_roll_step"
    __table_args__ = (UniqueConstraint("roll_id", "stage", "region_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    roll_id: Mapped[int] = mapped_column(ForeignKey("relief_roll.id"), index=True)
    stage: Mapped[str] = mapped_column(String(10))  # village | township
    region_code: Mapped[str] = mapped_column(String(12))
    decision: Mapped[str] = mapped_column(String(10))  # approve | reject
    note: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    username: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "roll_id": self.roll_id, "stage": self.stage, "region_code": self.region_code,
                "decision": self.decision, "note": self.note, "username": self.username, "at": self.at.isoformat()}


@event.listens_for(Roll, "before_update")
def _roll_final(_mapper, _connection, target):
    history = inspect(target).attrs.status.history
    before = history.deleted[0] if history.deleted else target.status
    if before in ("frozen", "cancelled"):
        raise AppendOnlyError("已冻结或已撤销的名册不能修改；更正请另立补充名册")


@event.listens_for(Roll, "before_delete")
def _roll_kept(_mapper, _connection, _target):
    raise AppendOnlyError("名册不能删除")


class RollEntry(db.Model):
    """One household in a roll, as it stood when the roll was made (a snapshot), with the
    instalments it is owed. Never edited."""

    __tablename__ = "relief_roll_entry"
    __table_args__ = (UniqueConstraint("roll_id", "household_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    roll_id: Mapped[int] = mapped_column(ForeignKey("relief_roll.id"), index=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("relief_cycle.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    head_name: Mapped[str] = mapped_column(String(60))
    id_number: Mapped[str] = mapped_column(String(18))
    village_code: Mapped[str] = mapped_column(String(12))
    persons: Mapped[int] = mapped_column(Integer)
    deceased: Mapped[int] = mapped_column(Integer, default=0)
    damage_class: Mapped[str] = mapped_column(String(20))
    work_type: Mapped[str | None] = mapped_column(String(10))
    basis: Mapped[dict] = mapped_column(JSONType)
    instalments: Mapped[list] = mapped_column(JSONType)
    total_fen: Mapped[int] = mapped_column(BigInteger)

    def plan(self) -> list[Instalment]:
        return [Instalment.from_dict(i) for i in self.instalments]

    def to_dict(self, *, show_id: bool = False) -> dict:
        return {"id": self.id, "roll_id": self.roll_id, "household_id": self.household_id,
                "head_name": self.head_name,
                "id_number": self.id_number if show_id else idcard.mask_id(self.id_number),
                "village_code": self.village_code, "persons": self.persons, "deceased": self.deceased,
                "damage_class": self.damage_class, "work_type": self.work_type, "basis": self.basis,
                "instalments": [{**i, "amount": i["amount_fen"] / 100} for i in self.instalments],
                "total": self.total_fen / 100}


make_append_only(RollEntry)
make_append_only(RollStep)
