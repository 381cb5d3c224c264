"""Users (用户), their sign-in sessions (会话), API tokens (令牌) and failed sign-ins (登录失败)."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models_common import utcnow
from ..types import UTCDateTime


class User(UserMixin, db.Model):
    """A person who signs in: a role and a jurisdiction (管辖区划).

    ``must_change_password`` sends every page to the change-password page, and answers every API
    call but ``/me`` and ``/me/password`` with a 403, until the user has chosen a password. A
    temporary password (临时密码, from an admin's reset) also has ``temporary_password_expires_at``
    and signs in once: ``temporary_password_used_at`` is stamped by that sign-in.
    """

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(80), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str] = mapped_column(String(12))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    temporary_password_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    temporary_password_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    #: Set on the instance the user loader returns: the secret of the sign-in session the
    #: request came with (the cookie carries it, see :meth:`session_cookie_id`) and its id.
    session_key = None
    session_id = None

    def session_cookie_id(self) -> str:
        """What Flask-Login stores in the (signed) session cookie (its ``id_attribute``): the
        user and the secret of one server-side :class:`UserSession`, so that a logged-out or
        revoked session, or a cookie forged with a user id alone, loads no user. ``get_id`` (and
        so equality of users) stays the plain id."""
        if not self.session_key:
            raise RuntimeError("sign in through app.auth.service.sign_in, which opens a session")
        return f"{self.id}.{self.session_key}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(
            password, method=current_app.config["PASSWORD_HASH_METHOD"])

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def to_dict(self) -> dict:
        return {"id": self.id, "username": self.username, "full_name": self.full_name,
                "role": self.role, "region_code": self.region_code, "active": self.active,
                "must_change_password": bool(self.must_change_password)}


class UserSession(db.Model):
    """One sign-in on the pages (登录会话). Only the SHA-256 of its secret is stored; the signed
    session cookie carries the secret. ``revoked_at`` ends it at once (logout, password change,
    reset, deactivation, or the user or an admin signing it out)."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(40))

    def to_dict(self, current_id: int | None = None) -> dict:
        return {"id": self.id, "user_id": self.user_id, "created_at": self.created_at.isoformat(),
                "last_seen_at": self.last_seen_at.isoformat(), "ip": self.ip,
                "user_agent": self.user_agent, "current": self.id == current_id}


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    label: Mapped[str | None] = mapped_column(String(80))
    created_ip: Mapped[str | None] = mapped_column(String(64))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(40))

    @hybrid_property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @revoked.inplace.setter
    def _revoked_setter(self, value: bool) -> None:
        self.revoked_at = (self.revoked_at or utcnow()) if value else None

    @revoked.inplace.expression
    @classmethod
    def _revoked_expression(cls):
        return cls.revoked_at.is_not(None)

    def to_dict(self) -> dict:
        return {"id": self.id, "user_id": self.user_id, "label": self.label,
                "created_at": self.created_at.isoformat(), "expires_at": self.expires_at.isoformat(),
                "created_ip": self.created_ip,
                "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None}


class LoginFailure(db.Model):
    """A failed sign-in (登录失败), counted per account and per address by every worker and
    instance alike (the database is what they share). Rows older than the longest window are
    pruned whenever one is added. ``account_cleared`` marks the failures a successful sign-in
    of that account forgave: they no longer count against the account, still against the
    address they came from."""

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_username_at", "username", "at"),
        Index("ix_login_failure_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64))
    account_cleared: Mapped[bool] = mapped_column(Boolean, default=False)
