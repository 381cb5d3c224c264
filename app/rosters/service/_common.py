"""What the roster services share: the event and its regions, subtree conditions on region
codes, the unit a page or query is about, and region names."""
from __future__ import annotations

from sqlalchemy import select

from gis import codes

from ...errors import Invalid, NotFound
from ...extensions import db
from ...permissions import require
from ...regions import Region, subtree_condition
from ...reports import event_covers, get_event
from ...validation import Field, validate

CODE_ARG = Field("code", required=False, description="区划代码（6、9 或 12 位）")


#: A SQL condition: the column is the code or one of its descendants.
within = subtree_condition


def inside_event(event, code: str, strict: bool = False) -> bool:
    """``code`` lies in one of the event's affected regions (or, unless ``strict``, contains one)."""
    return event_covers(event, code, strict)


def unknown_region(code: str | None, field: str, errors: list[dict]) -> None:
    """Add an error naming ``field`` when the region ``code`` does not exist."""
    if code is not None and db.session.get(Region, code) is None:
        errors.append({"field": field, "message": f"区划 {code} 不存在"})


def code_arg(value, name: str = "region_code") -> str | None:
    """An optional region-code argument, normalised (a 422 naming it when malformed)."""
    if value in (None, ""):
        return None
    out, errors = validate({name: CODE_ARG}, {name: value})
    if errors:
        raise Invalid("查询参数有误。", errors)
    return out[name]


def unit_of(user, event, region_code) -> str:
    """The unit a page or query is about: ``region_code`` (checked: it exists, the user may see
    it) or, absent, the user's jurisdiction when it lies in the event, else the event's first
    affected region inside the jurisdiction."""
    code = code_arg(region_code)
    if code is None:
        mine = user.region_code
        if mine != codes.NATIONAL and inside_event(event, mine):
            code = mine
        else:
            inside = [c for c in event.region_codes if codes.is_within(c, mine)]
            code = (inside or event.region_codes or [mine])[0]
    require(user, "casualty.view", code)
    if db.session.get(Region, code) is None:
        raise NotFound(f"区划 {code} 不存在。")
    return code


def names_of(region_codes) -> dict[str, str]:
    wanted = sorted(set(region_codes))
    if not wanted:
        return {}
    return dict(db.session.execute(select(Region.code, Region.name).where(Region.code.in_(wanted))).all())


def children_in_event(event, code: str) -> list[Region]:
    """The regions right below ``code`` that the event touches."""
    rows = db.session.scalars(select(Region).where(Region.parent_code == code).order_by(Region.code)).all()
    return [r for r in rows if inside_event(event, r.code)]


def event_of(user, event_id: int):
    return get_event(user, event_id)
