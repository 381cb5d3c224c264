"""Tables of the relief-work table (救灾工作情况统计快报表): what a unit types in about the relief
work it did for an event (rescuers, equipment, people sheltered together or dispersed), one
append-only :class:`ReliefWorkEntry` per filing, the latest of a unit standing. Everything else
in the table is computed from the other areas (reports, cycles, depots) when it is read.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models_common import make_append_only, utcnow
from ..types import JSONType, UTCDateTime

#: The typed-in indicators (field, label, unit), in the order of the national table.
TYPED = (
    ("rescuers", "投入救援人员", "人次"),
    ("rescue_vehicles", "出动救援车辆", "辆次"),
    ("boats", "出动舟艇", "艘次"),
    ("aircraft", "出动航空器", "架次"),
    ("equipment", "投入大型救援装备", "台套"),
    ("shelters_opened", "启用应急避难场所", "处"),
    ("centralised_relocated", "集中安置人口", "人"),
    ("dispersed_relocated", "分散安置人口", "人"),
)
#: The report's people figures the table shows (field, label), computed from the reports.
PEOPLE = (("evacuated_population", "紧急避险转移人口"), ("relocated_population", "紧急转移安置人口"))
TYPED_FIELDS = tuple(name for name, _label, _unit in TYPED)


class ReliefWorkEntry(db.Model):
    """One filing of a unit's typed-in relief work for an event. ``figures`` holds only the
    indicators the unit filled: a blank is absent, never 0. Never edited; the latest stands."""

    __tablename__ = "relief_work_entry"
    __table_args__ = (Index("ix_relief_work_entry_event_region", "event_id", "region_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    figures: Mapped[dict] = mapped_column(JSONType)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "event_id": self.event_id, "region_code": self.region_code,
                "figures": dict(self.figures), "note": self.note, "created_by": self.created_by,
                "created_at": self.created_at.isoformat()}


make_append_only(ReliefWorkEntry)
