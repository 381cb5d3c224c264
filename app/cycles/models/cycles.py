"""Relief cycles (救助周期) and their guarded state machine in the official order, and the
households put forward in a cycle (救助对象: 申请, 民主评议, 乡审). A cycle is one kind of relief in one county, for one event or
one year; the guards say why a transition is refused."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...extensions import db
from ...models_common import utcnow
from ...statemachine import StateMachine
from ...types import JSONType, UTCDateTime
from ... import idcard
from ..rules import KINDS
from .notices import Complaint

STATUS_LABELS = {
    "draft": "草稿", "survey": "申请（户报）", "village_review": "民主评议（村）", "notice": "公示中",
    "township_review": "乡镇审核", "approved": "县级审批（已冻结名册）", "disbursing": "发放中",
    "closed": "已结束", "cancelled": "已撤销",
}
ACTION_LABELS = {
    "open_survey": "开始申请", "submit_review": "提交民主评议", "start_notice": "开始公示",
    "return_to_review": "退回民主评议（公示有异议）", "end_notice": "公示期满，开始乡镇审核",
    "approve": "县级审批（冻结名册）", "disburse": "开始发放", "close": "结束", "cancel": "撤销",
}
#: The permission each transition needs: a step of the official order is taken at its level
#: (the township closes the notice and reviews, the county approves); the rest is the county's
#: organising of the cycle (``cycle.manage``).
ACTION_PERMISSIONS = {"end_notice": "cycle.township_review", "approve": "cycle.county_approve"}


def action_permission(action: str) -> str:
    return ACTION_PERMISSIONS.get(action, "cycle.manage")


def _notice_over(cycle: "Cycle") -> str | None:
    now = utcnow()
    if cycle.notice_ends_at is None or now < cycle.notice_ends_at:
        ends = cycle.notice_ends_at.isoformat() if cycle.notice_ends_at else "未开始"
        return f"公示期未满（公示至 {ends}），不能开始乡镇审核。"
    return None


def _no_open_complaints(cycle: "Cycle") -> str | None:
    open_count = db.session.scalar(select(func.count(Complaint.id)).where(
        Complaint.cycle_id == cycle.id, Complaint.status == "open"))
    if open_count:
        return f"还有 {open_count} 件投诉举报未办结，不能继续。"
    return None


def _has_beneficiaries(cycle: "Cycle") -> str | None:
    count = db.session.scalar(select(func.count(Beneficiary.id)).where(Beneficiary.cycle_id == cycle.id))
    return None if count else "尚未登记任何救助对象，不能提交评议。"


def _houses_checked(cycle: "Cycle") -> str | None:
    """倒损住房重建: every house put forward is checked by the township first (逐户核查)."""
    if cycle.kind != "reconstruction":
        return None
    missing = db.session.scalar(select(func.count(Beneficiary.id)).where(
        Beneficiary.cycle_id == cycle.id, Beneficiary.checked_at.is_(None)))
    if missing:
        return f"还有 {missing} 户未经乡镇逐户核查，不能提交民主评议。"
    return None


def _village_done(cycle: "Cycle") -> str | None:
    rows = db.session.scalars(select(Beneficiary).where(Beneficiary.cycle_id == cycle.id)).all()
    pending = [b for b in rows if b.village_decision is None]
    if pending:
        return f"还有 {len(pending)} 户未完成民主评议，不能开始公示。"
    if not any(b.village_decision == "approve" for b in rows):
        return "没有通过民主评议的救助对象，不能开始公示。"
    return None


def _township_done(cycle: "Cycle") -> str | None:
    rows = db.session.scalars(select(Beneficiary).where(Beneficiary.cycle_id == cycle.id)).all()
    pending = [b for b in rows if b.village_decision == "approve" and b.township_decision is None]
    if pending:
        return f"还有 {len(pending)} 户未完成乡镇审核，不能县级审批。"
    if not any(b.approved for b in rows):
        return "没有通过乡镇审核的救助对象，不能县级审批。"
    return None


def _fund_line_fits(cycle: "Cycle") -> str | None:
    if cycle.fund_line is None:
        return "尚未指定资金指标（专款专用），不能开始发放。"
    if cycle.fund_line.relief_item != cycle.kind:
        return "资金指标的救助项目与本周期不符（专款专用）。"
    return None


#: 救助周期 status in the official order (domain.md §4): draft → survey (申请) → village_review
#: (民主评议) → notice (公示, at least the configured days) → township_review (乡审) → approved
#: (县批, the roll frozen) → disbursing → closed; cancel before approval.
CYCLE_MACHINE = StateMachine(
    "救助周期",
    {
        ("draft", "open_survey"): "survey",
        ("survey", "submit_review"): "village_review",
        ("village_review", "start_notice"): "notice",
        ("notice", "return_to_review"): "village_review",
        ("notice", "end_notice"): "township_review",
        ("township_review", "approve"): "approved",
        ("approved", "disburse"): "disbursing",
        ("disbursing", "close"): "closed",
        ("draft", "cancel"): "cancelled",
        ("survey", "cancel"): "cancelled",
        ("village_review", "cancel"): "cancelled",
        ("notice", "cancel"): "cancelled",
        ("township_review", "cancel"): "cancelled",
    },
    labels=STATUS_LABELS,
    guards={
        "submit_review": (_has_beneficiaries, _houses_checked),
        "start_notice": (_village_done,),
        "end_notice": (_notice_over, _no_open_complaints),
        "approve": (_township_done, _no_open_complaints),
        "disburse": (_fund_line_fits,),
    },
)


class Cycle(db.Model):
    """A relief cycle (救助周期) of one kind in one county, for one event or one year."""

    __tablename__ = "relief_cycle"
    __table_args__ = (Index("ix_relief_cycle_kind_year", "kind", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"), index=True)
    year: Mapped[int | None] = mapped_column(Integer)
    #: ``kind:event-or-year:region``: one live cycle of a kind per event (or year) and county;
    #: cleared when a cycle is cancelled so that it can be made again.
    unique_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)  # STATUS_LABELS
    standards: Mapped[dict] = mapped_column(JSONType)
    starts_on: Mapped[date | None] = mapped_column(Date)
    months: Mapped[int | None] = mapped_column(Integer)
    months_approval_ref: Mapped[str | None] = mapped_column(String(100))
    pay_to_month: Mapped[int | None] = mapped_column(Integer)
    notice_days: Mapped[int] = mapped_column(Integer)
    notice_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    disbursing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    fund_line_id: Mapped[int | None] = mapped_column(ForeignKey("fund_line.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    fund_line = relationship("FundLine", lazy="joined")
    region = relationship("Region", lazy="joined")

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def to_dict(self) -> dict:
        iso = lambda v: v.isoformat() if v else None  # noqa: E731
        return {"id": self.id, "kind": self.kind, "kind_label": self.kind_label, "name": self.name,
                "region_code": self.region_code, "event_id": self.event_id, "year": self.year,
                "status": self.status, "status_label": self.status_label,
                "allowed_actions": CYCLE_MACHINE.allowed(self.status),
                "starts_on": iso(self.starts_on), "months": self.months,
                "months_approval_ref": self.months_approval_ref, "pay_to_month": self.pay_to_month,
                "notice_days": self.notice_days, "notice_started_at": iso(self.notice_started_at),
                "notice_ends_at": iso(self.notice_ends_at), "approved_at": iso(self.approved_at),
                "disbursing_at": iso(self.disbursing_at), "closed_at": iso(self.closed_at),
                "cancelled_at": iso(self.cancelled_at), "cancel_reason": self.cancel_reason,
                "fund_line_id": self.fund_line_id, "standards": self.standards, "note": self.note,
                "created_at": iso(self.created_at)}


class Beneficiary(db.Model):
    """A household put forward in a cycle (户报), with the village (村评) and township (乡审)
    decisions. Editable until the notice; the frozen roll is what counts after approval."""

    __tablename__ = "cycle_beneficiary"
    __table_args__ = (UniqueConstraint("cycle_id", "household_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("relief_cycle.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    persons: Mapped[int] = mapped_column(Integer)
    deceased: Mapped[int] = mapped_column(Integer, default=0)
    needs: Mapped[dict] = mapped_column(JSONType, default=dict)
    eligible: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list] = mapped_column(JSONType, default=list)
    priority: Mapped[bool] = mapped_column(Boolean, default=False)
    work_type: Mapped[str | None] = mapped_column(String(10))
    village_decision: Mapped[str | None] = mapped_column(String(10))
    village_note: Mapped[str | None] = mapped_column(Text)
    village_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    township_decision: Mapped[str | None] = mapped_column(String(10))
    township_note: Mapped[str | None] = mapped_column(Text)
    township_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: 逐户核查 (reconstruction): the latest check's outcome, copied from :class:`HouseCheck`;
    #: ``checked_damage_class`` is the class the roll pays by
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_damage_class: Mapped[str | None] = mapped_column(String(20))
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    household = relationship("Household", lazy="joined")

    @property
    def approved(self) -> bool:
        """Passed the village's 民主评议 and the township's 乡审 (what the county approves)."""
        return self.village_decision == "approve" and self.township_decision == "approve"

    @property
    def noticed(self) -> bool:
        """On the public notice (公示): passed the village's 民主评议."""
        return self.village_decision == "approve"

    @property
    def damage_class(self) -> str:
        """The damage class the rules and the roll go by: the township's check, else the registry."""
        return self.checked_damage_class or self.household.damage_class

    def to_dict(self, *, show_id: bool = False) -> dict:
        h = self.household
        return {"id": self.id, "cycle_id": self.cycle_id, "household_id": self.household_id,
                "head_name": h.head_name,
                "id_number": h.id_number if show_id else idcard.mask_id(h.id_number),
                "village_code": h.village_code, "persons": self.persons, "deceased": self.deceased,
                "needs": self.needs or {}, "eligible": self.eligible, "reasons": self.reasons or [],
                "priority": self.priority, "work_type": self.work_type,
                "village_decision": self.village_decision, "village_note": self.village_note,
                "township_decision": self.township_decision, "township_note": self.township_note,
                "checked_at": self.checked_at.isoformat() if self.checked_at else None,
                "checked_damage_class": self.checked_damage_class, "excluded": bool(self.excluded),
                "approved": self.approved}
