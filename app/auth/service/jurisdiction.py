"""Jurisdiction (管辖范围) in user administration: a region given by code or by name, the names of
regions to show, the users inside an admin's region, and the peer rule (a non-national admin
does not manage an admin of their very own region: only an admin above, or a national one)."""
from __future__ import annotations

from sqlalchemy import select

from gis import codes

from ...errors import Forbidden, Invalid
from ...extensions import db
from ...regions import Region, region_names
from ..models import User
from .common import t

#: Regions offered in the new-user form's list, at most.
REGION_CHOICES = 500


def _refused(field: str, message: str) -> Invalid:
    return Invalid(t("区划有误。"), [{"field": field, "message": message}])


def resolve_region(actor, text: str, field: str = "region_code") -> str:
    """A region given by code or by name (名称; ``text`` as read by its ``Field``), inside
    ``actor``'s jurisdiction when given; a 422 naming ``field`` otherwise (unknown, ambiguous,
    not a code)."""
    if text in ("全国", "national") or text.isdigit():
        try:
            code = codes.NATIONAL if not text.isdigit() else codes.normalise(text)
        except codes.CodeError as exc:
            raise _refused(field, str(exc)) from None
        if code != codes.NATIONAL and db.session.get(Region, code) is None:
            raise _refused(field, t("区划 %(code)s 不存在，请先导入区划", code=code))
        return code
    stmt = select(Region.code, Region.name).where(Region.name == text).order_by(Region.code).limit(6)
    if actor is not None and actor.region_code != codes.NATIONAL:
        stmt = stmt.where(Region.code.like(codes.prefix_of(actor.region_code) + "%"))
    found = db.session.execute(stmt).all()
    if not found:
        raise _refused(field, t("没有名为「%(name)s」的区划（或不在您的管辖范围内）", name=text))
    if len(found) > 1:
        listed = "、".join(f"{name}（{code}）" for code, name in found[:5])
        raise _refused(field, t("名为「%(name)s」的区划不止一个，请填写代码：%(list)s", name=text, list=listed))
    return found[0][0]


def region_errors(actor, text: str | None, errors: list[dict], field: str = "region_code") -> str | None:
    """:func:`resolve_region` gathering its refusal into ``errors`` (``None`` then, and when
    ``text`` is ``None``: its field error says why)."""
    if text is None:
        return None
    try:
        return resolve_region(actor, text, field)
    except Invalid as exc:
        errors.extend(exc.errors)
        return None


def within_jurisdiction(stmt, actor):
    """``stmt`` (a ``select`` of users) narrowed to the users inside ``actor``'s region."""
    if actor.region_code != codes.NATIONAL:
        stmt = stmt.where(User.region_code.like(codes.prefix_of(actor.region_code) + "%"))
    return stmt


def refuse_peer_admin(actor, role: str, region_code: str, user_id: int | None = None) -> None:
    """A non-national admin does not manage an admin of their own region (nor make one)."""
    if (role == "admin" and region_code == actor.region_code and actor.region_code != codes.NATIONAL
            and user_id != actor.id):
        raise Forbidden(t("同级管理员只能由上级或全国管理员管理。"))


def region_choices(actor) -> list[tuple[str, str]]:
    """Regions down to the county inside ``actor``'s jurisdiction, for the region input's list."""
    stmt = (select(Region.code, Region.name).where(Region.level.in_(("province", "prefecture", "county")))
            .order_by(Region.code).limit(REGION_CHOICES))
    if actor.region_code != codes.NATIONAL:
        stmt = stmt.where(Region.code.like(codes.prefix_of(actor.region_code) + "%"))
    return [tuple(row) for row in db.session.execute(stmt)]
