"""What the relief-work services share: subtree conditions on region codes, the event's regions
and the unit a page or query is about."""
from __future__ import annotations

from sqlalchemy import select

from gis import codes

from ...errors import Invalid, NotFound
from ...extensions import db
from ...i18n import translate
from ...permissions import require
from ...regions import Region, subtree_condition
from ...reports import event_covers
from ...validation import Field, validate

CODE_ARG = Field("code", required=False, description="区划代码（6、9 或 12 位）")


#: A SQL condition: the column is the code or one of its descendants.
within = subtree_condition


def inside_event(event, code: str, strict: bool = False) -> bool:
    """``code`` lies in one of the event's affected regions (or, unless ``strict``, contains one)."""
    return event_covers(event, code, strict)


def code_arg(value, name: str = "region_code") -> str | None:
    """An optional region-code argument, normalised (a 422 naming it when malformed)."""
    if value in (None, ""):
        return None
    out, errors = validate({name: CODE_ARG}, {name: value})
    if errors:
        raise Invalid(translate("查询参数有误。"), errors)
    return out[name]


def unit_of(user, event, region_code) -> str:
    """The unit a page or query is about: ``region_code`` (it exists, the user may see it) or,
    absent, the user's jurisdiction when it lies in the event, else the event's first affected
    region inside the jurisdiction."""
    code = code_arg(region_code)
    if code is None:
        mine = user.region_code
        if mine != codes.NATIONAL and inside_event(event, mine):
            code = mine
        else:
            inside = [c for c in event.region_codes if codes.is_within(c, mine)]
            code = (inside or event.region_codes or [mine])[0]
    require(user, "relief_work.view", code)
    if db.session.get(Region, code) is None:
        raise NotFound(translate("区划 %(code)s 不存在。", code=code))
    return code


def rows_of(event, code: str) -> list[Region]:
    """The unit ``code`` and the regions right below it that the event touches."""
    unit = db.session.get(Region, code)
    below = db.session.scalars(select(Region).where(Region.parent_code == code).order_by(Region.code)).all()
    return [unit, *(r for r in below if inside_event(event, r.code))]
