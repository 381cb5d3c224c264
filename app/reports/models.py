"""Tables of loss reporting: disaster events (灾害过程) with their affected regions, loss reports
(灾情报告, append-only, numbered per region), forwardings by prefectures and provinces (审核上报,
append-only) and report photos (现场照片); the hazards, the report kinds and the event's state
machine (active → stable → closed).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models_common import make_append_only, utcnow
from ..statemachine import StateMachine
from ..types import JSONType, UTCDateTime

HAZARDS = {
    "flood": "洪涝", "drought": "干旱", "earthquake": "地震", "typhoon": "台风", "landslide": "滑坡泥石流",
    "hail": "风雹", "snow": "雪灾", "low_temperature": "低温冷冻", "sandstorm": "沙尘暴",
    "forest_fire": "森林草原火灾", "other": "其他",
}
REPORT_KINDS = {"initial": "初报", "update": "续报", "final": "核报"}
#: What a deadline can be for: a report, or the direct report to the province and the nation.
DEADLINE_KINDS = {**REPORT_KINDS, "direct": "直报"}

#: 灾害过程 status: active (发生中) → stable (灾情稳定) → closed (结束).
EVENT_MACHINE = StateMachine(
    "灾害过程",
    {("active", "stabilise"): "stable", ("stable", "close"): "closed", ("active", "close"): "closed"},
    labels={"active": "发生中", "stable": "灾情稳定", "closed": "已结束"},
)

event_region = Table(
    "event_region", db.metadata,
    Column("event_id", ForeignKey("event.id", ondelete="CASCADE"), primary_key=True),
    Column("region_code", ForeignKey("region.code"), primary_key=True),
)


class Event(db.Model):
    """A disaster process (一次灾害过程) over one or more affected regions."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    hazard: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="active", index=True)
    stabilised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: 重大灾害: reports then need at least ``REPORT_MAJOR_MIN_PHOTOS`` photos (national system rule).
    major: Mapped[bool] = mapped_column(Boolean, default=False)
    regions = relationship("Region", secondary=event_region, order_by="Region.code", lazy="selectin")

    @property
    def region_codes(self) -> list[str]:
        return [r.code for r in self.regions]

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "hazard": self.hazard,
                "hazard_label": HAZARDS.get(self.hazard, self.hazard),
                "started_at": self.started_at.isoformat(), "region_codes": self.region_codes,
                "status": self.status,
                "stabilised_at": self.stabilised_at.isoformat() if self.stabilised_at else None,
                "closed_at": self.closed_at.isoformat() if self.closed_at else None,
                "major": bool(self.major)}


class EventUnit(db.Model):
    """The clocks of one region of an event (``domain.md`` §3, per unit): a region added after
    the event was opened (``added_at``; its counties' initial reports are due from then, or from
    ``impact_at`` when the clerk gave the first impact), one withdrawn as a mistake
    (``withdrawn_at`` with its reason; it then leaves ``Event.regions``), and a county declared
    stable on its own (``stabilised_at``, 灾情稳定: its verified report falls due, the others
    still owe updates). A region opened with the event and never changed has no row.
    """

    __tablename__ = "event_unit"
    __table_args__ = (UniqueConstraint("event_id", "region_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    added_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    impact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    withdraw_reason: Mapped[str | None] = mapped_column(Text)
    stabilised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stabilised_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    @property
    def clock_from(self) -> datetime | None:
        """When the region's counties start owing (``None``: with the event)."""
        return self.impact_at or self.added_at

    def to_dict(self) -> dict:
        def iso(moment):
            return moment.isoformat() if moment else None

        return {"event_id": self.event_id, "region_code": self.region_code, "added_at": iso(self.added_at),
                "impact_at": iso(self.impact_at), "withdrawn_at": iso(self.withdrawn_at),
                "withdraw_reason": self.withdraw_reason, "stabilised_at": iso(self.stabilised_at)}


class LossReport(db.Model):
    """One loss report (灾情报告): initial (初报), update (续报) or verified (核报).

    Figures are cumulative for the event in that region as of ``as_of``. Reports are never
    edited: ``sequence`` numbers a region's reports 1, 2, 3 … and the unique constraint makes
    two concurrent submissions for one region unable to take the same place.
    """

    __tablename__ = "loss_report"
    __table_args__ = (
        UniqueConstraint("event_id", "region_code", "sequence"),
        Index("ix_loss_report_event_region", "event_id", "region_code"),
        # the assessment sweep asks whether an event has reports newer than its snapshot
        Index("ix_loss_report_event_submitted", "event_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    kind: Mapped[str] = mapped_column(String(8))
    sequence: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    figures: Mapped[dict] = mapped_column(JSONType)
    note: Mapped[str | None] = mapped_column(Text)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    submitted_by: Mapped[str] = mapped_column(String(80))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "event_id": self.event_id, "region_code": self.region_code,
                "kind": self.kind, "sequence": self.sequence, "as_of": self.as_of.isoformat(),
                "figures": self.figures, "note": self.note, "submitted_by": self.submitted_by,
                "submitted_at": self.submitted_at.isoformat()}


make_append_only(LossReport)


class ReportForward(db.Model):
    """A prefecture or province forwarding the reviewed figures of the levels below (审核上报,
    逐级上报): initial, update or verified, like a report, but it files no figures of its own.

    It records what the unit forwarded (the rolled-up total at the time, ``figures``) and meets
    the unit's statutory forwarding deadline; totals keep coming from the roll-up, so the
    figures above it never lag behind the counties. (A unit that files its own report instead
    overrides the roll-up, as ``API.md`` has it.)
    """

    __tablename__ = "report_forward"
    __table_args__ = (UniqueConstraint("event_id", "region_code", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    kind: Mapped[str] = mapped_column(String(8))
    sequence: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the newest report it covers
    figures: Mapped[dict] = mapped_column(JSONType)
    reporting_units: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(Text)
    forwarded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    forwarded_by: Mapped[str] = mapped_column(String(80))
    forwarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "event_id": self.event_id, "region_code": self.region_code,
                "kind": self.kind, "sequence": self.sequence,
                "as_of": self.as_of.isoformat() if self.as_of else None, "figures": self.figures,
                "reporting_units": self.reporting_units, "note": self.note,
                "forwarded_by": self.forwarded_by, "forwarded_at": self.forwarded_at.isoformat()}


make_append_only(ReportForward)


class ReportPhoto(db.Model):
    """A photo attached to a loss report (现场照片); its bytes are in the file store every
    instance sees (:mod:`app.storage`, key ``reports/`` + ``path``). One file per content hash
    and report: uploading the same picture again returns the first row."""

    __tablename__ = "report_photo"
    __table_args__ = (UniqueConstraint("report_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("loss_report.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    path: Mapped[str] = mapped_column(String(300))  # event/report/hash.ext: the store key after reports/
    original_name: Mapped[str] = mapped_column(String(200), default="")
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_by: Mapped[str] = mapped_column(String(80))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "report_id": self.report_id, "event_id": self.event_id,
                "original_name": self.original_name, "content_type": self.content_type,
                "size": self.size, "sha256": self.sha256, "uploaded_by": self.uploaded_by,
                "uploaded_at": self.uploaded_at.isoformat(),
                "url": f"/api/v1/events/{self.event_id}/reports/{self.report_id}/photos/{self.id}"}


make_append_only(ReportPhoto)
