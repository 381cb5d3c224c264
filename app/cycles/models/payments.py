"""Payment batches (发放批次) and payments: money is in fen, and ``(cycle, household, period)`` is
unique, so nothing is ever paid twice. Payments are append-only; a complete batch is final."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, mapped_column

from ...extensions import db
from ...models_common import AppendOnlyError, make_append_only, utcnow
from ...types import UTCDateTime
from .. import idcard


class PaymentRoll(db.Model):
    """A payment batch (发放批次): what fell due in one cycle at one scheduler period, for the
    bank (一卡通). One per (cycle, period); generated idempotently and resumed after a crash."""

    __tablename__ = "payment_roll"
    __table_args__ = (UniqueConstraint("cycle_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("relief_cycle.id"), index=True)
    period: Mapped[str] = mapped_column(String(20))
    cutoff: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="generating")  # generating | complete
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    payment_count: Mapped[int] = mapped_column(Integer, default=0)
    shortfall_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def to_dict(self) -> dict:
        return {"id": self.id, "cycle_id": self.cycle_id, "period": self.period,
                "cutoff": self.cutoff.isoformat(), "status": self.status, "total": self.total_fen / 100,
                "payment_count": self.payment_count, "shortfall": self.shortfall_fen / 100,
                "created_at": self.created_at.isoformat(),
                "completed_at": self.completed_at.isoformat() if self.completed_at else None}


@event.listens_for(PaymentRoll, "before_update")
def _payment_roll_final(_mapper, _connection, target):
    history = inspect(target).attrs.status.history
    before = history.deleted[0] if history.deleted else target.status
    if before == "complete":
        raise AppendOnlyError("已完成的发放批次不能修改")


class Payment(db.Model):
    """One payment: one instalment of one household, debiting exactly one fund line.
    ``(cycle, household, period)`` is unique: nothing is ever paid twice."""

    __tablename__ = "payment"
    __table_args__ = (
        UniqueConstraint("cycle_id", "household_id", "period"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("relief_cycle.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    period: Mapped[str] = mapped_column(String(30))
    payment_roll_id: Mapped[int] = mapped_column(ForeignKey("payment_roll.id"), index=True)
    roll_entry_id: Mapped[int] = mapped_column(ForeignKey("relief_roll_entry.id"))
    fund_line_id: Mapped[int] = mapped_column(ForeignKey("fund_line.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    label: Mapped[str] = mapped_column(String(100), default="")
    head_name: Mapped[str] = mapped_column(String(60))
    id_number: Mapped[str] = mapped_column(String(18))
    bank_account: Mapped[str] = mapped_column(String(40), default="")
    bank_name: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self, *, show_id: bool = False) -> dict:
        return {"id": self.id, "cycle_id": self.cycle_id, "household_id": self.household_id,
                "period": self.period, "label": self.label, "payment_roll_id": self.payment_roll_id,
                "fund_line_id": self.fund_line_id, "amount": self.amount_fen / 100,
                "head_name": self.head_name,
                "id_number": self.id_number if show_id else idcard.mask_id(self.id_number),
                "bank_account": self.bank_account if show_id else idcard.mask_account(self.bank_account),
                "created_at": self.created_at.isoformat()}


make_append_only(Payment)
