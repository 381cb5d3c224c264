"""Scheduled job of response levels (:mod:`app.jobs`): the assessment sweep."""
from __future__ import annotations

from .service import refresh_stale_assessments


def refresh_job(now, run):
    """``responses.refresh``: assessments left stale by a burst of reports, recomputed."""
    return {"refreshed": refresh_stale_assessments(now)}
