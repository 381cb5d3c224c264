"""The in-app notification (通知): one row per recipient; and its deliveries through the outbound
adapters (发送队列, the outbox), written in the same transaction and sent after it commits."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models_common import utcnow
from ..types import UTCDateTime


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
    #: ``{"title": msgid, "body": msgid, "params": {...}}``: the text in any reader's language.
    #: ``title`` and ``body`` hold it in Chinese, for adapters and rows older than this column.
    message: Mapped[dict | None] = mapped_column(JSON)

    @property
    def read_title(self) -> str:
        """The title in the reader's language (通知标题)."""
        return self._read("title")

    @property
    def read_body(self) -> str:
        return self._read("body")

    def _read(self, part: str) -> str:
        from ..i18n import translate

        stored = getattr(self, part)
        if not self.message or not self.message.get(part):
            return translate(stored) if stored else ""
        # A value may itself be a label of the catalogue (a level's name, a kind of report), or
        # a list of goods written out in the reader's words.
        params = {key: written(value, translate) for key, value in (self.message.get("params") or {}).items()}
        return translate(self.message[part], **params)

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "title": self.read_title, "body": self.read_body,
                "link": self.link, "read": self.read, "created_at": self.created_at.isoformat()}


def written(value, translate=lambda text, **params: text % params if params else text):
    """A value of a notification's message as text through ``translate`` (by default the Chinese
    of the catalogue's messages, as stored for the adapters): a label through the catalogue, a list
    of goods (:func:`app.notifications.goods`) line by line, a listing
    (:func:`app.notifications.listing`) item by item, anything else as it is."""
    if isinstance(value, dict) and "goods" in value:
        lines = [translate("%(depot)s：%(name)s %(quantity)s%(unit)s" if line.get("depot") else
                           "%(name)s %(quantity)s%(unit)s",
                           depot=line.get("depot") or "", name=translate(line["name"]) if line["name"] else "",
                           quantity=line["quantity"], unit=translate(line["unit"]) if line["unit"] else "")
                 for line in value["goods"]]
        return translate("，").join(lines)
    if isinstance(value, dict) and "listing" in value:
        return translate(value["joiner"]).join(translate(value["listing"], **item) for item in value["items"])
    return translate(value) if isinstance(value, str) and value else value


class Delivery(db.Model):
    """One notification to send through one adapter (``log``, ``email``, ``sms``): the outbox.

    ``notify`` adds the rows inside the caller's transaction, so a rolled-back change sends
    nothing and a committed one cannot lose its messages; the ``notifications.deliver`` job sends
    them after commit. Sending claims a row by moving ``next_attempt_at`` a lease ahead, so a
    process that dies mid-send leaves it due again later (at least once, never lost); a failure
    waits twice as long each time, until ``NOTIFY_MAX_ATTEMPTS`` marks it ``failed``.
    """

    __tablename__ = "notification_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id"), index=True)
    adapter: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    notification: Mapped[Notification] = relationship()

    def to_dict(self) -> dict:
        return {"id": self.id, "notification_id": self.notification_id, "adapter": self.adapter,
                "status": self.status, "attempts": self.attempts,
                "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
                "last_error": self.last_error, "sent_at": self.sent_at.isoformat() if self.sent_at else None}
