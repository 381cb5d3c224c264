"""Sending the outbox (发送队列): deliveries due now go out through their adapters, after the
transaction that made them committed, each claimed before it is sent so that two processes
never send the same one at once.

A claim moves ``next_attempt_at`` one lease (``NOTIFY_CLAIM_SECONDS``) ahead and counts the
attempt, in its own committed statement; success marks the row ``sent``; a failure keeps the
error and waits ``NOTIFY_RETRY_SECONDS`` × 2^(attempts − 1) (at most a day); the
``NOTIFY_MAX_ATTEMPTS``-th failure marks it ``failed``. A process that dies between the claim and
the outcome leaves the row due again when the lease ends: a message may go twice, never zero
times. The in-app notification stands whatever the adapters do.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from .. import auth
from ..extensions import db
from ..models_common import utcnow
from .adapters import ADAPTERS, log
from .models import Delivery

MAX_WAIT = timedelta(days=1)


def _claim(delivery_id: int, now: datetime) -> bool:
    lease = timedelta(seconds=current_app.config["NOTIFY_CLAIM_SECONDS"])
    claimed = db.session.execute(
        update(Delivery).where(Delivery.id == delivery_id, Delivery.status == "pending",
                               Delivery.next_attempt_at <= now)
        .values(next_attempt_at=now + lease, attempts=Delivery.attempts + 1)).rowcount
    db.session.commit()
    return bool(claimed)


def _retry_wait(attempts: int) -> timedelta:
    base = timedelta(seconds=current_app.config["NOTIFY_RETRY_SECONDS"])
    return min(base * 2 ** max(attempts - 1, 0), MAX_WAIT)


def _send(delivery: Delivery) -> None:
    notification = delivery.notification
    user = db.session.get(auth.User, notification.user_id)
    adapter = ADAPTERS.get(delivery.adapter)
    if adapter is None:
        raise LookupError(f"no notifier adapter named {delivery.adapter!r}")
    adapter().send(user, notification.title, notification.body, notification.link)


def _outcome(delivery: Delivery, now: datetime, error: Exception | None) -> str:
    if error is None:
        delivery.status, delivery.sent_at, delivery.last_error = "sent", now, None
    elif delivery.attempts >= current_app.config["NOTIFY_MAX_ATTEMPTS"]:
        delivery.status, delivery.last_error = "failed", f"{type(error).__name__}: {error}"[:1000]
    else:
        delivery.next_attempt_at = now + _retry_wait(delivery.attempts)
        delivery.last_error = f"{type(error).__name__}: {error}"[:1000]
    db.session.commit()
    return "sent" if error is None else delivery.status if delivery.status == "failed" else "retry"


def deliver_due(now: datetime | None = None, limit: int = 500) -> dict:
    """Send every delivery due at ``now`` (at most ``limit``); the counts of what happened."""
    now = now or utcnow()
    due = db.session.scalars(select(Delivery.id).where(Delivery.status == "pending",
                                                       Delivery.next_attempt_at <= now)
                             .order_by(Delivery.id).limit(limit)).all()
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    for delivery_id in due:
        if not _claim(delivery_id, now):
            counts["skipped"] += 1  # another process has it
            continue
        delivery = db.session.get(Delivery, delivery_id)
        try:
            _send(delivery)
            error = None
        except Exception as exc:  # a gateway down must not stop the others
            log.warning("notifier %s failed for delivery %s: %s", delivery.adapter, delivery_id, exc)
            error = exc
        counts[_outcome(delivery, now, error)] += 1
    return counts


def outbox_counts() -> dict[str, int]:
    """How many deliveries are pending, sent and failed (for the operators' CLI)."""
    rows = db.session.execute(select(Delivery.status, db.func.count()).group_by(Delivery.status)).all()
    return {status: count for status, count in rows}
