"""Tables that serve every area: idempotency keys and the audit log (审计日志)."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .types import JSONType, UTCDateTime


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class IdempotencyRecord(db.Model):
    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    key: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(300))
    body_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(db.Model):
    """One append-only line of the audit log: who, when, what, before and after."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entity", "entity_type", "entity_id"),
        Index("ix_audit_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    username: Mapped[str] = mapped_column(String(80), default="system")
    action: Mapped[str] = mapped_column(String(80))
    entity_type: Mapped[str] = mapped_column(String(80))
    entity_id: Mapped[str] = mapped_column(String(80))
    region_code: Mapped[str | None] = mapped_column(String(12), index=True)
    before: Mapped[dict | None] = mapped_column(JSONType)
    after: Mapped[dict | None] = mapped_column(JSONType)
    note: Mapped[str | None] = mapped_column(Text)
    remote_addr: Mapped[str | None] = mapped_column(String(64))

    def to_dict(self) -> dict:
        return {"id": self.id, "at": self.at.isoformat(), "user": self.username, "action": self.action,
                "entity_type": self.entity_type, "entity_id": self.entity_id,
                "region_code": self.region_code, "before": self.before, "after": self.after,
                "note": self.note}


class AppendOnlyError(RuntimeError):
    """An attempt to edit or delete a row of an append-only ledger."""


def make_append_only(model) -> None:
    """Refuse UPDATE and DELETE of ``model`` rows through the ORM (the PostgreSQL migration adds
    a trigger that refuses them in the database too)."""

    def refuse(_mapper, _connection, target):
        raise AppendOnlyError(f"{type(target).__name__} 是只增不改的台账，不能修改或删除")

    event.listen(model, "before_update", refuse)
    event.listen(model, "before_delete", refuse)


make_append_only(AuditEntry)
