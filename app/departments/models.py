"""Department sharing (部门共享): which fields each department's accounts may see, and the
house-safety appraisals (房屋安全鉴定) 住建 sends, each with its document attached."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from ..extensions import db
from ..models_common import utcnow
from ..types import UTCDateTime

#: Every household field a department may be given, with its column heading.
FIELD_LABELS = {
    "village": "村（社区）", "head_name": "户主", "members": "家庭人口", "address": "住址",
    "damage_class": "房屋损坏等级", "reconstruction_stage": "重建进度", "no_livelihood": "无生活来源",
    "contact": "联系电话", "id_number": "身份证号", "bank_name": "开户银行", "dibao": "低保", "tekun": "特困",
}
#: 信息核对: each department sees only the fields its task needs (domain.md §3b). The registry
#: of affected households holds no pupils or injured persons one by one: 教育 and 卫健 get the
#: households and their size to find them with their own records.
DEPARTMENT_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "dept_housing": ("倒损住房台账与恢复重建进度",
                     ("village", "head_name", "address", "damage_class", "reconstruction_stage")),
    "dept_education": ("受灾户中的在校学生（按户核对学籍）", ("village", "head_name", "members")),
    "dept_hrss": ("无生活来源受灾户的就业援助", ("village", "head_name", "members", "no_livelihood")),
    "dept_health": ("受灾户的伤病救治与卫生防疫", ("village", "head_name", "members", "contact")),
    "dept_police": ("身份核对与失踪人员核查", ("village", "head_name", "id_number", "address")),
    "dept_finance": ("救助资金拨付对象核对", ("village", "head_name", "bank_name", "dibao", "tekun")),
}


class HouseAppraisal(db.Model):
    """A house-safety appraisal of a household's house by 住建, and the damage class it set."""

    __tablename__ = "house_appraisal"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    appraisal_no: Mapped[str] = mapped_column(String(60))
    appraised_on: Mapped[date] = mapped_column(Date)
    damage_class_before: Mapped[str] = mapped_column(String(20))
    damage_class: Mapped[str] = mapped_column(String(20))
    file_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
