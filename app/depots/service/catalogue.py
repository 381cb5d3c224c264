"""The catalogue (物资目录) and the demand norms (需求定额): which items exist, and how many of
each a region needs per person affected, configured per jurisdiction (``000000`` national) and
inherited by every region below that configured none.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

import stockpile
from gis import codes

from ... import audit
from ...errors import Invalid, NotFound
from ...extensions import db
from ...regions import Region
from ...validation import Field, validate
from ..models import DemandNorm, Item
from .common import allow, raise_if

NORMS_FIELDS = {"norms": Field("list", items="dict",
                               description="[{item, indicator, per_person | per_household, days, note}]")}


def list_items() -> list[Item]:
    """The catalogue, for services that checked permission (the dashboard's among them)."""
    return db.session.scalars(select(Item).order_by(Item.category, Item.code)).all()


def items_for(user) -> list[Item]:
    """The catalogue, for a user who may read it (reference data: every signed-in user)."""
    allow(user, "item.view")
    return list_items()


def ensure_catalogue(items=stockpile.DEFAULT_ITEMS) -> int:
    """Add the shipped catalogue items that are missing (never changes existing ones)."""
    added = 0
    for item in items:
        if db.session.get(Item, item.code) is None:
            db.session.add(Item(code=item.code, name=item.name, unit=item.unit, category=item.category,
                                shelf_life_days=item.shelf_life_days))
            added += 1
    db.session.flush()
    return added


def _catalogue_for_library() -> list[stockpile.Item]:
    return [stockpile.Item(row.code, row.name, row.unit, row.category, row.shelf_life_days) for row in list_items()]


def all_norms() -> dict[str, list[stockpile.DemandNorm]]:
    """Every configured norm, by the jurisdiction that configured it."""
    grouped: dict[str, list[stockpile.DemandNorm]] = defaultdict(list)
    for row in db.session.scalars(select(DemandNorm).order_by(DemandNorm.region_code, DemandNorm.id)):
        grouped[row.region_code].append(
            stockpile.DemandNorm(row.item_code, row.indicator, row.per_person, row.days, row.note))
    return grouped


def norms_for(region_code: str, grouped: dict | None = None) -> tuple[str, tuple]:
    """``(source_region, norms)``: the norms of the nearest jurisdiction at or above
    ``region_code`` that configured any; ``("default", stockpile.DEFAULT_NORMS)`` otherwise."""
    grouped = all_norms() if grouped is None else grouped
    for code in (region_code, *codes.ancestors(region_code), codes.NATIONAL):
        if grouped.get(code):
            return code, tuple(grouped[code])
    return "default", stockpile.DEFAULT_NORMS


def norms_as_dicts(region_code: str) -> dict:
    source, norms = norms_for(codes.normalise(region_code))
    return {"region_code": region_code, "source": source,
            "norms": [{"item": n.item, "indicator": n.indicator, "per_person": float(n.per_person),
                       "days": n.days, "note": n.note} for n in norms]}


def norms_of_region(user, region_code: str) -> dict:
    """The norms a region uses (its own, the nearest above, or the defaults), for a reader of
    the catalogue."""
    allow(user, "item.view")
    return norms_as_dicts(region_code)


def _jurisdiction(region_code: str) -> str:
    try:
        return codes.normalise(region_code)
    except codes.CodeError as exc:
        raise Invalid(str(exc), [{"field": "region_code", "message": str(exc)}]) from exc


def _checked_norms(data) -> list[stockpile.DemandNorm]:
    values, errors = validate(NORMS_FIELDS, data)
    raise_if(errors)
    try:
        norms = stockpile.norms_from_config(values["norms"], items=_catalogue_for_library())
    except stockpile.NormConfigError as exc:
        raise Invalid("需求定额有误。", [{"field": f"norms{name}", "message": message}
                                       for name, message in exc.errors]) from exc
    seen = set()
    for index, norm in enumerate(norms):
        if (norm.item, norm.indicator) in seen:
            errors.append({"field": f"norms[{index}].item", "message": "同一物资、同一指标只能有一条定额"})
        seen.add((norm.item, norm.indicator))
    raise_if(errors)
    return norms


def set_norms(user, region_code: str, data) -> dict:
    """Replace the norms of one jurisdiction (``000000`` is national) by ``data["norms"]``; an
    empty list removes them, so the region falls back to the level above."""
    code = _jurisdiction(region_code)
    allow(user, "stock.configure", code)
    if code != codes.NATIONAL and db.session.get(Region, code) is None:
        raise NotFound(f"区划 {code} 不存在。")
    norms = _checked_norms(data)
    before = norms_as_dicts(code)
    for row in db.session.scalars(select(DemandNorm).where(DemandNorm.region_code == code)):
        db.session.delete(row)
    db.session.flush()
    _add_norms(code, norms)
    after = norms_as_dicts(code)
    audit.record(user, "demand_norm.set", "demand_norm", code, before=before, after=after,
                 region_code=None if code == codes.NATIONAL else code)
    db.session.commit()
    return after


def _add_norms(code: str, norms) -> None:
    for norm in norms:
        db.session.add(DemandNorm(region_code=code, item_code=norm.item, indicator=norm.indicator,
                                  per_person=float(norm.per_person), days=norm.days, note=norm.note))
    db.session.flush()


def ensure_default_norms() -> bool:
    """Store ``stockpile.DEFAULT_NORMS`` as the national norms when no norm exists at all."""
    if db.session.scalar(select(func.count()).select_from(DemandNorm)):
        return False
    _add_norms(codes.NATIONAL, stockpile.DEFAULT_NORMS)
    return True
