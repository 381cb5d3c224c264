"""What other departments read and send (部门共享, :mod:`app.departments`), once that area has
checked its permission: the households of a region as plain rows (every field a department may
be given; the departments area keeps only its own), and a house-safety appraisal's damage class."""
from __future__ import annotations

from sqlalchemy import select

from ... import audit
from ...errors import Invalid, NotFound
from ...extensions import db
from .base import region_names, within_clause
from ..models import Household, ReconstructionProject
from ..rules import DAMAGE_CLASSES, STAGE_LABELS


def household_rows(region_code: str, limit: int = 20000) -> list[dict]:
    """Every household of ``region_code`` with the fields departments may be given."""
    households = db.session.scalars(select(Household).where(within_clause(Household.village_code, region_code))
                                    .order_by(Household.village_code, Household.id).limit(limit)).all()
    stages = {p.household_id: STAGE_LABELS.get(p.stage, p.stage) for p in db.session.scalars(
        select(ReconstructionProject).where(ReconstructionProject.household_id.in_([h.id for h in households])))}
    names = region_names({h.village_code for h in households})
    return [{"id": h.id, "village_code": h.village_code, "village": names.get(h.village_code, h.village_code),
             "head_name": h.head_name, "id_number": h.id_number,
             "members": h.members, "contact": h.contact, "address": h.address, "bank_name": h.bank_name,
             "damage_class": DAMAGE_CLASSES.get(h.damage_class, h.damage_class),
             "reconstruction_stage": stages.get(h.id, ""), "no_livelihood": h.no_livelihood,
             "dibao": h.dibao, "tekun": h.tekun} for h in households]


def set_damage_class(user, household_id: int, damage_class: str, note: str) -> tuple[str, str]:
    """Set a household's damage class from a house-safety appraisal (住建房屋安全鉴定); returns
    ``(before, after)``. The caller has checked permission and commits."""
    household = db.session.get(Household, household_id)
    if household is None:
        raise NotFound(f"受灾户 {household_id} 不存在。")
    if damage_class not in DAMAGE_CLASSES:
        raise Invalid("房屋损坏等级有误。", [{"field": "damage_class", "message": "不在可选等级中"}])
    before = household.damage_class
    household.damage_class = damage_class
    audit.record(user, "household.appraisal", "household", household.id, before={"damage_class": before},
                 after={"damage_class": damage_class}, note=note[:500], region_code=household.village_code)
    return before, damage_class


def household_region(household_id: int) -> str | None:
    household = db.session.get(Household, household_id)
    return household.village_code if household else None


def households_brief(*, region_code: str | None = None, ids=None, id_number: str | None = None,
                     limit: int = 20000) -> list[dict]:
    """Households of the registry as the distribution points (发放签领, :mod:`app.distribution`)
    read them, once that area checked its permission: id, village, head, identity number and
    size; of a region, of some ids, or with one identity number."""
    stmt = select(Household.id, Household.village_code, Household.head_name, Household.id_number,
                  Household.members)  # columns, not entities: a hand-out reads one household per request
    if region_code is not None:
        stmt = stmt.where(within_clause(Household.village_code, region_code))
    if ids is not None:
        stmt = stmt.where(Household.id.in_(list(ids)))
    if id_number is not None:
        stmt = stmt.where(Household.id_number == id_number)
    rows = db.session.execute(stmt.order_by(Household.village_code, Household.id).limit(limit)).all()
    return [row._asdict() for row in rows]
