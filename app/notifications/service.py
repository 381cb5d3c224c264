"""Notifications (通知): an in-app list per user, and pluggable outbound adapters.

``notify(users, title, body, link)`` stores one row per recipient and, in the same transaction,
one delivery per adapter named in ``NOTIFIER_ADAPTERS`` (``log`` by default; ``email`` and
``sms`` post to the gateways set in configuration). Nothing is sent inside the caller's
transaction: :mod:`.delivery` sends after commit, with retries and back-off.
Every user reads and marks their own notifications here, whichever area sent them.
"""
from __future__ import annotations

from typing import Iterable

from flask import current_app
from sqlalchemy import func, select

from gis import codes

from .. import auth
from ..errors import NotFound
from ..extensions import db
from ..models_common import utcnow
from ..permissions import can, require
from .models import Delivery, Notification, written


def notify(users: Iterable, kind: str, title: str, body: str = "", link: str | None = None,
           dedupe_key: str | None = None, params: dict | None = None) -> list[Notification]:
    """Store a notification for each user (once per ``dedupe_key``) and send it out.

    With ``params``, ``title`` and ``body`` are messages of the catalogue (``"调拨单 #%(id)s 待审批"``)
    and each reader sees them in their own language; the Chinese text is stored beside them for
    the outbound adapters. Rows and their deliveries join the caller's transaction; nothing goes
    out until it commits and the delivery job runs (:func:`.delivery.deliver_due`).
    """
    message = None
    if params is not None:
        message = {"title": title, "body": body, "params": params}
        chinese = {key: written(value) for key, value in params.items()}
        title, body = title % chinese, (body % chinese if body else "")
    made = []
    names = list(current_app.config["NOTIFIER_ADAPTERS"])
    for user in users:
        if dedupe_key and db.session.scalar(select(Notification.id).filter_by(
                user_id=user.id, dedupe_key=dedupe_key)) is not None:
            continue
        row = Notification(user_id=user.id, kind=kind, title=title, body=body, link=link,
                           dedupe_key=dedupe_key, message=message)
        db.session.add(row)
        db.session.add_all(Delivery(notification=row, adapter=name, next_attempt_at=utcnow()) for name in names)
        made.append(row)
    return made


def goods(lines: Iterable) -> dict:
    """A list of goods as one value of a notification's message, kept as data and written out in
    each reader's words when read ("帐篷 40顶，棉被 10床", "Tent 40 tents, Quilt 10 quilts"):
    ``lines`` of ``(name, quantity, unit)`` or ``(name, quantity, unit, depot)``, the item's name
    and unit as the catalogue has them, the depot's name as it is."""
    out = []
    for line in lines:
        name, quantity, unit, *rest = line
        out.append({"name": name, "quantity": quantity, "unit": unit, **({"depot": rest[0]} if rest else {})})
    return {"goods": out}


def listing(message: str, items: Iterable[dict], joiner: str = "、") -> dict:
    """Several values of one kind as one value of a notification's message: each of ``items``
    through the catalogue's ``message``, joined by ``joiner`` (a catalogue message too), written
    out in each reader's language when read; the items' values are data, shown as they are."""
    return {"listing": message, "items": list(items), "joiner": joiner}


def coordinators_covering(region_code: str, *, levels: Iterable[str] | None = None) -> list:
    """Active coordinators whose jurisdiction covers ``region_code`` (optionally only those whose
    jurisdiction is at one of ``levels``: ``nation``, ``province`` …)."""
    wanted = set(levels) if levels else None
    users = db.session.scalars(select(auth.User).filter_by(role="coordinator", active=True)).all()
    return [u for u in users if codes.is_within(region_code, u.region_code)
            and (wanted is None or codes.level_of(u.region_code) in wanted)]


def notifications_query(user, unread_only: bool = False, kind: str | None = None):
    """The user's own notifications, newest first (every area's: tiers, direct reports …)."""
    require(user, "notification.view")
    stmt = select(Notification).filter_by(user_id=user.id)
    if unread_only:
        stmt = stmt.filter_by(read=False)
    if kind:
        stmt = stmt.filter_by(kind=kind)
    return stmt.order_by(Notification.created_at.desc(), Notification.id.desc())


def recent(user, unread_only: bool = False, limit: int = 200) -> list[Notification]:
    """The page's list: the user's newest notifications."""
    return db.session.scalars(notifications_query(user, unread_only).limit(limit)).all()


def unread_count(user) -> int:
    if not can(user, "notification.view"):
        return 0
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .filter_by(user_id=user.id, read=False)) or 0


def mark_read(user, notification_id: int) -> Notification:
    require(user, "notification.view")
    row = db.session.get(Notification, notification_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"通知 {notification_id} 不存在。")
    row.read = True
    db.session.commit()
    return row


def mark_all_read(user) -> int:
    require(user, "notification.view")
    rows = db.session.scalars(select(Notification).filter_by(user_id=user.id, read=False)).all()
    for row in rows:
        row.read = True
    db.session.commit()
    return len(rows)


def home_panel(user) -> dict | None:
    """The home page's panel (:mod:`app.areas`): the newest unread notifications."""
    if not can(user, "notification.view"):
        return None
    return {"template": "notifications/_home_panel.html", "unread": unread_count(user),
            "latest": recent(user, unread_only=True, limit=5)}
