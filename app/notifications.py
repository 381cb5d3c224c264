"""Notifications (通知): an in-app list per user, and pluggable outbound adapters.

``notify(users, title, body, link)`` stores one row per recipient and hands the message to every
adapter named in ``NOTIFIER_ADAPTERS`` (``log`` by default; ``email`` and ``sms`` post to the
gateways set in configuration). An adapter that fails is logged; the in-app row still stands.
"""
from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from datetime import datetime
from email.message import EmailMessage
from typing import Iterable, Protocol

from flask import current_app
from sqlalchemy import Boolean, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from gis import codes

from .extensions import db
from .models_common import utcnow
from .types import UTCDateTime

log = logging.getLogger("jiuzai.notify")


class Notification(db.Model):
    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300))
    dedupe_key: Mapped[str | None] = mapped_column(String(200), index=True)
    read: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "title": self.title, "body": self.body,
                "link": self.link, "read": self.read, "created_at": self.created_at.isoformat()}


class Notifier(Protocol):
    def send(self, user, title: str, body: str, link: str | None) -> None: ...


class LogNotifier:
    def send(self, user, title, body, link):
        log.info("notify %s (%s): %s — %s %s", user.username, user.role, title, body, link or "")


class EmailNotifier:
    """SMTP: ``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_FROM``."""

    def send(self, user, title, body, link):
        if not user.email:
            return
        config = current_app.config
        message = EmailMessage()
        message["Subject"], message["From"], message["To"] = title, config["SMTP_FROM"], user.email
        message.set_content(f"{body}\n{link or ''}")
        with smtplib.SMTP(config["SMTP_HOST"], config.get("SMTP_PORT", 25), timeout=10) as smtp:
            smtp.send_message(message)


class SmsGatewayNotifier:
    """POST ``{"phone", "text"}`` as JSON to ``SMS_GATEWAY_URL`` (an intranet SMS gateway)."""

    def send(self, user, title, body, link):
        if not user.phone:
            return
        data = json.dumps({"phone": user.phone, "text": f"{title}：{body}"}).encode()
        request = urllib.request.Request(current_app.config["SMS_GATEWAY_URL"], data=data,
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=10).close()


ADAPTERS: dict[str, type] = {"log": LogNotifier, "email": EmailNotifier, "sms": SmsGatewayNotifier}


def adapters() -> list[Notifier]:
    return [ADAPTERS[name]() for name in current_app.config["NOTIFIER_ADAPTERS"]]


def notify(users: Iterable, kind: str, title: str, body: str = "", link: str | None = None,
           dedupe_key: str | None = None) -> list[Notification]:
    """Store a notification for each user (once per ``dedupe_key``) and send it out.

    Rows join the caller's transaction; outbound adapters run immediately and never raise.
    """
    made = []
    for user in users:
        if dedupe_key and db.session.scalar(select(Notification.id).filter_by(
                user_id=user.id, dedupe_key=dedupe_key)) is not None:
            continue
        row = Notification(user_id=user.id, kind=kind, title=title, body=body, link=link,
                           dedupe_key=dedupe_key)
        db.session.add(row)
        made.append(row)
        for adapter in adapters():
            try:
                adapter.send(user, title, body, link)
            except Exception:  # an unreachable gateway must not lose the in-app notification
                log.exception("notifier %s failed for %s", type(adapter).__name__, user.username)
    return made


def coordinators_covering(region_code: str, *, levels: Iterable[str] | None = None) -> list:
    """Active coordinators whose jurisdiction covers ``region_code`` (optionally only those whose
    jurisdiction is at one of ``levels``: ``nation``, ``province`` …)."""
    from .auth.models import User

    wanted = set(levels) if levels else None
    users = db.session.scalars(select(User).filter_by(role="coordinator", active=True)).all()
    return [u for u in users if codes.is_within(region_code, u.region_code)
            and (wanted is None or codes.level_of(u.region_code) in wanted)]
