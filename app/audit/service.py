"""Write and read the audit log."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import has_request_context, request
from sqlalchemy import insert, select

from ..extensions import db
from ..types import jsonable
from ..models_common import AuditEntry, utcnow
from ..permissions import require


def record(user, action: str, entity_type: str, entity_id, *, before: dict | None = None,
           after: dict | None = None, region_code: str | None = None, note: str | None = None,
           at_once: bool = False) -> AuditEntry | None:
    """Add an audit line to the current transaction (it commits with the change it describes).

    ``at_once``: the same line, written now by one ``INSERT`` on the session's connection
    instead of at the next flush (no unit of work: what a hot path such as the report ingest
    saves); nothing is returned then."""
    values = dict(
        user_id=getattr(user, "id", None),
        username=getattr(user, "username", None) or "system",
        action=action, entity_type=entity_type, entity_id=str(entity_id),
        before=jsonable(before), after=jsonable(after), region_code=region_code, note=note,
        remote_addr=request.remote_addr if has_request_context() else None,
    )
    if at_once:
        db.session.connection().execute(_INSERT, {**values, "at": utcnow()})
        return None
    entry = AuditEntry(**values)
    db.session.add(entry)
    return entry


#: Built once: the line of ``record(..., at_once=True)``.
_INSERT = insert(AuditEntry.__table__)


def recent(user, limit: int = 200, **filters) -> list[AuditEntry]:
    """The audit page's list: the newest lines the user may see."""
    return db.session.scalars(search(user, **filters).limit(limit)).all()


def search(user, *, entity_type=None, action=None, username=None, region_code=None,
           since: date | None = None, until: date | None = None):
    """A ``select`` of audit lines the user may see, newest first."""
    from gis import codes

    require(user, "audit.view", user.region_code)
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    if entity_type:
        stmt = stmt.where(AuditEntry.entity_type == entity_type)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if username:
        stmt = stmt.where(AuditEntry.username == username)
    if region_code:
        stmt = stmt.where(AuditEntry.region_code.like(codes.prefix_of(region_code) + "%"))
    if user.region_code != codes.NATIONAL:
        stmt = stmt.where(AuditEntry.region_code.like(codes.prefix_of(user.region_code) + "%"))
    if since:
        stmt = stmt.where(AuditEntry.at >= datetime.combine(since, datetime.min.time()).astimezone())
    if until:
        stmt = stmt.where(AuditEntry.at < datetime.combine(until + timedelta(days=1), datetime.min.time()).astimezone())
    return stmt
