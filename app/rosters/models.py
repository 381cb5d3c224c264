"""Tables of the statistics rosters (统计报表名册) and of review upward (审核/退回):

- :class:`Casualty`, the roster of the dead and missing (因灾死亡失踪人口一览表), one row per
  person, and :class:`CasualtyChange`, the append-only record of each change of status (a
  missing person found dead or alive) with its reason;
- :class:`DamagedHouse`, the roster of collapsed and damaged houses (因灾倒塌损坏住房户一览表), one
  row per household and damage class;
- :class:`RosterNote`, the append-only explanations of why a unit's figures differ from its
  roster (they hold the counts they explain, so a later change makes them stale);
- :class:`ReportText`, the text descriptions a unit files with its figures (灾情文字说明,
  救灾工作文字说明), append-only: the latest of each kind stands;
- :class:`ReportReview`, the append-only acceptances and returns of a unit's report by the level
  above.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models_common import make_append_only, utcnow
from ..statemachine import StateMachine
from ..types import JSONType, UTCDateTime

SEXES = {"male": "男", "female": "女"}
#: 死亡 / 失踪, and 失踪后生还 (counted in neither).
CASUALTY_STATUSES = {"dead": "死亡", "missing": "失踪", "found_alive": "失踪后生还"}
#: A missing person found dead or alive (找到遗体 / 生还), or a person recorded dead found alive:
#: each change records why.
CASUALTY_MACHINE = StateMachine(
    "因灾死亡失踪人员",
    {("missing", "found_dead"): "dead", ("missing", "found_alive"): "found_alive",
     # a death recorded in error: the person is alive (cancels an unpaid condolence line)
     ("dead", "death_disproved"): "found_alive"},
    labels=CASUALTY_STATUSES,
)
CHANGE_LABELS = {"found_dead": "确认死亡", "found_alive": "生还", "death_disproved": "死亡登记有误，人员生还"}
#: 倒塌 / 严重损坏 / 一般损坏, with the report's indicators they count towards.
DAMAGE_CLASSES = {"collapsed": "倒塌", "severe": "严重损坏", "general": "一般损坏"}
DAMAGE_FIGURES = {"collapsed": ("collapsed_households", "collapsed_rooms"),
                  "severe": ("severely_damaged_households", "severely_damaged_rooms"),
                  "general": ("generally_damaged_households", "generally_damaged_rooms")}
ROSTERS = {"casualty": "因灾死亡失踪人口一览表", "housing": "因灾倒塌损坏住房户一览表"}
DECISIONS = {"accept": "审核通过", "return": "退回"}
TEXT_KINDS = {"disaster": "灾情文字说明", "relief": "救灾工作文字说明"}


class Casualty(db.Model):
    """One person dead or missing in an event (因灾死亡失踪人口一览表). An identity number is on
    the roster once, whatever the unit or event (a person dies once)."""

    __tablename__ = "casualty"
    __table_args__ = (UniqueConstraint("id_number"), Index("ix_casualty_event_region", "event_id", "region_code"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    name: Mapped[str] = mapped_column(String(50))
    sex: Mapped[str] = mapped_column(String(8))
    id_number: Mapped[str] = mapped_column(String(18))
    age: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(200))
    occurred_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200))
    cause: Mapped[str] = mapped_column(String(200))
    hazard: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CasualtyChange(db.Model):
    """A change of a person's status (失踪 → 死亡 or 生还), with its reason: never edited."""

    __tablename__ = "casualty_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    casualty_id: Mapped[int] = mapped_column(ForeignKey("casualty.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    changed_by: Mapped[str] = mapped_column(String(80))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


make_append_only(CasualtyChange)


class DamagedHouse(db.Model):
    """One household's collapsed or damaged house in one damage class (因灾倒塌损坏住房户一览表)."""

    __tablename__ = "damaged_house"
    __table_args__ = (UniqueConstraint("event_id", "id_number", "damage_class"),
                      Index("ix_damaged_house_event_region", "event_id", "region_code"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    head_name: Mapped[str] = mapped_column(String(50))
    id_number: Mapped[str] = mapped_column(String(18))
    address: Mapped[str] = mapped_column(String(200))
    rooms: Mapped[int] = mapped_column(Integer)
    damage_class: Mapped[str] = mapped_column(String(12))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RosterNote(db.Model):
    """Why a unit's reported figures differ from its roster (差异说明). ``counts`` holds the
    roster's and the report's figures it explains: once either changes, the note no longer
    covers the difference and a new one is needed."""

    __tablename__ = "roster_note"
    __table_args__ = (Index("ix_roster_note_event_region", "event_id", "region_code", "roster"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    roster: Mapped[str] = mapped_column(String(12))
    counts: Mapped[dict] = mapped_column(JSONType)
    text: Mapped[str] = mapped_column(Text)
    written_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    written_by: Mapped[str] = mapped_column(String(80))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


make_append_only(RosterNote)


class ReportReview(db.Model):
    """The level above accepting (审核通过) or returning (退回) a unit's report, with a reason.

    A unit's figures count as reviewed once its latest report is accepted; a returned report is
    corrected by filing a new one, which is pending again."""

    __tablename__ = "report_review"
    __table_args__ = (UniqueConstraint("report_id"), Index("ix_report_review_event_region", "event_id", "region_code"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    report_id: Mapped[int] = mapped_column(ForeignKey("loss_report.id"))
    decision: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_by: Mapped[str] = mapped_column(String(80))
    reviewer_region_code: Mapped[str] = mapped_column(String(12))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "event_id": self.event_id, "region_code": self.region_code,
                "report_id": self.report_id, "decision": self.decision, "reason": self.reason,
                "reviewed_by": self.reviewed_by, "reviewer_region_code": self.reviewer_region_code,
                "reviewed_at": self.reviewed_at.isoformat()}


make_append_only(ReportReview)


class ReportText(db.Model):
    """A unit's text description for an event (灾情文字说明: background, course, features, trend;
    救灾工作文字说明: measures, forces, money, goods, needs, difficulties, next steps). Never
    edited: a new version is a new row."""

    __tablename__ = "report_text"
    __table_args__ = (Index("ix_report_text_event_region", "event_id", "region_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    kind: Mapped[str] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(Text)
    written_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    written_by: Mapped[str] = mapped_column(String(80))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


make_append_only(ReportText)
