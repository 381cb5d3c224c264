"""Payment batches (发放批次), payments and what the bank says of them (回盘).

Money is in fen. A payment is *issued* in a batch; the bank's return file (:class:`BankReturn`)
then says it was *paid*, *failed* (with the bank's reason) or *returned* (paid, then sent back),
one append-only :class:`PaymentOutcome` each. A failed or returned payment is credited back to its
fund line and re-issued in a later batch as a new attempt of the same instalment: ``(cycle,
household, period, attempt)`` is unique and each attempt re-issues at most one failed one
(``reissue_of_id`` unique), so an instalment is never paid twice. Payments, outcomes and
returns are append-only; a complete batch is final."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, mapped_column

from ...extensions import db
from ...models_common import AppendOnlyError, make_append_only, utcnow
from ...types import UTCDateTime
from ... import idcard


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
    """One payment: one attempt at one instalment of one household, debiting exactly one fund
    line. ``(cycle, household, period, attempt)`` is unique; attempt ``n + 1`` exists only as the
    re-issue of attempt ``n`` after the bank failed or returned it."""

    __tablename__ = "payment"
    __table_args__ = (
        UniqueConstraint("cycle_id", "household_id", "period", "attempt"),
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
    attempt: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reissue_of_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self, *, show_id: bool = False) -> dict:
        return {"id": self.id, "cycle_id": self.cycle_id, "household_id": self.household_id,
                "period": self.period, "label": self.label, "payment_roll_id": self.payment_roll_id,
                "attempt": self.attempt, "reissue_of_id": self.reissue_of_id,
                "fund_line_id": self.fund_line_id, "amount": self.amount_fen / 100,
                "head_name": self.head_name,
                "id_number": self.id_number if show_id else idcard.mask_id(self.id_number),
                "bank_account": self.bank_account if show_id else idcard.mask_account(self.bank_account),
                "created_at": self.created_at.isoformat()}


make_append_only(Payment)

#: What the bank may say of a payment (回盘结果).
OUTCOMES = {"paid": "已入账", "failed": "失败", "returned": "已退回"}
PAYMENT_STATES = {"issued": "已发出", **OUTCOMES}


class BankReturn(db.Model):
    """One imported bank return file (银行回盘) of one batch: who imported it, when, and counts."""

    __tablename__ = "bank_return"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_roll_id: Mapped[int] = mapped_column(ForeignKey("payment_roll.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(200), default="")
    username: Mapped[str] = mapped_column(String(80))
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    paid_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    returned_count: Mapped[int] = mapped_column(Integer, default=0)
    credited_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "payment_roll_id": self.payment_roll_id, "file_name": self.file_name,
                "user": self.username, "lines": self.line_count, "paid": self.paid_count,
                "failed": self.failed_count, "returned": self.returned_count,
                "credited": self.credited_fen / 100, "at": self.at.isoformat()}


class PaymentOutcome(db.Model):
    """What the bank said of one payment (one line of a return file). A payment is paid, failed
    or returned once each at most; ``returned`` may follow ``paid``, nothing follows a failure."""

    __tablename__ = "payment_outcome"
    __table_args__ = (UniqueConstraint("payment_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), index=True)
    bank_return_id: Mapped[int] = mapped_column(ForeignKey("bank_return.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))  # paid | failed | returned
    reason: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "payment_id": self.payment_id, "bank_return_id": self.bank_return_id,
                "status": self.status, "status_label": OUTCOMES[self.status], "reason": self.reason,
                "at": self.at.isoformat()}


make_append_only(BankReturn)
make_append_only(PaymentOutcome)
