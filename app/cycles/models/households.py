"""The registry of affected households (受灾户台账): one row per household, identity number
unique across the registry, with its damage class and hardship flags (what eligibility reads)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ...extensions import db
from ...models_common import utcnow
from ...types import UTCDateTime
from ... import idcard
from ..rules import DAMAGE_CLASSES, FLAGS


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
