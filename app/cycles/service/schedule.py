"""The scheduled jobs as the cycles' API shows them: each declared job (:data:`app.jobs.JOBS`) with
its trigger and its last run, and which scheduler process holds the lease."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from ...extensions import db
from ...jobs import JOBS
from ...permissions import require
from ...scheduler import JobRun, lease_holder, trigger_fields


def jobs_overview(user) -> dict:
    require(user, "cycle.view")
    items = []
    for spec in JOBS:
        last = db.session.scalar(select(JobRun).filter_by(job_id=spec.id).order_by(JobRun.scheduled_for.desc()))
        items.append({"id": spec.id, "name": spec.name, "description": spec.description,
                      "trigger": trigger_fields(spec, current_app.config),
                      "catchup_seconds": int(spec.catchup.total_seconds()),
                      "last_run": last.to_dict() if last else None})
    lease = lease_holder()
    return {"items": items,
            "lease": {"holder": lease.holder, "expires_at": lease.expires_at.isoformat()} if lease else None}
