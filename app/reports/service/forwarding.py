"""Forwarding (审核上报, 逐级上报): a prefecture or province reviews the reports from below and
forwards its rolled-up figures, meeting its own statutory deadline. Initial first, then updates;
one verified forwarding closes the unit. Also the forwardings a user may see and the event page's
forwarding panel (the units the user forwards for).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import make_transient_to_detached

from ... import audit
from ...database import commit_keeping_loaded, insert_unless_exists
from ...errors import Conflict, Forbidden, Invalid, RetryableConflict
from ...extensions import db
from ...models_common import utcnow
from ...permissions import can, require
from ...regions import Region
from ...validation import Field, validate
from ..models import REPORT_KINDS, Event, ReportForward
from ..totals import subtree_total, within_clause
from ._common import CODE_ARG, query
from .deadlines import reporting_tree
from .events import get_event

FORWARD_FIELDS = {
    "region_code": Field("code", description="上报单位：本次灾害过程须逐级上报的市或省的区划代码"),
    "kind": Field("str", choices=tuple(REPORT_KINDS), description="initial 初报 | update 续报 | final 核报"),
    "note": Field("str", required=False, max_length=4000, multiline=True, description="审核意见或说明"),
}
#: Forwardings listed in the event page's panel (the latest).
PANEL_HISTORY = 20


def forward(user, event_id: int, data: Any) -> ReportForward:
    """A prefecture or province forwards the reviewed figures of the levels below (审核上报).

    The figures are the unit's rolled-up total at this moment, recorded as forwarded; totals
    keep coming from the roll-up. The sequence is that of reports: initial first, then updates,
    one verified forwarding closes the unit (409 after it). ``data``: the JSON body or the
    posted page form.
    """
    require(user, "report.forward")
    event = get_event(user, event_id)
    values = _checked(user, event, data)
    code, kind = values["region_code"], values["kind"]
    last = db.session.scalar(select(ReportForward).filter_by(event_id=event.id, region_code=code)
                             .order_by(ReportForward.sequence.desc()).limit(1))
    _check_sequence(code, kind, last)
    total = subtree_total(event.id, code)
    row = ReportForward(event_id=event.id, region_code=code, kind=kind,
                        sequence=(last.sequence if last else 0) + 1, as_of=total.as_of,
                        figures=dict(total.figures), reporting_units=total.reporting_units,
                        note=(values["note"] or "").strip() or None, forwarded_by_id=user.id,
                        forwarded_by=user.username, forwarded_at=utcnow())
    _insert(row)
    audit.record(user, "report.forward", "report_forward", row.id,
                 after={"event_id": event.id, "kind": kind, "sequence": row.sequence,
                        "figures": row.figures, "reporting_units": row.reporting_units, "note": row.note},
                 region_code=code)
    commit_keeping_loaded()
    return row


def _checked(user, event: Event, data: Any) -> dict:
    """The forwarding's fields; the unit must be the user's (403) and one that forwards for
    this event, and the event open (409)."""
    values, errors = validate(FORWARD_FIELDS, data)
    code = values["region_code"]
    if code is not None:
        if not can(user, "report.forward", code):
            raise Forbidden(f"区划 {code} 不在当前用户的管辖范围内，不能上报。",
                            [{"field": "region_code", "message": "不在管辖范围内"}])
        units = reporting_tree(event)[2].levels
        if code not in units:
            names = "、".join(sorted(units)) or "无"
            errors.append({"field": "region_code",
                           "message": f"区划 {code} 不是本次灾害过程须逐级上报的市、省（{names}）"})
    if event.status == "closed":
        raise Conflict("灾害过程已结束，不再接受上报。", [{"field": "event", "message": "已结束"}])
    if errors:
        raise Invalid(f"上报有 {len(errors)} 处错误。", errors)
    return values


def _check_sequence(code: str, kind: str, last: ReportForward | None) -> None:
    if last is not None and last.kind == "final":
        raise Conflict(f"区划 {code} 已核报，不再接受上报。", [{"field": "kind", "message": "已核报"}])
    if last is None and kind != "initial":
        raise Invalid("首次上报必须是初报。", [{"field": "kind", "message": "首次上报必须是初报（initial）"}])
    if last is not None and kind == "initial":
        raise Invalid("初报已上报，之后为续报或核报。", [{"field": "kind", "message": "初报已上报"}])


def _insert(row: ReportForward) -> None:
    """Insert the forwarding unless a concurrent one took its sequence number (a retry-able 409)."""
    table = ReportForward.__table__
    row_id = insert_unless_exists(table, ["event_id", "region_code", "sequence"],
                                  {c.key: getattr(row, c.key) for c in table.columns if c.key != "id"},
                                  table.c.id)
    if row_id is None:
        db.session.rollback()
        raise RetryableConflict("同一单位正在并发上报，请稍后重试。", [{"field": "region_code", "message": "并发冲突，可重试"}])
    row.id = row_id
    make_transient_to_detached(row)
    db.session.add(row)


def forwards_query(user, event_id: int, region_code: str | None = None):
    """The event's forwardings the user may see (those of units inside the jurisdiction), oldest first."""
    event = get_event(user, event_id)
    code = query({"region_code": CODE_ARG}, {"region_code": region_code or None})["region_code"]
    stmt = select(ReportForward).where(ReportForward.event_id == event.id,
                                       within_clause(ReportForward.region_code, user.region_code))
    if code:
        stmt = stmt.where(within_clause(ReportForward.region_code, code))
    return stmt.order_by(ReportForward.forwarded_at, ReportForward.id)


def forwarding_panel(user, event: Event) -> dict | None:
    """The units the user forwards for (审核上报) with their names, what each forwarded last and
    the latest forwardings; ``None`` when the user forwards for none (or the event is closed)."""
    if event.status == "closed" or not can(user, "report.forward"):
        return None
    units = sorted(code for code in reporting_tree(event)[2].levels if can(user, "report.forward", code))
    if not units:
        return None
    names = dict(db.session.execute(select(Region.code, Region.name).where(Region.code.in_(units))).all())
    history = db.session.scalars(forwards_query(user, event.id)).all()
    last = {f.region_code: f for f in history}
    return {"units": units, "names": names, "last": last, "history": history[-PANEL_HISTORY:],
            "kind": ("update" if units[0] in last else "initial") if len(units) == 1 else None}
