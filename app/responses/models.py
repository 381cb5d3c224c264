"""Tables of the response area (应急响应): plan versions, the response history and the
assessment snapshot that notifications compare against."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models_common import make_append_only, utcnow
from ..statemachine import StateMachine
from ..types import JSONType, UTCDateTime

ACTIONS = {"start": "启动", "adjust": "调整", "end": "终止"}

#: A response of one plan for one unit within one event: none → active ⇄ (adjust) → ended;
#: an ended response may be started again.
RESPONSE_MACHINE = StateMachine(
    "应急响应",
    {("none", "start"): "active", ("active", "adjust"): "active", ("active", "end"): "ended",
     ("ended", "start"): "active"},
    labels={"none": "未启动", "active": "响应中", "ended": "已终止"},
)


class ContingencyPlan(db.Model):
    """One uploaded version of a contingency plan (应急预案).

    A new upload of the same ``plan_id`` is a new row; older rows are kept so that decisions can
    point to the version they were made under. At most one version of a plan is ``active``: that
    is the one assessments use.
    """

    __tablename__ = "contingency_plan"
    __table_args__ = (
        UniqueConstraint("plan_id", "version", name="uq_contingency_plan_plan_id_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    jurisdiction_code: Mapped[str] = mapped_column(String(12), index=True)
    unit_level: Mapped[str] = mapped_column(String(12))
    document: Mapped[dict] = mapped_column(JSONType)
    source_text: Mapped[str | None] = mapped_column(Text)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_by: Mapped[str] = mapped_column(String(80), default="system")
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)

    def version_dict(self) -> dict:
        return {"version": self.version, "name": self.name, "active": self.active,
                "uploaded_by": self.uploaded_by, "uploaded_at": self.uploaded_at.isoformat()}


class ResponseAction(db.Model):
    """One decision on a response (启动 / 调整 / 终止), append-only.

    ``sequence`` numbers the actions of one (event, plan, unit) 1, 2, 3 …; the unique constraint
    makes two concurrent decisions on the same response unable to both succeed.
    """

    __tablename__ = "response_action"
    __table_args__ = (
        UniqueConstraint("event_id", "plan_id", "region_code", "sequence",
                         name="uq_response_action_event_plan_region_sequence"),
        Index("ix_response_action_event", "event_id", "plan_id", "region_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    plan_id: Mapped[str] = mapped_column(String(80))
    plan_version: Mapped[str] = mapped_column(String(40))
    contingency_plan_id: Mapped[int] = mapped_column(ForeignKey("contingency_plan.id"))
    jurisdiction_code: Mapped[str] = mapped_column(String(12))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    sequence: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(8))
    level: Mapped[str] = mapped_column(String(20))
    rank: Mapped[int] = mapped_column(Integer)
    recommended_rank: Mapped[int | None] = mapped_column(Integer)
    forecast: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    username: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "event_id": self.event_id, "plan_id": self.plan_id,
                "plan_version": self.plan_version, "jurisdiction_code": self.jurisdiction_code,
                "region_code": self.region_code, "action": self.action,
                "action_label": ACTIONS[self.action], "level": self.level, "rank": self.rank,
                "recommended_rank": self.recommended_rank, "forecast": self.forecast,
                "reason": self.reason, "by": self.username, "at": self.at.isoformat()}


make_append_only(ResponseAction)


class Assessment(db.Model):
    """The latest assessment of an event (评估快照): what the last recompute recommended, so the
    next one can tell a new or higher tier and notify."""

    __tablename__ = "response_assessment"

    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), primary_key=True)
    evaluations: Mapped[list] = mapped_column(JSONType)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Reports arrived after ``computed_at``; the scheduler's sweep recomputes it.
    stale: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
