"""Condolence lines (抚慰金): one per person on the roster of the dead (因灾死亡失踪人口一览表),
paid to the next of kin through a condolence cycle. ``live_casualty_id`` equals
``casualty_id`` while the line stands and is cleared when it is cancelled, so a person has at
most one standing line, in any cycle, ever (a UNIQUE column: paid once per person)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ...extensions import db
from ...models_common import utcnow
from ...types import UTCDateTime
from ... import idcard

CLAIM_STATUSES = {"pending": "待发放", "cancelled": "已取消"}


class CondolenceClaim(db.Model):
    """A condolence line: the person who died (a roster row), the cycle and the next of kin's
    household it is paid to, and the next of kin as typed on the line."""

    __tablename__ = "condolence_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    casualty_id: Mapped[int] = mapped_column(ForeignKey("casualty.id"), index=True)
    live_casualty_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("relief_cycle.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    kin_name: Mapped[str] = mapped_column(String(60))
    kin_id_number: Mapped[str] = mapped_column(String(18))
    relation: Mapped[str] = mapped_column(String(20), default="")
    status: Mapped[str] = mapped_column(String(12), default="pending")
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self, *, show_id: bool = False) -> dict:
        return {"id": self.id, "casualty_id": self.casualty_id, "cycle_id": self.cycle_id,
                "household_id": self.household_id, "kin_name": self.kin_name,
                "kin_id_number": self.kin_id_number if show_id else idcard.mask_id(self.kin_id_number),
                "relation": self.relation, "status": self.status,
                "status_label": CLAIM_STATUSES.get(self.status, self.status), "cancel_reason": self.cancel_reason,
                "created_by": self.created_by, "created_at": self.created_at.isoformat()}
