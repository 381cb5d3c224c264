"""The complaints' scheduled job (declared in :mod:`app.jobs`): escalate overdue complaints."""
from __future__ import annotations

from . import service


def escalate_overdue(now, run):
    return service.escalate_overdue(now)
