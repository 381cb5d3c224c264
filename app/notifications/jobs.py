"""The scheduled sending of the notification outbox (``notifications.deliver``)."""
from __future__ import annotations

from .delivery import deliver_due


def deliver_job(now, run) -> dict:
    """Every minute: send the deliveries due (the scheduler's ``now`` is the fire time)."""
    return deliver_due()
