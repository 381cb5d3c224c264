"""Relief funds (救灾资金): sources, budget lines by relief item (专款专用) and the append-only
ledger of each line (分账核算), whose balance never goes below zero."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...extensions import db
from ...models_common import make_append_only, utcnow
from ...types import UTCDateTime
from ..rules import KINDS

FUND_LEVELS = {"central": "中央", "provincial": "省级", "prefecture": "市级", "county": "县级",
               "donation": "社会捐赠"}


class FundSource(db.Model):
    """A source of relief money (资金来源): central, provincial, prefecture, county or donations."""

    __tablename__ = "fund_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(12))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines = relationship("FundLine", back_populates="source", order_by="FundLine.id", lazy="selectin")

    def to_dict(self) -> dict:
        return {"id": self.id, "code": self.code, "name": self.name, "level": self.level,
                "level_label": FUND_LEVELS.get(self.level, self.level), "region_code": self.region_code,
                "year": self.year, "note": self.note, "lines": [line.to_dict() for line in self.lines]}


class FundLine(db.Model):
    """A budget line (资金指标): the money of one source earmarked for one relief item
    (专款专用). Its balance can never go negative (a database CHECK as well)."""

    __tablename__ = "fund_line"
    __table_args__ = (
        UniqueConstraint("source_id", "relief_item"),
        CheckConstraint("balance_fen >= 0", name="balance_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("fund_source.id"), index=True)
    relief_item: Mapped[str] = mapped_column(String(20))
    budget_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    spent_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)

    source = relationship("FundSource", back_populates="lines", lazy="joined")

    def to_dict(self) -> dict:
        return {"id": self.id, "source_id": self.source_id, "relief_item": self.relief_item,
                "relief_item_label": KINDS.get(self.relief_item, self.relief_item),
                "budget": self.budget_fen / 100, "spent": self.spent_fen / 100,
                "balance": self.balance_fen / 100}


class FundEntry(db.Model):
    """One line of a fund ledger (资金台账, 分账核算): an allocation to a budget line, a payment
    from it, or the credit back (退回) of a payment the bank failed or returned, with the line's
    balance after it. Append-only."""

    __tablename__ = "fund_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("fund_line.id"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("fund_source.id"), index=True)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("relief_cycle.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), unique=True)
    #: the failed or returned payment this entry credits back (once per payment)
    credit_of_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(12))  # allocation | payment | credit
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    balance_after_fen: Mapped[int] = mapped_column(BigInteger)
    username: Mapped[str] = mapped_column(String(80), default="system")
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "line_id": self.line_id, "source_id": self.source_id,
                "cycle_id": self.cycle_id, "payment_id": self.payment_id, "credit_of_id": self.credit_of_id,
                "kind": self.kind,
                "amount": self.amount_fen / 100, "balance_after": self.balance_after_fen / 100,
                "user": self.username, "note": self.note, "at": self.at.isoformat()}


make_append_only(FundEntry)
