"""Filing a loss report (初报/续报/核报) and every rule it is checked by.

:func:`submit_report_with_body` is the hot path of the ingest (``bench/reports.py``): one
transaction, one query per step (the event with its regions; the region's latest report together
with the population of the region and its ancestors, which also proves that the region exists;
the insert; the audit line), and the API's idempotent answer stored in the same transaction. :func:`check_report` is shared with the Excel import
(:mod:`.import_export`): it gathers every error of a report and raises :class:`Rejected`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from flask import current_app
from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import joinedload, make_transient_to_detached

from gis import codes

from ... import audit
from ...database import commit_keeping_loaded, insert_unless_exists
from ...errors import Conflict, Forbidden, Invalid, NotFound, RetryableConflict
from ...extensions import db
from ...models_common import utcnow
from ...permissions import can, require
from ...regions import Region
from ...validation import Field, validate
from .. import indicators, signals
from ..models import REPORT_KINDS, Event, LossReport
from . import alerts, plausibility
from ._common import config, county_of

REPORT_FIELDS = {
    "region_code": Field("code", description="报告区划代码（6/9/12 位）"),
    "kind": Field("str", choices=tuple(REPORT_KINDS), description="initial 初报 | update 续报 | final 核报"),
    "as_of": Field("datetime", description="数据截至时间，不得晚于现在"),
    "figures": Field("dict", description="各项指标（累计值），省略的为 0；每项不超过 REPORT_FIGURE_MAX",
                     extra={"schema": {"additionalProperties": False, "properties": {
                         i.field: {"type": "integer" if i.integer else "number", "minimum": 0,
                                   "description": f"{i.label}（{i.unit}）"} for i in indicators.INDICATORS}}}),
    "note": Field("str", required=False, max_length=4000, multiline=True, description="说明；数据突增突减、低于下级汇总或超出区划人口的常见比例时必填"),
}
#: How often a concurrent submission that lost the race for a sequence number is retried.
SEQUENCE_RETRIES = 3


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


class Rejected(Exception):
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


def latest_of(event_id: int, region_code: str):
    """The region's latest report as a row of what :class:`Previous` needs, or ``None``."""
    return db.session.connection().execute(
        _LATEST_OF, {"event_id": event_id, "region_code": region_code}).first()


_REGION, _REPORT = Region.__table__, LossReport.__table__
#: The population rows of a region and its ancestors (:func:`.plausibility.region_rows`), the
#: region's own row joined to its latest report of the event: one statement, built once.
_LATEST_WITH_REGIONS = (
    select(_REGION.c.code, _REGION.c.population, _REGION.c.households,
           _REPORT.c.kind, _REPORT.c.sequence, _REPORT.c.as_of, _REPORT.c.figures)
    .select_from(_REGION.outerjoin(_REPORT, and_(
        _REGION.c.code == bindparam("region_code"), _REPORT.c.region_code == _REGION.c.code,
        _REPORT.c.event_id == bindparam("event_id"),
        _REPORT.c.sequence == select(func.max(_REPORT.c.sequence))
        .where(_REPORT.c.event_id == bindparam("event_id"), _REPORT.c.region_code == bindparam("region_code"))
        .scalar_subquery())))
    .where(_REGION.c.code.in_(bindparam("chain", expanding=True))))


def latest_with_regions(event_id: int, region_code: str) -> tuple[Previous | None, dict]:
    """The region's latest report (:func:`latest_of`) and the population rows of the region and
    its ancestors (:func:`.plausibility.region_rows`), in one query."""
    result = db.session.connection().execute(_LATEST_WITH_REGIONS, {
        "event_id": event_id, "region_code": region_code, "chain": [region_code, *codes.ancestors(region_code)]})
    rows, prev = {}, None
    for code, population, households, kind, sequence, as_of, figures in result:
        rows[code] = (population, households)
        if code == region_code and sequence is not None:
            prev = Previous(kind, sequence, as_of, figures)
    return prev, rows


# --- The checks ----------------------------------------------------------------------------------

def check_report(user, event: Event, data: Any, previous: Callable[[str], Previous | None],
                 now: datetime, regions: Callable[[str], dict] | None = None) -> Draft:
    """Every rule of a loss report; raises :class:`Rejected` (403, 409 or 422 with all errors,
    one per field). ``previous(code)`` gives the region's latest report, ``regions(code)`` the
    population rows of the region and its ancestors (:func:`.plausibility.region_rows` unless
    given), after ``previous(code)``."""
    values, errors = validate(REPORT_FIELDS, data)
    code = values["region_code"]
    prev, rows = _check_region(user, event, code, previous, errors, regions or plausibility.region_rows)
    if event.status == "closed":
        raise Rejected(Conflict, "灾害过程已结束，不再接受报告。", [{"field": "event", "message": "已结束"}])
    region_ok = code is not None and not any(e["field"] == "region_code" for e in errors)
    clean: dict = {}
    if values["figures"] is not None:
        clean, figure_errors = indicators.validate(values["figures"], float(config("REPORT_FIGURE_MAX")))
        errors.extend(figure_errors)
    as_of = values["as_of"]
    _check_as_of(event, as_of, prev, now, errors)
    note = (values["note"] or "").strip() or None
    if clean and region_ok:
        plausibility.check(event, code, prev, clean, note, errors, rows)
    errors = plausibility.one_per_field(errors)
    if errors:
        raise Rejected(Invalid, f"灾情报告有 {len(errors)} 处错误。", errors)
    _check_sequence(code, values["kind"], prev, reopened=lambda: _reopened(event.id, code))
    return Draft(code, values["kind"], as_of.astimezone(timezone.utc), clean, note,
                 indicators.deaths_and_missing(prev.figures) if prev is not None else 0)


def _check_region(user, event: Event, code: str | None, previous: Callable[[str], Previous | None],
                  errors: list[dict], regions: Callable[[str], dict]) -> tuple[Previous | None, dict | None]:
    """The region's latest report, once the region is the user's (403 otherwise), inside the
    event's affected area and known; with the population rows of the region and its ancestors
    (:func:`.plausibility.region_rows`: one query that is also the proof that the region exists)."""
    if code is None:
        return None, None
    if not can(user, "report.submit", code):
        raise Rejected(Forbidden, f"区划 {code} 不在当前用户的管辖范围内，不能报送。",
                       [{"field": "region_code", "message": "不在管辖范围内"}])
    if not any(codes.is_within(code, affected) for affected in event.region_codes):
        errors.append({"field": "region_code",
                       "message": f"区划 {code} 不在本次灾害过程的受灾区域内"
                                  f"（{', '.join(event.region_codes)}）"})
        return None, None
    prev = previous(code)
    rows = regions(code)
    # (a region that has reports exists: they reference it)
    if prev is None and code not in rows:
        errors.append({"field": "region_code", "message": f"区划 {code} 不存在"})
    return prev, rows


def _check_as_of(event: Event, as_of: datetime | None, prev: Previous | None, now: datetime,
                 errors: list[dict]) -> None:
    if as_of is None:
        return
    if as_of > now:
        errors.append({"field": "as_of", "message": "截至时间不能晚于现在"})
    elif as_of < event.started_at:
        errors.append({"field": "as_of", "message": "截至时间不能早于灾害开始时间"})
    if prev is not None and as_of < prev.as_of:
        errors.append({"field": "as_of", "message": f"截至时间不能早于上一份报告（{prev.as_of.isoformat()}）"})


#: Functions ``(event_id, region_code) -> bool`` saying that a region's verified report was sent
#: back by the level above (退回), which reopens the region for a corrected one. Areas that
#: review reports register them through :func:`reopen_final_when`.
_REOPENERS: list[Callable[[int, str], bool]] = []


def reopen_final_when(check: Callable[[int, str], bool]) -> None:
    """Register ``check``: a region whose 核报 it finds returned takes a corrected report."""
    if check not in _REOPENERS:
        _REOPENERS.append(check)


def _reopened(event_id: int, code: str) -> bool:
    return any(check(event_id, code) for check in _REOPENERS)


def _check_sequence(code: str, kind: str, prev: Previous | None,
                    reopened: Callable[[], bool] = lambda: False) -> None:
    """Initial first, then updates; a verified report closes the region (unless the level above
    returned it: then a corrected report follows)."""
    if prev is None and kind != "initial":
        raise Rejected(Conflict, f"区划 {code} 尚无报告：第一份报告必须是初报（initial）。",
                       [{"field": "kind", "message": "第一份报告必须是初报（initial）"}])
    if prev is not None and prev.kind == "final" and not reopened():
        raise Rejected(Conflict, f"区划 {code} 已核报（final），不再接受报告。",
                       [{"field": "kind", "message": "该区划已核报，报告已关闭"}])
    if prev is not None and kind == "initial":
        raise Rejected(Conflict, f"区划 {code} 已有初报：后续报告应为续报（update）或核报（final）。",
                       [{"field": "kind", "message": "已有初报，应为续报或核报"}])


def photos_required(event: Event, figures: Mapping[str, float]) -> int:
    """Photos a report needs: a major disaster (重大灾害 — flagged on the event, or deaths +
    missing at the direct-report threshold) needs ``REPORT_MAJOR_MIN_PHOTOS``."""
    major = event.major or indicators.deaths_and_missing(figures) >= config("REPORT_DIRECT_ALERT_DEATHS_MISSING")
    return int(config("REPORT_MAJOR_MIN_PHOTOS")) if major else 0


# --- Filing --------------------------------------------------------------------------------------

_EVENT_WITH_REGIONS = select(Event).options(joinedload(Event.regions)).where(Event.id == bindparam("event_id"))


def new_report(user, event: Event, draft: Draft, sequence: int, now: datetime) -> LossReport:
    return LossReport(event_id=event.id, region_code=draft.region_code, kind=draft.kind,
                      sequence=sequence, as_of=draft.as_of, figures=draft.figures, note=draft.note,
                      submitted_by_id=user.id, submitted_by=user.username, submitted_at=now)


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
        filed = _file_once(user, event, data)
        if filed is not None:
            report, draft = filed
            return report, _commit_filed(user, event, report, draft, before_commit)
    raise RetryableConflict("同一区划的报告正在并发提交，请稍后重试。",
                            [{"field": "region_code", "message": "并发冲突，可重试"}])


def _file_once(user, event: Event, data: Any) -> tuple[LossReport, Draft] | None:
    """Check the report against the region's latest and insert it; ``None`` when another report
    took its sequence number meanwhile (then it is checked again against that one)."""
    now = utcnow()
    seen: dict[str, Previous | None] = {}
    fetched: dict[str, dict] = {}

    def previous(code: str) -> Previous | None:
        seen[code], fetched[code] = latest_with_regions(event.id, code)
        return seen[code]

    def regions(code: str) -> dict:
        return fetched[code] if code in fetched else plausibility.region_rows(code)

    try:
        draft = check_report(user, event, data, previous, now, regions)
    except Rejected as rejected:
        rejected.raise_()
    prev = seen[draft.region_code] if draft.region_code in seen else previous(draft.region_code)
    report = new_report(user, event, draft, (prev.sequence if prev else 0) + 1, now)
    return (report, draft) if insert_unless_taken(report) else None


def _commit_filed(user, event: Event, report: LossReport, draft: Draft,
                  before_commit: Callable[[dict], None] | None) -> dict:
    """The audit line, the API body (and ``before_commit(body)``), the commit, then what follows it."""
    audit.record(user, "report.submit", "loss_report", report.id,
                 after={"event_id": event.id, "kind": draft.kind, "sequence": report.sequence,
                        "as_of": draft.as_of, "figures": draft.figures, "note": draft.note},
                 region_code=draft.region_code, at_once=True)
    body = report.to_dict()
    body.update(kind_label=REPORT_KINDS[report.kind], photo_count=0,
                photos_required=photos_required(event, draft.figures))
    if before_commit is not None:
        before_commit(body)
    commit_keeping_loaded()  # the body and the receivers use the objects as written
    after_commit(event, [report], [draft])
    return body


def insert_unless_taken(report: LossReport) -> bool:
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


def after_commit(event: Event, reports: list[LossReport], drafts: list[Draft]) -> None:
    """The direct-report check for every county where deaths + missing went up (only a rise
    can bring a county total to the threshold), then ``report_submitted`` per report."""
    app = current_app._get_current_object()
    counties = set()
    for draft in drafts:
        county = county_of(draft.region_code)
        if county and indicators.deaths_and_missing(draft.figures) > draft.previous_deaths_missing:
            counties.add(county)
    for county in sorted(counties):
        alerts.direct_report_alert(event, county)
    for report in reports:
        signals.report_submitted.send(app, report=report)
