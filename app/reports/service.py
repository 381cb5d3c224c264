"""Loss reporting (灾情报送): disaster events, loss reports, totals, deadlines and photos.

Each public function checks permission first, validates everything and gathers every error,
then runs one transaction ending in a commit and an audit line. Pages, the JSON API, the Excel
import and the demo all call these functions.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping

from flask import current_app
from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, make_transient_to_detached

from gis import codes

from .. import audit
from ..api import Field, parse
from ..database import commit_keeping_loaded, insert_unless_exists
from ..errors import Conflict, Forbidden, Invalid, NotFound, RetryableConflict
from ..extensions import db
from ..models_common import utcnow
from ..permissions import can, require
from ..regions import Region
from . import deadlines as dl
from . import indicators, signals
from .models import EVENT_MACHINE, HAZARDS, REPORT_KINDS, Event, LossReport, ReportForward, ReportPhoto
from .rollup import Latest, roll_up, total_for
from .totals import parent_lookup, subtree_latest, subtree_total, within_clause

EVENT_STATUSES = ("active", "stable", "closed")
EVENT_FIELDS = {
    "name": Field("str", max_length=200, description="灾害过程名称"),
    "hazard": Field("str", choices=tuple(HAZARDS), description="灾种"),
    "started_at": Field("datetime", description="开始时间；无时区时按北京时间"),
    "region_codes": Field("list", items="code", description="受灾区划代码"),
    "major": Field("bool", required=False, default=False,
                   description="重大灾害：每份报告须至少附 REPORT_MAJOR_MIN_PHOTOS 张照片"),
}
AT_FIELDS = {"at": Field("datetime", required=False, description="时间；缺省为现在")}
REPORT_FIELDS = {
    "region_code": Field("code", description="报告区划代码（6/9/12 位）"),
    "kind": Field("str", choices=tuple(REPORT_KINDS), description="initial 初报 | update 续报 | final 核报"),
    "as_of": Field("datetime", description="数据截至时间，不得晚于现在"),
    "figures": Field("dict", description="各项指标（累计值），省略的为 0；每项不超过 REPORT_FIGURE_MAX",
                     extra={"schema": {"additionalProperties": False, "properties": {
                         i.field: {"type": "integer" if i.integer else "number", "minimum": 0,
                                   "description": f"{i.label}（{i.unit}）"} for i in indicators.INDICATORS}}}),
    "note": Field("str", required=False, max_length=4000, multiline=True, description="说明；数据突增突减时必填"),
}
#: How often a concurrent submission that lost the race for a sequence number is retried.
SEQUENCE_RETRIES = 3


# --- Helpers -------------------------------------------------------------------------------

def _parse_all(fields: dict[str, Field], data: Any) -> tuple[dict, list[dict]]:
    """:func:`app.api.parse` field by field, so that every bad field is gathered."""
    if not isinstance(data, dict):
        raise Invalid("请求体必须是 JSON 对象。", [{"field": "", "message": "请求体必须是 JSON 对象"}])
    out: dict = {}
    errors: list[dict] = []
    for name, spec in fields.items():
        try:
            out.update(parse({name: spec}, data))
        except Invalid as exc:
            errors.extend(exc.errors)
            out[name] = None
    return out, errors


def overlaps(code: str, jurisdiction: str) -> bool:
    return codes.is_within(code, jurisdiction) or codes.is_within(jurisdiction, code)


def event_visible(user, event: Event) -> bool:
    """A user sees an event that touches their jurisdiction (above, at or below it)."""
    if not can(user, "event.view"):
        return False
    return any(overlaps(code, user.region_code) for code in event.region_codes)


def _config(name: str):
    return current_app.config[name]


# --- Events --------------------------------------------------------------------------------

def visible_events(user, status: str | None = None):
    """A ``select`` of the events touching the user's jurisdiction, newest start first."""
    require(user, "event.view")
    if status is not None and status not in EVENT_STATUSES:
        raise Invalid("status 取值有误。", [{"field": "status",
                                            "message": f"必须是以下之一：{', '.join(EVENT_STATUSES)}"}])
    from .models import event_region

    stmt = select(Event).order_by(Event.started_at.desc(), Event.id.desc())
    if status:
        stmt = stmt.where(Event.status == status)
    if user.region_code != codes.NATIONAL:
        above = [user.region_code, *codes.ancestors(user.region_code)]
        touching = select(event_region.c.event_id).where(or_(
            within_clause(event_region.c.region_code, user.region_code),
            event_region.c.region_code.in_(above)))
        stmt = stmt.where(Event.id.in_(touching))
    return stmt


def get_event(user, event_id: int) -> Event:
    require(user, "event.view")
    event = db.session.get(Event, event_id)
    if event is None:
        raise NotFound(f"灾害过程 {event_id} 不存在。")
    if not event_visible(user, event):
        raise Forbidden(f"灾害过程 {event_id} 不在当前用户的管辖范围内。")
    return event


def create_event(user, data: Any) -> Event:
    """Open a disaster process (灾害过程) over the given regions; status ``active``."""
    require(user, "event.create")
    values, errors = _parse_all(EVENT_FIELDS, data)
    regions: list[Region] = []
    outside: list[dict] = []
    seen: set[str] = set()
    if values.get("region_codes") is not None and not values["region_codes"]:
        errors.append({"field": "region_codes", "message": "至少需要一个受灾区划"})
    raw_codes = data.get("region_codes")
    element = EVENT_FIELDS["region_codes"].item_field()
    for index, raw in enumerate(raw_codes if isinstance(raw_codes, list) else []):
        path = f"region_codes[{index}]"
        code = element.convert(path, raw, []) if raw is not None else None
        if code is None:  # named already by the list's own check
            continue
        if code in seen:
            continue
        seen.add(code)
        if not can(user, "event.create", code):
            outside.append({"field": path, "message": f"区划 {code} 不在管辖范围内"})
            continue
        region = db.session.get(Region, code)
        if region is None:
            errors.append({"field": path, "message": f"区划 {code} 不存在"})
            continue
        regions.append(region)
    if outside:
        raise Forbidden("受灾区划超出当前用户的管辖范围。", outside)
    now = utcnow()
    if values.get("started_at") and values["started_at"] > now:
        errors.append({"field": "started_at", "message": "开始时间不能晚于现在"})
    if errors:
        raise Invalid(f"灾害过程有 {len(errors)} 处错误。", errors)

    event = Event(name=values["name"], hazard=values["hazard"], started_at=values["started_at"],
                  status="active", created_by_id=user.id, major=bool(values["major"]))
    event.regions = regions
    db.session.add(event)
    db.session.flush()
    audit.record(user, "event.create", "event", event.id, after=event.to_dict(),
                 region_code=regions[0].code)
    db.session.commit()
    return event


def _require_all_regions(user, action: str, event: Event) -> None:
    for code in event.region_codes:
        require(user, action, code)


def stabilise(user, event_id: int, data: Any) -> Event:
    """Declare the situation stable (灾情稳定) at ``at``: daily updates stop, verified reports
    fall due ``REPORT_VERIFIED_WORKING_DAYS`` working days later."""
    return _declare(user, event_id, data, "stabilise", "stabilised_at", "稳定时间",
                    lambda event: (event.started_at, "灾害开始时间"))


def close(user, event_id: int, data: Any) -> Event:
    """Close the process (结束): no more reports are accepted."""
    return _declare(user, event_id, data, "close", "closed_at", "结束时间",
                    lambda event: (event.stabilised_at or event.started_at, "开始或稳定时间"))


def _declare(user, event_id: int, data: Any, transition: str, column: str, label: str,
             not_before: Callable[[Event], tuple[datetime, str]]) -> Event:
    """Move the event along ``transition`` at ``data["at"]`` (default now), stored in ``column``;
    the time may be neither in the future nor before ``not_before``."""
    event = get_event(user, event_id)
    _require_all_regions(user, f"event.{transition}", event)
    values, errors = _parse_all(AT_FIELDS, data if data is not None else {})
    now = utcnow()
    at = values.get("at") or now
    if not errors:
        earliest, earliest_label = not_before(event)
        if at > now:
            errors.append({"field": "at", "message": f"{label}不能晚于现在"})
        elif at < earliest:
            errors.append({"field": "at", "message": f"{label}不能早于{earliest_label}"})
    if errors:
        raise Invalid(f"{label}有误。", errors)
    before, after = EVENT_MACHINE.fire(event, transition)
    setattr(event, column, at)
    audit.record(user, f"event.{transition}", "event", event.id, before={"status": before},
                 after={"status": after, column: at}, region_code=event.region_codes[0])
    db.session.commit()
    return event


def affected_counties(event: Event) -> list[str]:
    """The counties that owe reports: affected counties, the counties beneath affected
    prefectures and provinces, and the county above an affected township or village."""
    from ..regions import descendant_codes

    out: set[str] = set()
    for region in event.regions:
        if region.level == "county":
            out.add(region.code)
        elif region.level in ("province", "prefecture"):
            out.update(descendant_codes(region.code, level="county"))
        else:
            county = db.session.get(Region, region.code[:6])
            if county is not None:
                out.add(county.code)
    return sorted(out)


# --- Reports -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Previous:
    """What the checks need of a region's latest report."""

    kind: str
    sequence: int
    as_of: datetime
    figures: Mapping[str, float]

    @classmethod
    def of(cls, report) -> "Previous | None":
        """From a :class:`LossReport` or a row with its ``kind, sequence, as_of, figures``."""
        if report is None:
            return None
        return cls(report.kind, report.sequence, report.as_of, report.figures)


@dataclass
class Draft:
    region_code: str
    kind: str
    as_of: datetime
    figures: dict
    note: str | None
    #: deaths + missing of the region's previous report (0 for a first report)
    previous_deaths_missing: float = 0


class _Rejected(Exception):
    """A report that failed its checks: the error class and its ``errors``."""

    def __init__(self, error_type: type, detail: str, errors: list[dict]):
        super().__init__(detail)
        self.error_type, self.detail, self.errors = error_type, detail, errors

    def raise_(self):
        raise self.error_type(self.detail, self.errors)


_LATEST_OF = (select(LossReport.kind, LossReport.sequence, LossReport.as_of, LossReport.figures)
              .where(LossReport.event_id == bindparam("event_id"),
                     LossReport.region_code == bindparam("region_code"))
              .order_by(LossReport.sequence.desc()).limit(1))


def _latest_of(event_id: int, region_code: str):
    """The region's latest report as a row of what :class:`Previous` needs, or ``None``."""
    return db.session.connection().execute(
        _LATEST_OF, {"event_id": event_id, "region_code": region_code}).first()


def _check_report(user, event: Event, data: Any, previous: Callable[[str], Previous | None],
                  now: datetime) -> Draft:
    """Every rule of a loss report; raises :class:`_Rejected` (403, 409 or 422 with all errors)."""
    values, errors = _parse_all(REPORT_FIELDS, data)
    code = values.get("region_code")
    prev = None
    if code is not None:
        if not can(user, "report.submit", code):
            raise _Rejected(Forbidden, f"区划 {code} 不在当前用户的管辖范围内，不能报送。",
                            [{"field": "region_code", "message": "不在管辖范围内"}])
        if not any(codes.is_within(code, affected) for affected in event.region_codes):
            errors.append({"field": "region_code",
                           "message": f"区划 {code} 不在本次灾害过程的受灾区域内"
                                      f"（{', '.join(event.region_codes)}）"})
        else:
            # the region's latest report; a region that has reports exists (they reference it)
            prev = previous(code)
            if prev is None and not region_exists(code):
                errors.append({"field": "region_code", "message": f"区划 {code} 不存在"})
    if event.status == "closed":
        raise _Rejected(Conflict, "灾害过程已结束，不再接受报告。", [{"field": "event", "message": "已结束"}])

    figures = values.get("figures")
    clean: dict = {}
    if figures is not None:
        clean, figure_errors = indicators.validate(figures, float(_config("REPORT_FIGURE_MAX")))
        errors.extend(figure_errors)
    as_of = values.get("as_of")
    if as_of is not None:
        if as_of > now:
            errors.append({"field": "as_of", "message": "截至时间不能晚于现在"})
        elif as_of < event.started_at:
            errors.append({"field": "as_of", "message": "截至时间不能早于灾害开始时间"})

    note = (values.get("note") or "").strip() or None
    if prev is not None:
        if as_of is not None and as_of < prev.as_of:
            errors.append({"field": "as_of",
                           "message": f"截至时间不能早于上一份报告（{prev.as_of.isoformat()}）"})
        if clean and not errors:
            jumped = indicators.jumps(prev.figures, clean, float(_config("REPORT_JUMP_UP_FACTOR")),
                                      float(_config("REPORT_JUMP_DOWN_FACTOR")))
            if jumped and not note:
                names = "、".join(indicators.BY_FIELD[j["field"].split(".", 1)[1]].label for j in jumped)
                errors.extend(jumped)
                errors.append({"field": "note", "message": f"{names}变化过大，须填写说明"})
    if errors:
        raise _Rejected(Invalid, f"灾情报告有 {len(errors)} 处错误。", errors)

    kind = values["kind"]
    if prev is None and kind != "initial":
        raise _Rejected(Conflict, f"区划 {code} 尚无报告：第一份报告必须是初报（initial）。",
                        [{"field": "kind", "message": "第一份报告必须是初报（initial）"}])
    if prev is not None and prev.kind == "final":
        raise _Rejected(Conflict, f"区划 {code} 已核报（final），不再接受报告。",
                        [{"field": "kind", "message": "该区划已核报，报告已关闭"}])
    if prev is not None and kind == "initial":
        raise _Rejected(Conflict, f"区划 {code} 已有初报：后续报告应为续报（update）或核报（final）。",
                        [{"field": "kind", "message": "已有初报，应为续报或核报"}])
    return Draft(code, kind, as_of.astimezone(timezone.utc), clean, note,
                 indicators.deaths_and_missing(prev.figures) if prev is not None else 0)


#: Region codes known to exist, per application (regions are upserted, never deleted, so a
#: code once found stays valid); bounded, and cleared when full.
_KNOWN_REGIONS_KEY = "jiuzai.reports.known_regions"
KNOWN_REGIONS_MAX = 200_000


_REGION_CODE = select(Region.code).where(Region.code == bindparam("code"))


def region_exists(code: str) -> bool:
    """Whether the region exists; a code found once is remembered by the process."""
    known = current_app.extensions.setdefault(_KNOWN_REGIONS_KEY, set())
    if code in known:
        return True
    if db.session.connection().execute(_REGION_CODE, {"code": code}).first() is None:
        return False
    if len(known) >= KNOWN_REGIONS_MAX:
        known.clear()
    known.add(code)
    return True


def _new_report(user, event: Event, draft: Draft, sequence: int, now: datetime) -> LossReport:
    report = LossReport(event_id=event.id, region_code=draft.region_code, kind=draft.kind,
                        sequence=sequence, as_of=draft.as_of, figures=draft.figures, note=draft.note,
                        submitted_by_id=user.id, submitted_by=user.username, submitted_at=now)
    return report


_EVENT_WITH_REGIONS = select(Event).options(joinedload(Event.regions)).where(Event.id == bindparam("event_id"))


def submit_report(user, event_id: int, data: Any) -> LossReport:
    """File a loss report; see :func:`submit_report_with_body`."""
    return submit_report_with_body(user, event_id, data)[0]


def submit_report_with_body(user, event_id: int, data: Any,
                            before_commit: Callable[[dict], None] | None = None) -> tuple[LossReport, dict]:
    """File a loss report (初报/续报/核报); see ``API.md`` for the rules. Returns the report and
    its API body.

    One transaction: the checks, the report, its audit line and ``before_commit(body)`` (the
    API stores its idempotent answer there) commit together. Two concurrent submissions for one
    region race for the next sequence number; the unique ``(event, region, sequence)`` lets
    only one win (the insert of the other waits for the winner's commit and then inserts
    nothing, leaving the rest of its transaction intact), and the loser is checked again
    against the winner (so two verified reports can never both close a region). After
    ``SEQUENCE_RETRIES`` lost races the caller gets a retry-able 409.
    """
    require(user, "report.submit")
    # the event with its affected regions in one query (its status is read fresh every time)
    event = db.session.execute(_EVENT_WITH_REGIONS, {"event_id": event_id}).unique().scalar_one_or_none()
    if event is None:
        raise NotFound(f"灾害过程 {event_id} 不存在。")
    for _attempt in range(SEQUENCE_RETRIES):
        now = utcnow()
        seen: dict[str, Previous | None] = {}

        def previous(code: str) -> Previous | None:
            seen[code] = Previous.of(_latest_of(event.id, code))
            return seen[code]

        try:
            draft = _check_report(user, event, data, previous, now)
        except _Rejected as rejected:
            rejected.raise_()
        prev = seen[draft.region_code] if draft.region_code in seen else previous(draft.region_code)
        report = _new_report(user, event, draft, (prev.sequence if prev else 0) + 1, now)
        if not _insert_unless_taken(report):
            continue  # another report took this sequence number: check again against it
        audit.record(user, "report.submit", "loss_report", report.id,
                     after={"event_id": event.id, "kind": draft.kind, "sequence": report.sequence,
                            "as_of": draft.as_of, "figures": draft.figures, "note": draft.note},
                     region_code=draft.region_code)
        body = report.to_dict()
        body.update(kind_label=REPORT_KINDS[report.kind], photo_count=0,
                    photos_required=photos_required(event, draft.figures))
        if before_commit is not None:
            before_commit(body)
        commit_keeping_loaded()  # the body and the receivers use the objects as written
        _after_commit(event, [report], [draft])
        return report, body
    raise RetryableConflict("同一区划的报告正在并发提交，请稍后重试。",
                   [{"field": "region_code", "message": "并发冲突，可重试"}])


def _insert_unless_taken(report: LossReport) -> bool:
    """Insert the new report unless its ``(event, region, sequence)`` is already taken; on
    success the object joins the session as the persistent row (no reload)."""
    table = LossReport.__table__
    values = {c.key: getattr(report, c.key) for c in table.columns if c.key != "id"}
    report_id = insert_unless_exists(table, ["event_id", "region_code", "sequence"], values, table.c.id)
    if report_id is None:
        return False
    report.id = report_id
    make_transient_to_detached(report)
    db.session.add(report)
    return True


def _after_commit(event: Event, reports: list[LossReport], drafts: list[Draft]) -> None:
    """The direct-report check for every county where deaths + missing went up (only a rise
    can bring a county total to the threshold), then ``report_submitted`` per report."""
    from .jobs import direct_report_alert

    app = current_app._get_current_object()
    counties = set()
    for draft in drafts:
        county = county_of(draft.region_code)
        if county and indicators.deaths_and_missing(draft.figures) > draft.previous_deaths_missing:
            counties.add(county)
    for county in sorted(counties):
        direct_report_alert(event, county)
    for report in reports:
        signals.report_submitted.send(app, report=report)


def county_of(code: str) -> str | None:
    """The county a report counts towards (``None`` above county level)."""
    level = codes.level_of(code)
    if level == "county":
        return code
    if level in ("township", "village"):
        return code[:6]
    return None


def import_reports(user, event_id: int, rows: list[dict]) -> list[LossReport]:
    """File many reports at once (the Excel import): every row is checked against the database
    and the rows before it; any error anywhere and nothing is written.

    Each row is ``{"_row": n, "region_code", "kind", "as_of", "figures", "note"}``. Errors carry
    ``row`` and a field ``rows[n].<field>``. Rows outside the jurisdiction make it a 403.
    """
    require(user, "report.import")
    event = get_event(user, event_id)
    if not rows:
        raise Invalid("文件中没有数据行。", [{"field": "file", "message": "没有数据行"}])
    now = utcnow()
    state: dict[str, Previous | None] = {}

    def previous(code: str) -> Previous | None:
        if code not in state:
            state[code] = Previous.of(_latest_of(event.id, code))
        return state[code]

    drafts: list[tuple[Draft, int]] = []
    errors: list[dict] = []
    forbidden: list[dict] = []
    conflict = False
    for row in rows:
        number = row.get("_row")
        data = {k: v for k, v in row.items() if not k.startswith("_")}
        try:
            draft = _check_report(user, event, data, previous, now)
        except _Rejected as rejected:
            target = forbidden if rejected.error_type is Forbidden else errors
            conflict = conflict or rejected.error_type is Conflict
            for error in rejected.errors:
                target.append({"row": number, "field": f"rows[{number}].{error['field']}",
                               "message": f"第 {number} 行：{error['message']}"})
            continue
        prev = previous(draft.region_code)
        sequence = (prev.sequence if prev else 0) + 1
        state[draft.region_code] = Previous(draft.kind, sequence, draft.as_of, draft.figures)
        drafts.append((draft, sequence))
    if forbidden:
        raise Forbidden(f"有 {len(forbidden)} 行的区划不在管辖范围内，未导入任何数据。", forbidden)
    if errors:
        raise Invalid(f"有 {len({e['row'] for e in errors})} 行有错误，未导入任何数据。", errors)

    reports = [_new_report(user, event, draft, sequence, now) for draft, sequence in drafts]
    db.session.add_all(reports)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise RetryableConflict("导入期间有人提交了同一区划的报告，未导入任何数据，请重试。") from None
    for report in reports:
        audit.record(user, "report.submit", "loss_report", report.id,
                     after={"event_id": event.id, "kind": report.kind, "sequence": report.sequence,
                            "as_of": report.as_of, "figures": report.figures, "note": report.note},
                     region_code=report.region_code, note="excel import")
    audit.record(user, "report.import", "event", event.id, after={"rows": len(reports)},
                 region_code=event.region_codes[0])
    db.session.commit()
    _after_commit(event, reports, [draft for draft, _sequence in drafts])
    return reports


def _visible_region_filter(user, stmt):
    if user.region_code != codes.NATIONAL:
        stmt = stmt.where(within_clause(LossReport.region_code, user.region_code))
    return stmt


def reports_query(user, event: Event, *, region_code: str | None = None, within: str | None = None,
                  kind: str | None = None):
    """A ``select`` of an event's reports, oldest first: one region's history
    (``region_code``), a subtree (``within``), or all the user may see."""
    require(user, "report.view")
    errors = []
    if kind is not None and kind not in REPORT_KINDS:
        errors.append({"field": "kind", "message": f"必须是以下之一：{', '.join(REPORT_KINDS)}"})
    checked = {}
    for name, value in (("region_code", region_code), ("within", within)):
        if value is None:
            continue
        try:
            checked[name] = codes.normalise(value)
        except codes.CodeError as exc:
            errors.append({"field": name, "message": str(exc)})
    if errors:
        raise Invalid("查询参数有误。", errors)
    stmt = select(LossReport).where(LossReport.event_id == event.id)
    if "region_code" in checked:
        require(user, "report.view", checked["region_code"])
        stmt = stmt.where(LossReport.region_code == checked["region_code"])
    if "within" in checked:
        require(user, "report.view", checked["within"])
        stmt = stmt.where(within_clause(LossReport.region_code, checked["within"]))
    if kind:
        stmt = stmt.where(LossReport.kind == kind)
    return _visible_region_filter(user, stmt).order_by(LossReport.submitted_at, LossReport.id)


def get_report(user, event_id: int, report_id: int) -> LossReport:
    event = get_event(user, event_id)
    report = db.session.get(LossReport, report_id)
    if report is None or report.event_id != event.id:
        raise NotFound(f"报告 {report_id} 不存在。")
    require(user, "report.view", report.region_code)
    return report


def photos_required(event: Event, figures: Mapping[str, float]) -> int:
    """Photos a report needs: a major disaster (重大灾害 — flagged on the event, or deaths +
    missing at the direct-report threshold) needs ``REPORT_MAJOR_MIN_PHOTOS``."""
    major = event.major or indicators.deaths_and_missing(figures) >= _config("REPORT_DIRECT_ALERT_DEATHS_MISSING")
    return int(_config("REPORT_MAJOR_MIN_PHOTOS")) if major else 0


def report_dicts(event: Event, reports: Iterable[LossReport]) -> list[dict]:
    """Reports as API dicts with kind label and photo counts."""
    reports = list(reports)
    counts = dict(db.session.execute(
        select(ReportPhoto.report_id, func.count()).where(ReportPhoto.report_id.in_([r.id for r in reports]))
        .group_by(ReportPhoto.report_id)).all()) if reports else {}
    out = []
    for report in reports:
        item = report.to_dict()
        item["kind_label"] = REPORT_KINDS[report.kind]
        item["photo_count"] = counts.get(report.id, 0)
        item["photos_required"] = photos_required(event, report.figures)
        out.append(item)
    return out


# --- Totals and trend ----------------------------------------------------------------------

def _code_arg(value: str | None, name: str = "region_code") -> str:
    if not value:
        raise Invalid(f"缺少 {name}。", [{"field": name, "message": "必填"}])
    try:
        return codes.normalise(value)
    except codes.CodeError as exc:
        raise Invalid(str(exc), [{"field": name, "message": str(exc)}]) from exc


def totals(user, event_id: int, region_code: str | None) -> dict:
    """``GET /events/{id}/totals``: the rolled-up figures of one region."""
    event = get_event(user, event_id)
    code = _code_arg(region_code)
    require(user, "report.view", code)
    if db.session.get(Region, code) is None:
        raise NotFound(f"区划 {code} 不存在。")
    return subtree_total(event.id, code).to_dict()


def children_totals(user, event: Event, region_code: str) -> tuple[dict, list[dict]]:
    """The region's total and one row per child region (the drill-down table)."""
    code = _code_arg(region_code)
    require(user, "report.view", code)
    region = db.session.get(Region, code)
    if region is None:
        raise NotFound(f"区划 {code} 不存在。")
    latest = subtree_latest(event.id, code)
    parents = parent_lookup(latest)
    all_totals = roll_up({c: Latest(r.figures, r.as_of) for c, r in latest.items()}, parents.get)
    children = db.session.scalars(select(Region).where(Region.parent_code == code).order_by(Region.code)).all()
    rows = []
    for child in children:
        total = total_for(child.code, all_totals)
        rows.append({"region": child, "total": total, "direct": child.code in latest})
    rows.sort(key=lambda r: (r["total"].reporting_units == 0, -r["total"].figures["affected_population"],
                             r["region"].code))
    own = latest.get(code)
    return {"region": region, "total": total_for(code, all_totals), "own_report": own}, rows


def trend(event: Event, region_code: str, points: int = 24) -> list[dict]:
    """The region's rolled-up key figures after each report time (at most ``points`` points)."""
    reports = db.session.scalars(
        select(LossReport).where(LossReport.event_id == event.id,
                                 within_clause(LossReport.region_code, region_code))
        .order_by(LossReport.as_of, LossReport.sequence)).all()
    if not reports:
        return []
    parents = parent_lookup({r.region_code for r in reports})
    times = sorted({r.as_of for r in reports})
    if len(times) > points:
        step = (len(times) - 1) / (points - 1)
        times = sorted({times[round(i * step)] for i in range(points)})
    out = []
    latest: dict[str, Latest] = {}
    index = 0
    for t in times:
        while index < len(reports) and reports[index].as_of <= t:
            r = reports[index]
            latest[r.region_code] = Latest(r.figures, r.as_of)
            index += 1
        total = total_for(region_code, roll_up(latest, parents.get))
        out.append({"as_of": t, "figures": total.figures, "reporting_units": total.reporting_units})
    return out


# --- Deadlines -----------------------------------------------------------------------------

def _submissions_by_unit(event: Event, counties: set[str],
                         upper_units: set[str]) -> dict[str, list[dl.Submission]]:
    """County → the reports filed for it or beneath it; prefecture or province → its
    forwardings (审核上报) and any report it filed for its own region."""
    rows = db.session.execute(select(LossReport.region_code, LossReport.kind, LossReport.submitted_at)
                              .where(LossReport.event_id == event.id)).all()
    rows += db.session.execute(select(ReportForward.region_code, ReportForward.kind, ReportForward.forwarded_at)
                               .where(ReportForward.event_id == event.id)).all()
    out: dict[str, list[dl.Submission]] = {}
    for code, kind, submitted_at in rows:
        unit = code if code in upper_units else county_of(code)
        if unit in counties or unit in upper_units:
            out.setdefault(unit, []).append(dl.Submission(code, kind, submitted_at))
    return out


def reporting_tree(event: Event) -> tuple[list[str], dict[str, str | None], dl.ReportingTree]:
    """The counties that owe reports, their ancestors and who forwards to whom above them."""
    counties = affected_counties(event)
    parents = parent_lookup(counties)
    return counties, parents, dl.reporting_tree(counties, parents)


def compute_deadlines(event: Event, now: datetime | None = None) -> list[dl.Deadline]:
    """Every statutory deadline of the event: each county's, then the forwarding deadlines of
    the prefectures and provinces above them, with their status at ``now``."""
    counties, parents, tree = reporting_tree(event)
    return dl.compute(started_at=event.started_at, stabilised_at=event.stabilised_at,
                      ended_at=event.closed_at, counties=counties,
                      submissions=_submissions_by_unit(event, set(counties), set(tree.levels)),
                      schedule=dl.Schedule.from_config(current_app.config, event.hazard),
                      now=now or utcnow(), parents=parents)


# --- Forwarding (审核上报) -------------------------------------------------------------------

FORWARD_FIELDS = {
    "region_code": Field("code", description="上报单位：本次灾害过程须逐级上报的市或省的区划代码"),
    "kind": Field("str", choices=tuple(REPORT_KINDS), description="initial 初报 | update 续报 | final 核报"),
    "note": Field("str", required=False, max_length=4000, multiline=True, description="审核意见或说明"),
}


def forward(user, event_id: int, data: Any) -> ReportForward:
    """A prefecture or province forwards the reviewed figures of the levels below (审核上报).

    The figures are the unit's rolled-up total at this moment, recorded as forwarded; totals
    keep coming from the roll-up. The sequence is that of reports: initial first, then updates,
    one verified forwarding closes the unit (409 after it).
    """
    require(user, "report.forward")
    event = get_event(user, event_id)
    values, errors = _parse_all(FORWARD_FIELDS, data)
    code, kind = values.get("region_code"), values.get("kind")
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
    last = db.session.scalar(select(ReportForward).filter_by(event_id=event.id, region_code=code)
                             .order_by(ReportForward.sequence.desc()).limit(1))
    if last is not None and last.kind == "final":
        raise Conflict(f"区划 {code} 已核报，不再接受上报。", [{"field": "kind", "message": "已核报"}])
    if last is None and kind != "initial":
        raise Invalid("首次上报必须是初报。", [{"field": "kind", "message": "首次上报必须是初报（initial）"}])
    if last is not None and kind == "initial":
        raise Invalid("初报已上报，之后为续报或核报。", [{"field": "kind", "message": "初报已上报"}])
    total = subtree_total(event.id, code)
    row = ReportForward(event_id=event.id, region_code=code, kind=kind,
                        sequence=(last.sequence if last else 0) + 1, as_of=total.as_of,
                        figures=dict(total.figures), reporting_units=total.reporting_units,
                        note=(values.get("note") or "").strip() or None, forwarded_by_id=user.id,
                        forwarded_by=user.username, forwarded_at=utcnow())
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
    audit.record(user, "report.forward", "report_forward", row_id,
                 after={"event_id": event.id, "kind": kind, "sequence": row.sequence,
                        "figures": row.figures, "reporting_units": row.reporting_units, "note": row.note},
                 region_code=code)
    commit_keeping_loaded()
    return row


def forwards_query(user, event_id: int, region_code: str | None = None):
    """The event's forwardings the user may see (those of units inside the jurisdiction), oldest first."""
    event = get_event(user, event_id)
    stmt = select(ReportForward).where(ReportForward.event_id == event.id,
                                       within_clause(ReportForward.region_code, user.region_code))
    if region_code:
        try:
            code = codes.normalise(region_code)
        except codes.CodeError as exc:
            raise Invalid("查询参数有误。", [{"field": "region_code", "message": str(exc)}]) from None
        stmt = stmt.where(within_clause(ReportForward.region_code, code))
    return stmt.order_by(ReportForward.forwarded_at, ReportForward.id)


def event_deadlines(user, event_id: int, *, region_code: str | None = None, status: str | None = None,
                    now: datetime | None = None) -> list[dl.Deadline]:
    """The deadlines the user may see: of the units inside their jurisdiction and of the county
    they report towards (optionally only those :func:`concerns` a region)."""
    event = get_event(user, event_id)
    errors = []
    if status is not None and status not in ("due", "overdue", "met"):
        errors.append({"field": "status", "message": "必须是以下之一：due, overdue, met"})
    code = None
    if region_code:
        try:
            code = codes.normalise(region_code)
        except codes.CodeError as exc:
            errors.append({"field": "region_code", "message": str(exc)})
    if errors:
        raise Invalid("查询参数有误。", errors)
    items = [d for d in compute_deadlines(event, now) if concerns(d, user.region_code)]
    if code:
        items = [d for d in items if concerns(d, code)]
    if status:
        items = [d for d in items if d.status == status]
    return items


def concerns(deadline: dl.Deadline, region_code: str) -> bool:
    """A deadline of a unit inside the region, or the county deadline a township or village
    beneath it reports towards (a county does not see its prefecture's forwarding)."""
    return codes.is_within(deadline.region_code, region_code) or (
        deadline.level == "county" and codes.is_within(region_code, deadline.region_code))


def timeliness(user, event_id: int, now: datetime | None = None,
               deadlines: list[dl.Deadline] | None = None) -> dict:
    """Completeness and timeliness rates per prefecture and province (报送完整率、及时率).

    A user sees the rates of every unit their jurisdiction overlaps: a county officer those of
    their prefecture and province too, as the statistics of the chain they report into (the
    deadline list itself shows them only their own units). ``deadlines``: every deadline of the
    event, when the caller has just computed them."""
    event = get_event(user, event_id)
    now = now or utcnow()
    items = deadlines if deadlines is not None else compute_deadlines(event, now)
    owing = {d.region_code for d in items}
    parents = parent_lookup(owing)
    units_of: dict[str, list[str]] = {}
    for code in owing:
        # A prefecture's own forwarding deadlines count towards it and its province.
        units = [code] if codes.level_of(code) in ("prefecture", "province") else []
        parent = parents.get(code)
        while parent is not None:
            if codes.level_of(parent) in ("prefecture", "province"):
                units.append(parent)
            parent = parents.get(parent)
        units_of[code] = units
    rates = dl.rates(items, units_of, now)
    names = dict(db.session.execute(select(Region.code, Region.name)
                                    .where(Region.code.in_(list(rates)))).all()) if rates else {}
    units = []
    for code in sorted(rates, key=lambda c: (len(codes.prefix_of(c)), c)):
        if not overlaps(code, user.region_code):
            continue
        item = rates[code].to_dict()
        item.update(name=names.get(code, code), level=codes.level_of(code))
        units.append(item)
    return {"event_id": event.id, "as_at": now.isoformat(), "units": units}


# --- Photos --------------------------------------------------------------------------------

_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)


def sniff_image(head: bytes) -> tuple[str, str] | None:
    """``(content type, extension)`` of a JPEG, PNG or WebP by its first bytes."""
    for signature, content_type, ext in _SIGNATURES:
        if head.startswith(signature):
            return content_type, ext
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    return None


def photo_dir() -> str:
    return current_app.config.get("REPORT_PHOTO_DIR") or os.path.join(current_app.instance_path, "photos")


def add_photo(user, event_id: int, report_id: int, upload) -> tuple[ReportPhoto, bool]:
    """Attach a photo (JPEG, PNG or WebP up to ``REPORT_PHOTO_MAX_BYTES``) to a report.

    ``upload`` is a werkzeug ``FileStorage`` (or ``None``). The same picture sent again for the
    same report returns the first row and ``False``.
    """
    event = get_event(user, event_id)
    report = db.session.get(LossReport, report_id)
    if report is None or report.event_id != event.id:
        raise NotFound(f"报告 {report_id} 不存在。")
    require(user, "report.submit", report.region_code)
    if event.status == "closed":
        raise Conflict("灾害过程已结束，不再接受照片。")
    if upload is None or not getattr(upload, "filename", None):
        raise Invalid("缺少照片文件。", [{"field": "file", "message": "必填：请选择照片"}])
    limit = int(_config("REPORT_PHOTO_MAX_BYTES"))
    content = upload.stream.read(limit + 1)
    errors = []
    if not content:
        errors.append({"field": "file", "message": "文件为空"})
    elif len(content) > limit:
        errors.append({"field": "file", "message": f"照片不能超过 {limit // (1024 * 1024)} MB"})
    sniffed = sniff_image(content[:16]) if content else None
    allowed = set(_config("REPORT_PHOTO_TYPES"))
    if content and (sniffed is None or sniffed[0] not in allowed):
        errors.append({"field": "file", "message": "只接受以下格式的图片：" + "、".join(sorted(allowed))})
    elif sniffed and upload.mimetype and upload.mimetype != "application/octet-stream" \
            and upload.mimetype != sniffed[0]:
        errors.append({"field": "file", "message": f"声明的类型 {upload.mimetype} 与文件内容（{sniffed[0]}）不符"})
    if errors:
        raise Invalid("照片不符合要求。", errors)
    digest = hashlib.sha256(content).hexdigest()
    existing = db.session.scalar(select(ReportPhoto).filter_by(report_id=report.id, sha256=digest))
    if existing is not None:
        return existing, False
    count = db.session.scalar(select(func.count()).select_from(ReportPhoto).filter_by(report_id=report.id))
    if count >= int(_config("REPORT_PHOTO_MAX_PER_REPORT")):
        raise Conflict(f"每份报告最多 {_config('REPORT_PHOTO_MAX_PER_REPORT')} 张照片。")

    relative = os.path.join(str(event.id), str(report.id), digest[:32] + sniffed[1])
    target = os.path.join(photo_dir(), relative)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    wrote = not os.path.exists(target)
    if wrote:
        handle, temp = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.replace(temp, target)
    name = os.path.basename(upload.filename or "")[:200]
    photo = ReportPhoto(report_id=report.id, event_id=event.id, path=relative, original_name=name,
                        content_type=sniffed[0], size=len(content), sha256=digest,
                        uploaded_by_id=user.id, uploaded_by=user.username)
    db.session.add(photo)
    try:
        db.session.flush()
        audit.record(user, "report.photo", "report_photo", photo.id,
                     after={"report_id": report.id, "size": len(content), "sha256": digest},
                     region_code=report.region_code)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(select(ReportPhoto).filter_by(report_id=report.id, sha256=digest))
        if existing is None:
            raise
        return existing, False
    except Exception:
        db.session.rollback()
        if wrote and os.path.exists(target):
            os.remove(target)
        raise
    return photo, True


def photos_of(user, event_id: int, report_id: int) -> list[ReportPhoto]:
    report = get_report(user, event_id, report_id)
    return db.session.scalars(select(ReportPhoto).filter_by(report_id=report.id).order_by(ReportPhoto.id)).all()


def photo_file(user, event_id: int, report_id: int, photo_id: int) -> tuple[str, ReportPhoto]:
    report = get_report(user, event_id, report_id)
    photo = db.session.get(ReportPhoto, photo_id)
    if photo is None or photo.report_id != report.id:
        raise NotFound(f"照片 {photo_id} 不存在。")
    return os.path.join(photo_dir(), photo.path), photo
