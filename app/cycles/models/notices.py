"""Public notices (公示) of a cycle's roll or of a supplementary roll, and the complaints and
reports (投诉举报) they draw; an open complaint blocks approval."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ...extensions import db
from ...models_common import utcnow
from ...types import UTCDateTime


class PublicNotice(db.Model):
    """A public notice (公示) of a cycle's roll or of a supplementary roll."""

    __tablename__ = "public_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("relief_cycle.id"), index=True)
    roll_id: Mapped[int | None] = mapped_column(ForeignKey("relief_roll.id"))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str] = mapped_column(String(200), default="")
    household_count: Mapped[int] = mapped_column(Integer, default=0)
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    def to_dict(self) -> dict:
        return {"id": self.id, "cycle_id": self.cycle_id, "roll_id": self.roll_id,
                "posted_at": self.posted_at.isoformat(), "ends_at": self.ends_at.isoformat(),
                "location": self.location, "household_count": self.household_count,
                "total": self.total_fen / 100,
                "withdrawn_at": self.withdrawn_at.isoformat() if self.withdrawn_at else None}


class Complaint(db.Model):
    """A complaint or report (投诉举报) about a cycle; an open one blocks approval."""

    __tablename__ = "cycle_complaint"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("relief_cycle.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"))
    complainant: Mapped[str] = mapped_column(String(60), default="")
    contact: Mapped[str] = mapped_column(String(40), default="")
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | resolved
    resolution: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    def to_dict(self) -> dict:
        return {"id": self.id, "cycle_id": self.cycle_id, "household_id": self.household_id,
                "complainant": self.complainant, "content": self.content, "status": self.status,
                "resolution": self.resolution, "received_at": self.received_at.isoformat(),
                "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None}
