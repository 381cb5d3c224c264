"""Tables of the relief cycles (救助周期): households, cycles, frozen rolls, payments and funds.

Money is stored in fen (分, integers). Ledgers and snapshots are append-only: roll entries
(the frozen 救助名册), payments, fund ledger entries, progress reports and needs submissions are
never updated or deleted through the ORM (``make_append_only``), and a roll or a payment batch
whose status is final refuses every change.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer,
                        String, Text, UniqueConstraint, event, inspect)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models_common import AppendOnlyError, make_append_only, utcnow
from ..statemachine import StateMachine
from ..types import JSONType, UTCDateTime
from . import idcard
from .rules import DAMAGE_CLASSES, FLAGS, KINDS, STAGE_LABELS, STAGES, WORK_TYPES, Instalment

STATUS_LABELS = {
    "draft": "草稿", "survey": "调查摸底（户报）", "review": "评议审核（村评、乡审）", "notice": "公示中",
    "approved": "已审定（县定）", "disbursing": "发放中", "closed": "已结束", "cancelled": "已撤销",
}
ACTION_LABELS = {
    "open_survey": "开始调查", "submit_review": "提交评议审核", "start_notice": "开始公示",
    "return_to_review": "退回评议（公示有异议）", "approve": "县级审定（冻结名册）",
    "disburse": "开始发放", "close": "结束", "cancel": "撤销",
}


def _notice_over(cycle: "Cycle") -> str | None:
    now = utcnow()
    if cycle.notice_ends_at is None or now < cycle.notice_ends_at:
        ends = cycle.notice_ends_at.isoformat() if cycle.notice_ends_at else "未开始"
        return f"公示期未满（公示至 {ends}），不能审定。"
    return None


def _no_open_complaints(cycle: "Cycle") -> str | None:
    from sqlalchemy import func, select

    open_count = db.session.scalar(select(func.count(Complaint.id)).where(
        Complaint.cycle_id == cycle.id, Complaint.status == "open"))
    if open_count:
        return f"还有 {open_count} 件投诉举报未办结，不能审定。"
    return None


def _has_beneficiaries(cycle: "Cycle") -> str | None:
    from sqlalchemy import func, select

    count = db.session.scalar(select(func.count(Beneficiary.id)).where(Beneficiary.cycle_id == cycle.id))
    return None if count else "尚未登记任何救助对象，不能提交评议。"


def _reviews_done(cycle: "Cycle") -> str | None:
    from sqlalchemy import select

    rows = db.session.scalars(select(Beneficiary).where(Beneficiary.cycle_id == cycle.id)).all()
    pending = [b for b in rows if b.township_decision is None and b.village_decision != "reject"]
    if pending:
        return f"还有 {len(pending)} 户未完成村评或乡审，不能开始公示。"
    if not any(b.approved for b in rows):
        return "没有通过村评和乡审的救助对象，不能开始公示。"
    return None


def _fund_line_fits(cycle: "Cycle") -> str | None:
    if cycle.fund_line is None:
        return "尚未指定资金指标（专款专用），不能开始发放。"
    if cycle.fund_line.relief_item != cycle.kind:
        return "资金指标的救助项目与本周期不符（专款专用）。"
    return None


#: 救助周期 status (domain.md §4): draft → survey → review (村评/乡审) → notice (公示) →
#: approved (县定) → disbursing → closed; cancel before approval.
CYCLE_MACHINE = StateMachine(
    "救助周期",
    {
        ("draft", "open_survey"): "survey",
        ("survey", "submit_review"): "review",
        ("review", "start_notice"): "notice",
        ("notice", "return_to_review"): "review",
        ("notice", "approve"): "approved",
        ("approved", "disburse"): "disbursing",
        ("disbursing", "close"): "closed",
        ("draft", "cancel"): "cancelled",
        ("survey", "cancel"): "cancelled",
        ("review", "cancel"): "cancelled",
        ("notice", "cancel"): "cancelled",
    },
    labels=STATUS_LABELS,
    guards={
        "submit_review": (_has_beneficiaries,),
        "start_notice": (_reviews_done,),
        "approve": (_notice_over, _no_open_complaints),
        "disburse": (_fund_line_fits,),
    },
)


class Household(db.Model):
    """A household in the registry of affected households (受灾户台账)."""

    __tablename__ = "household"
    __table_args__ = (CheckConstraint("members >= 1", name="members_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    head_name: Mapped[str] = mapped_column(String(60))
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    members: Mapped[int] = mapped_column(Integer)
    contact: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    bank_account: Mapped[str] = mapped_column(String(40), default="")
    bank_name: Mapped[str] = mapped_column(String(60), default="")
    damage_class: Mapped[str] = mapped_column(String(20), default="none")
    no_housing: Mapped[bool] = mapped_column(Boolean, default=False)
    no_livelihood: Mapped[bool] = mapped_column(Boolean, default=False)
    no_self_rescue: Mapped[bool] = mapped_column(Boolean, default=False)
    dibao: Mapped[bool] = mapped_column(Boolean, default=False)
    tekun: Mapped[bool] = mapped_column(Boolean, default=False)
    cannot_return: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def flags(self) -> dict[str, bool]:
        return {name: bool(getattr(self, name)) for name in FLAGS}

    def facts(self) -> dict:
        """What the eligibility rules read."""
        return {"damage_class": self.damage_class, **self.flags()}

    def to_dict(self, *, show_id: bool = False) -> dict:
        return {"id": self.id, "village_code": self.village_code, "head_name": self.head_name,
                "id_number": self.id_number if show_id else idcard.mask_id(self.id_number),
                "id_number_masked": not show_id, "members": self.members, "contact": self.contact,
                "address": self.address,
                "bank_account": self.bank_account if show_id else idcard.mask_account(self.bank_account),
                "bank_name": self.bank_name, "damage_class": self.damage_class,
                "damage_label": DAMAGE_CLASSES.get(self.damage_class, self.damage_class),
                **self.flags(), "note": self.note,
                "updated_at": self.updated_at.isoformat() if self.updated_at else None}


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
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
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
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    household = relationship("Household", lazy="joined")

    @property
    def approved(self) -> bool:
        return self.village_decision == "approve" and self.township_decision == "approve"

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
                "approved": self.approved}


class Roll(db.Model):
    """A roll (救助名册): the main roll frozen at approval, or a supplementary roll (补充名册) for
    corrections, additions and extensions, which has its own notice and is then frozen.
    A frozen or cancelled roll refuses every change."""

    __tablename__ = "relief_roll"
    __table_args__ = (UniqueConstraint("cycle_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("relief_cycle.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 0: the main roll
    kind: Mapped[str] = mapped_column(String(14))  # main | supplementary
    purpose: Mapped[str] = mapped_column(String(10))  # approval | add | adjust | extend
    status: Mapped[str] = mapped_column(String(10))  # notice | frozen | cancelled
    reason: Mapped[str] = mapped_column(Text, default="")
    approval_ref: Mapped[str | None] = mapped_column(String(100))
    months_total: Mapped[int | None] = mapped_column(Integer)
    notice_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    frozen_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    entry_count: Mapped[int] = mapped_column(Integer, default=0)

    def to_dict(self) -> dict:
        iso = lambda v: v.isoformat() if v else None  # noqa: E731
        return {"id": self.id, "cycle_id": self.cycle_id, "seq": self.seq, "kind": self.kind,
                "purpose": self.purpose, "status": self.status, "reason": self.reason,
                "approval_ref": self.approval_ref, "months_total": self.months_total,
                "notice_started_at": iso(self.notice_started_at), "notice_ends_at": iso(self.notice_ends_at),
                "frozen_at": iso(self.frozen_at), "total": self.total_fen / 100,
                "entry_count": self.entry_count}


@event.listens_for(Roll, "before_update")
def _roll_final(_mapper, _connection, target):
    history = inspect(target).attrs.status.history
    before = history.deleted[0] if history.deleted else target.status
    if before in ("frozen", "cancelled"):
        raise AppendOnlyError("已冻结或已撤销的名册不能修改；更正请另立补充名册")


@event.listens_for(Roll, "before_delete")
def _roll_kept(_mapper, _connection, _target):
    raise AppendOnlyError("名册不能删除")


class RollEntry(db.Model):
    """One household in a roll, as it stood when the roll was made (a snapshot), with the
    instalments it is owed. Never edited."""

    __tablename__ = "relief_roll_entry"
    __table_args__ = (UniqueConstraint("roll_id", "household_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    roll_id: Mapped[int] = mapped_column(ForeignKey("relief_roll.id"), index=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("relief_cycle.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    head_name: Mapped[str] = mapped_column(String(60))
    id_number: Mapped[str] = mapped_column(String(18))
    village_code: Mapped[str] = mapped_column(String(12))
    persons: Mapped[int] = mapped_column(Integer)
    deceased: Mapped[int] = mapped_column(Integer, default=0)
    damage_class: Mapped[str] = mapped_column(String(20))
    work_type: Mapped[str | None] = mapped_column(String(10))
    basis: Mapped[dict] = mapped_column(JSONType)
    instalments: Mapped[list] = mapped_column(JSONType)
    total_fen: Mapped[int] = mapped_column(BigInteger)

    def plan(self) -> list[Instalment]:
        return [Instalment.from_dict(i) for i in self.instalments]

    def to_dict(self, *, show_id: bool = False) -> dict:
        return {"id": self.id, "roll_id": self.roll_id, "household_id": self.household_id,
                "head_name": self.head_name,
                "id_number": self.id_number if show_id else idcard.mask_id(self.id_number),
                "village_code": self.village_code, "persons": self.persons, "deceased": self.deceased,
                "damage_class": self.damage_class, "work_type": self.work_type, "basis": self.basis,
                "instalments": [{**i, "amount": i["amount_fen"] / 100} for i in self.instalments],
                "total": self.total_fen / 100}


make_append_only(RollEntry)


class PaymentRoll(db.Model):
    """A payment batch (发放批次): what fell due in one cycle at one scheduler period, for the
    bank (一卡通). One per (cycle, period); generated idempotently and resumed after a crash."""

    __tablename__ = "payment_roll"
    __table_args__ = (UniqueConstraint("cycle_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("relief_cycle.id"), index=True)
    period: Mapped[str] = mapped_column(String(20))
    cutoff: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="generating")  # generating | complete
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    payment_count: Mapped[int] = mapped_column(Integer, default=0)
    shortfall_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def to_dict(self) -> dict:
        return {"id": self.id, "cycle_id": self.cycle_id, "period": self.period,
                "cutoff": self.cutoff.isoformat(), "status": self.status, "total": self.total_fen / 100,
                "payment_count": self.payment_count, "shortfall": self.shortfall_fen / 100,
                "created_at": self.created_at.isoformat(),
                "completed_at": self.completed_at.isoformat() if self.completed_at else None}


@event.listens_for(PaymentRoll, "before_update")
def _payment_roll_final(_mapper, _connection, target):
    history = inspect(target).attrs.status.history
    before = history.deleted[0] if history.deleted else target.status
    if before == "complete":
        raise AppendOnlyError("已完成的发放批次不能修改")


class Payment(db.Model):
    """One payment: one instalment of one household, debiting exactly one fund line.
    ``(cycle, household, period)`` is unique: nothing is ever paid twice."""

    __tablename__ = "payment"
    __table_args__ = (
        UniqueConstraint("cycle_id", "household_id", "period"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("relief_cycle.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    period: Mapped[str] = mapped_column(String(30))
    payment_roll_id: Mapped[int] = mapped_column(ForeignKey("payment_roll.id"), index=True)
    roll_entry_id: Mapped[int] = mapped_column(ForeignKey("relief_roll_entry.id"))
    fund_line_id: Mapped[int] = mapped_column(ForeignKey("fund_line.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    label: Mapped[str] = mapped_column(String(100), default="")
    head_name: Mapped[str] = mapped_column(String(60))
    id_number: Mapped[str] = mapped_column(String(18))
    bank_account: Mapped[str] = mapped_column(String(40), default="")
    bank_name: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self, *, show_id: bool = False) -> dict:
        return {"id": self.id, "cycle_id": self.cycle_id, "household_id": self.household_id,
                "period": self.period, "label": self.label, "payment_roll_id": self.payment_roll_id,
                "fund_line_id": self.fund_line_id, "amount": self.amount_fen / 100,
                "head_name": self.head_name,
                "id_number": self.id_number if show_id else idcard.mask_id(self.id_number),
                "bank_account": self.bank_account if show_id else idcard.mask_account(self.bank_account),
                "created_at": self.created_at.isoformat()}


make_append_only(Payment)

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
    """One line of a fund ledger (资金台账, 分账核算): an allocation to a budget line or a payment
    from it, with the line's balance after it. Append-only."""

    __tablename__ = "fund_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("fund_line.id"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("fund_source.id"), index=True)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("relief_cycle.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(12))  # allocation | payment
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    balance_after_fen: Mapped[int] = mapped_column(BigInteger)
    username: Mapped[str] = mapped_column(String(80), default="system")
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "line_id": self.line_id, "source_id": self.source_id,
                "cycle_id": self.cycle_id, "payment_id": self.payment_id, "kind": self.kind,
                "amount": self.amount_fen / 100, "balance_after": self.balance_after_fen / 100,
                "user": self.username, "note": self.note, "at": self.at.isoformat()}


make_append_only(FundEntry)


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
        from .rules import report_due

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
