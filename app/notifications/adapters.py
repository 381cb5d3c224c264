"""Outbound notification adapters (log, email, SMS gateway), named in ``NOTIFIER_ADAPTERS``."""
from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from email.message import EmailMessage
from typing import Protocol

from flask import current_app

log = logging.getLogger("jiuzai.notify")


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
