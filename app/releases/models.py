"""Releases (统一发布): one bulletin of an event's reviewed figures for a jurisdiction, frozen at
approval; a later release corrects an earlier one and says what changed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models_common import utcnow
from ..statemachine import StateMachine
from ..types import JSONType, UTCDateTime

#: draft → approved; a draft may be discarded. An approved release is never edited: it is
#: corrected by a later one (``corrects_id``).
RELEASE_MACHINE = StateMachine("灾情发布", {
    ("draft", "approve"): "approved",
    ("draft", "discard"): "discarded",
})
STATUS_LABELS = {"draft": "草稿", "approved": "已发布", "discarded": "已放弃"}


class Release(db.Model):
    """One bulletin: ``figures`` are the jurisdiction's rolled-up totals and its counties' as of
    ``as_of``; ``responses`` the response levels in force; ``changes`` what a correction changed."""

    __tablename__ = "public_release"
    __table_args__ = (UniqueConstraint("event_id", "region_code", "version",
                                       name="uq_public_release_event_region_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    relief: Mapped[str] = mapped_column(Text, default="")  # relief given (救助开展情况)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    figures: Mapped[dict] = mapped_column(JSONType, default=dict)
    responses: Mapped[list] = mapped_column(JSONType, default=list)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("public_release.id"))
    changes: Mapped[list] = mapped_column(JSONType, default=list)
    change_note: Mapped[str] = mapped_column(Text, default="")
    drafted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    drafted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def to_dict(self) -> dict:
        """What is published: nothing of who drafted or approved it."""
        return {"id": self.id, "event_id": self.event_id, "region_code": self.region_code,
                "version": self.version, "status": self.status, "title": self.title,
                "summary": self.summary, "relief": self.relief, "as_of": self.as_of.isoformat(),
                "figures": self.figures, "responses": self.responses, "corrects_id": self.corrects_id,
                "changes": self.changes, "change_note": self.change_note,
                "approved_at": self.approved_at.isoformat() if self.approved_at else None}
