"""The registry of affected households (受灾户台账): its fields, registering and correcting a
household (identity number checked by GB 11643 and unique in the registry), listing it within the
user's jurisdiction, and its Excel export (identity numbers masked for those who may not see them).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Mapping

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ... import audit
from ...errors import Conflict, Invalid, NotFound
from ...extensions import db
from ...i18n import translate
from ...permissions import can, require
from ...regions import Region, name_contains
from ...validation import Field, validate
from ... import idcard
from .. import excel
from ..models import Household
from ..rules import DAMAGE_CLASSES, FLAGS
from .base import refuse, region_names, show_id, within_clause

#: Household fields as the ledger stores them (受灾户台账); a blank optional field is its default.
HOUSEHOLD_FIELDS: dict[str, Field] = {
    "village_code": Field("code", description="12 位村级区划代码"),
    "head_name": Field("str", max_length=60, description="户主姓名"),
    "id_number": Field("str", max_length=24, description="户主公民身份号码（18 位，GB 11643 校验；空格忽略）"),
    "members": Field("int", min=1, max=99, description="家庭人口"),
    "damage_class": Field("str", required=False, default="none", choices=tuple(DAMAGE_CLASSES),
                          description="住房倒损：collapsed 倒塌 / severely_damaged 严重损坏 / "
                                      "generally_damaged 一般损坏 / none"),
    **{flag: Field("bool", required=False, default=False, description=label) for flag, label in FLAGS.items()},
    "contact": Field("str", required=False, default="", max_length=40),
    "address": Field("str", required=False, default="", max_length=200),
    "bank_account": Field("str", required=False, default="", max_length=40, description="一卡通账号"),
    "bank_name": Field("str", required=False, default="", max_length=60),
    "note": Field("str", required=False, default="", max_length=2000, multiline=True),
}
#: A correction (PATCH) gives only the fields it changes; each is checked by its field above.
HOUSEHOLD_PATCH_FIELDS = {name: replace(spec, required=False, default=None) for name, spec in HOUSEHOLD_FIELDS.items()}

DUPLICATE = "该身份证号码已在受灾户台账中。"
DUPLICATE_ERROR = {"field": "id_number", "message": "身份证号码已登记（台账内唯一）"}


def clean_household(data, *, partial: bool = False) -> tuple[dict, list[dict]]:
    """A household's fields checked (all of them, or only those given when ``partial``) by
    :data:`HOUSEHOLD_FIELDS` and the registry's rules: the village exists, the identity number's
    check character, an account of digits. Returns the clean values and every error."""
    fields = HOUSEHOLD_FIELDS
    if partial:
        fields = {name: spec for name, spec in HOUSEHOLD_FIELDS.items() if data.get(name) is not None}
    values, errors = validate(fields, data)
    refused = {error["field"] for error in errors}
    clean = {name: value for name, value in values.items() if name not in refused and value is not None}
    errors += _rule_errors(clean)
    return clean, errors


def _rule_errors(clean: dict) -> list[dict]:
    """Check (and normalise) the values that passed their fields; drop those refused."""
    errors: list[dict] = []
    if "village_code" in clean:
        region = db.session.get(Region, clean["village_code"])
        if region is None or region.level != "village":
            message = f"村 {clean['village_code']} 不存在" if region is None else "必须是 12 位村级区划代码"
            errors.append({"field": "village_code", "message": message})
            del clean["village_code"]
    if "id_number" in clean:
        try:
            clean["id_number"] = idcard.normalise(clean["id_number"])
        except idcard.IdNumberError as exc:
            errors.append({"field": "id_number", "message": translate(exc.message, **exc.params)})
            del clean["id_number"]
    if clean.get("bank_account"):
        account = clean["bank_account"].replace(" ", "")
        if account.isdigit():
            clean["bank_account"] = account
        else:
            errors.append({"field": "bank_account", "message": "账号只能包含数字"})
            del clean["bank_account"]
    return errors


def _registered(id_number: str) -> bool:
    return db.session.scalar(select(Household.id).filter_by(id_number=id_number)) is not None


def household_query(user, *, region_code: str | None = None, q: str | None = None,
                    damage_class: str | None = None):
    """The households ``user`` may see in ``region_code`` (their own jurisdiction by default)."""
    region_code = region_code or user.region_code
    require(user, "household.view", region_code)
    stmt = select(Household).where(within_clause(Household.village_code, region_code))
    if q:
        stmt = stmt.where(or_(name_contains(Household.head_name, q), Household.id_number == q.upper()))
    if damage_class:
        stmt = stmt.where(Household.damage_class == damage_class)
    return stmt.order_by(Household.village_code, Household.id)


def household_listing(user, *, region_code: str | None = None, q: str | None = None,
                      damage_class: str | None = None):
    """``(query, to_dict)`` for a page of households, numbers masked per region."""
    stmt = household_query(user, region_code=region_code, q=q, damage_class=damage_class)
    return stmt, lambda h: h.to_dict(show_id=show_id(user, h.village_code))


def get_household(user, household_id: int, action: str = "household.view") -> Household:
    household = db.session.get(Household, household_id)
    if household is None:
        raise NotFound(f"受灾户 {household_id} 不存在。")
    require(user, action, household.village_code)
    return household


def household_dict(user, household: Household) -> dict:
    """A household as the API shows it to ``user`` (numbers masked unless they may see them)."""
    require(user, "household.view", household.village_code)
    return household.to_dict(show_id=show_id(user, household.village_code))


def create_household(user, data) -> Household:
    """Register a household (a JSON body or the page's form)."""
    require(user, "household.edit")
    clean, errors = clean_household(data)
    if "village_code" in clean:
        require(user, "household.edit", clean["village_code"])
    refuse(errors, "受灾户信息有 {n} 处错误。")
    if _registered(clean["id_number"]):
        raise Conflict(DUPLICATE, [DUPLICATE_ERROR])
    household = Household(**clean, created_by_id=getattr(user, "id", None))
    db.session.add(household)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(DUPLICATE, [DUPLICATE_ERROR]) from None
    audit.record(user, "household.create", "household", household.id,
                 after={**household.to_dict(), "id_number": idcard.mask_id(household.id_number)},
                 region_code=household.village_code)
    db.session.commit()
    return household


def _known_fields(data) -> None:
    if not isinstance(data, Mapping):
        raise Invalid("请求体必须是 JSON 对象。", [{"field": "", "message": "请求体必须是 JSON 对象"}])
    unknown = sorted(set(data) - set(HOUSEHOLD_FIELDS))
    if unknown:
        raise Invalid("有不认识的字段。", [{"field": name, "message": "未知字段"} for name in unknown])


def update_household(user, household_id: int, data) -> Household:
    """Correct the fields given (a JSON body); the others stay."""
    household = get_household(user, household_id, "household.edit")
    _known_fields(data)
    clean, errors = clean_household(data, partial=True)
    if "village_code" in clean:
        require(user, "household.edit", clean["village_code"])
    refuse(errors, "受灾户信息有 {n} 处错误。")
    if "id_number" in clean and clean["id_number"] != household.id_number and _registered(clean["id_number"]):
        raise Conflict(DUPLICATE, [DUPLICATE_ERROR])
    before = {k: getattr(household, k) for k in clean}
    for key, value in clean.items():
        setattr(household, key, value)
    for record in (before, clean):
        if "id_number" in record:
            record["id_number"] = idcard.mask_id(record["id_number"])
    audit.record(user, "household.update", "household", household.id, before=before, after=dict(clean),
                 region_code=household.village_code)
    db.session.commit()
    return household


def export_ledger(user, region_code: str | None = None, *, unit_default: str | None = None) -> bytes:
    """The registry of ``region_code`` (the user's own by default) as a workbook."""
    region_code = region_code or user.region_code
    rows = db.session.scalars(household_query(user, region_code=region_code)).all()
    region = db.session.get(Region, region_code)
    unit = region.name if region else (unit_default or region_code)
    return excel.write_ledger(rows, show_id=show_id(user, region_code),
                              village_names=region_names(h.village_code for h in rows), unit=unit)


def households_page(user, *, q: str | None = None, damage_class: str | None = None) -> dict:
    """What the registry page shows ``user``: the first 1,000 households of their jurisdiction."""
    rows = db.session.scalars(household_query(user, q=q, damage_class=damage_class).limit(1000)).all()
    return {"households": rows, "q": q or "", "damage": damage_class, "damage_classes": DAMAGE_CLASSES,
            "flags": FLAGS, "show": lambda h: show_id(user, h.village_code),
            "names": region_names(h.village_code for h in rows),
            "can_edit": can(user, "household.edit", user.region_code)}
