"""Winter-spring needs tables as submitted (受灾人员冬春生活需救助情况统计表): one per region and
year, append-only."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ...extensions import db
from ...models_common import make_append_only, utcnow
from ...types import JSONType, UTCDateTime


class NeedsSubmission(db.Model):
    """A region's winter-spring needs table (受灾人员冬春生活需救助情况统计表) as submitted to the
    level above, by the 15 / 20 / 25 October deadlines. Append-only."""

    __tablename__ = "winter_spring_submission"
    __table_args__ = (UniqueConstraint("year", "region_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    level: Mapped[str] = mapped_column(String(12))
    figures: Mapped[dict] = mapped_column(JSONType)
    submitted_by: Mapped[str] = mapped_column(String(80))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "year": self.year, "region_code": self.region_code, "level": self.level,
                "figures": self.figures, "submitted_by": self.submitted_by,
                "submitted_at": self.submitted_at.isoformat()}


make_append_only(NeedsSubmission)
