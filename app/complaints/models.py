"""Complaints and tips from the public (投诉举报): each registered with a ticket number the
complainant follows, routed to a county, answered within a deadline, escalated when overdue."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from ..extensions import db
from ..models_common import utcnow
from ..statemachine import StateMachine
from ..types import JSONType, UTCDateTime

KINDS = {"complaint": "投诉", "tip": "举报"}
SUBJECTS = {"eligibility": "救助对象认定", "amount": "救助金额", "misuse": "款物使用（截留、挪用、优亲厚友）",
            "attitude": "工作作风", "other": "其他"}
PROGRAMMES = {"emergency": "应急救助", "transitional": "过渡期生活救助", "winter_spring": "冬春生活救助",
              "reconstruction": "倒损住房恢复重建", "condolence": "遇难人员家属抚慰", "goods": "救灾物资",
              "other": "其他或不清楚"}
STATUS_LABELS = {"open": "办理中", "answered": "已答复"}
COMPLAINT_MACHINE = StateMachine("投诉举报", {("open", "answer"): "answered"}, labels=STATUS_LABELS)


class PublicComplaint(db.Model):
    """One complaint or tip. ``name``/``contact`` are empty when filed anonymously and are shown
    only to those with ``complaint.view_identity``; ``cycle_complaint_ids`` are the cycle
    complaints that hold the linked household's payments until this one is answered."""

    __tablename__ = "public_complaint"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    subject: Mapped[str] = mapped_column(String(20))
    programme: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    household_named: Mapped[str] = mapped_column(String(100), default="")
    content: Mapped[str] = mapped_column(Text)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    name: Mapped[str] = mapped_column(String(60), default="")
    contact: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_on: Mapped[date] = mapped_column(Date)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"))
    cycle_complaint_ids: Mapped[list] = mapped_column(JSONType, default=list)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def public_dict(self) -> dict:
        """What the complainant sees by ticket number: never who handled it or which household."""
        return {"ticket": self.ticket, "kind_label": KINDS.get(self.kind, self.kind),
                "subject_label": SUBJECTS.get(self.subject, self.subject), "status": self.status,
                "status_label": self.status_label, "received_at": self.received_at.isoformat(),
                "due_on": self.due_on.isoformat(), "answer": self.answer,
                "answered_at": self.answered_at.isoformat() if self.answered_at else None}


class ComplaintPhoto(db.Model):
    """A photo the complainant attached (JPEG, PNG or WebP); only those who may read the
    complaint see it, never the public page of the ticket. Its bytes are in the file store every
    instance sees (``stored_key``, :mod:`app.storage`); photos filed before the store keep them
    in ``content``."""

    __tablename__ = "public_complaint_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("public_complaint.id"), index=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    stored_key: Mapped[str | None] = mapped_column(String(300))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
