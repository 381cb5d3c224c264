"""Reconstruction of damaged houses (倒损住房恢复重建): the township's house-by-house check
(逐户核查, append-only, with its photos), one project per house with the time it reached each
stage, and its append-only progress reports (进度报告)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...extensions import db
from ...models_common import make_append_only, utcnow
from ...types import UTCDateTime
from ... import idcard
from ..rules import DAMAGE_CLASSES, EXCLUSIONS, STAGE_LABELS, STAGES, WORK_TYPES, report_due


class HouseCheck(db.Model):
    """The township's check of one house put forward for reconstruction (逐户核查): who checked,
    when, the damage class confirmed or changed, or the house excluded with the reason. Append-only:
    a second check is a new row, the latest one counts."""

    __tablename__ = "house_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("relief_cycle.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    checked_by: Mapped[str] = mapped_column(String(80))  # the user signed in
    checkers: Mapped[str] = mapped_column(String(200))  # 核查人员, as they sign the form
    registered_class: Mapped[str] = mapped_column(String(20))  # the registry's class (台账)
    found_class: Mapped[str] = mapped_column(String(20))  # the class the check found
    exclusion: Mapped[str | None] = mapped_column(String(20))  # EXCLUSIONS, or None
    reason: Mapped[str] = mapped_column(Text, default="")
    late: Mapped[bool] = mapped_column(Boolean, default=False)  # after the 15 days, with the reason
    late_reason: Mapped[str | None] = mapped_column(Text)
    photo_count: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def outcome(self) -> str:
        if self.exclusion:
            return "excluded"
        return "confirmed" if self.found_class == self.registered_class else "changed"

    def to_dict(self) -> dict:
        return {"id": self.id, "cycle_id": self.cycle_id, "household_id": self.household_id,
                "checked_at": self.checked_at.isoformat(), "checked_by": self.checked_by,
                "checkers": self.checkers, "registered_class": self.registered_class,
                "found_class": self.found_class, "found_label": DAMAGE_CLASSES.get(self.found_class),
                "outcome": self.outcome, "exclusion": self.exclusion,
                "exclusion_label": EXCLUSIONS.get(self.exclusion) if self.exclusion else None,
                "reason": self.reason, "late": self.late, "late_reason": self.late_reason,
                "photo_count": self.photo_count}


class HouseCheckPhoto(db.Model):
    """A photo taken at a house check (JPEG, PNG or WebP). Append-only. Its bytes are in the file
    store every instance sees (``stored_key``, :mod:`app.storage`)."""

    __tablename__ = "house_check_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("house_check.id"), index=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    stored_key: Mapped[str] = mapped_column(String(300))


class ReconstructionProject(db.Model):
    """One house being rebuilt or repaired (确定一户、重建一户), with the time it reached each stage."""

    __tablename__ = "reconstruction_project"
    __table_args__ = (UniqueConstraint("cycle_id", "household_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("relief_cycle.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    work_type: Mapped[str] = mapped_column(String(10))
    stage: Mapped[str] = mapped_column(String(16), default="verified")
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    main_structure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moved_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_report_at: Mapped[datetime] = mapped_column(UTCDateTime)

    household = relationship("Household", lazy="joined")

    def reached(self) -> dict[str, datetime]:
        return {stage: getattr(self, f"{stage}_at") for stage in STAGES if getattr(self, f"{stage}_at")}

    def to_dict(self, *, show_id: bool = False, report_days: int | None = None) -> dict:
        due = report_due(self.last_report_at, report_days) if report_days else None
        return {"id": self.id, "cycle_id": self.cycle_id, "household_id": self.household_id,
                "head_name": self.household.head_name,
                "id_number": self.household.id_number if show_id else idcard.mask_id(self.household.id_number),
                "village_code": self.household.village_code, "work_type": self.work_type,
                "work_type_label": WORK_TYPES.get(self.work_type, self.work_type),
                "stage": self.stage, "stage_label": STAGE_LABELS[self.stage],
                "reached": {k: v.isoformat() for k, v in self.reached().items()},
                "last_report_at": self.last_report_at.isoformat(),
                "next_report_due": due.isoformat() if due else None,
                "report_overdue": bool(due and self.stage != "moved_in" and utcnow() > due)}


class ProgressReport(db.Model):
    """A progress report (进度报告) on one house. Append-only."""

    __tablename__ = "reconstruction_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("reconstruction_project.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    reported_by: Mapped[str] = mapped_column(String(80))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "project_id": self.project_id, "stage": self.stage,
                "stage_label": STAGE_LABELS[self.stage], "observed_at": self.observed_at.isoformat(),
                "note": self.note, "reported_by": self.reported_by,
                "submitted_at": self.submitted_at.isoformat()}


make_append_only(ProgressReport)
make_append_only(HouseCheck)
make_append_only(HouseCheckPhoto)
