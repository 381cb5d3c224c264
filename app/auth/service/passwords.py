"""Passwords (密码): the field every password is read by (never stripped: a password is exactly
what was typed), the rules a new one follows, the temporary passwords an admin's reset gives
(临时密码: easy to read aloud) and storing a chosen one."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask import current_app

from ...validation import Field
from ..models import User
from .common import t

MAX_PASSWORD_LENGTH = 128
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"


def password_field(description: str = "") -> Field:
    """A password as typed: no control characters, at most :data:`MAX_PASSWORD_LENGTH`
    characters, never trimmed (the same password on the pages and in the API)."""
    return Field("str", max_length=MAX_PASSWORD_LENGTH, strip=False, description=description)


def generate_password() -> str:
    """A temporary password that reads aloud well (no 0/O, 1/l/I): three groups of four, with
    letters and digits, about 70 bits."""
    while True:
        groups = ["".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3)]
        password = "-".join(groups)
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def password_problems(password: str, username: str = "", *, old: str | None = None) -> list[str]:
    """Why ``password`` (already read by :func:`password_field`) may not be chosen, empty when
    it may: at least ``PASSWORD_MIN_LENGTH`` characters, two of letters / digits / other
    characters, not containing the username, not the old password."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    problems = []
    if len(password) < minimum:
        problems.append(t("密码至少 %(n)s 位", n=minimum))
    kinds = (any(c.isalpha() for c in password), any(c.isdigit() for c in password),
             any(not c.isalnum() for c in password))
    if sum(kinds) < 2:
        problems.append(t("密码须包含字母、数字、符号中的至少两类"))
    if username and len(username) >= 3 and username.lower() in password.lower():
        problems.append(t("密码不能包含用户名"))
    if old is not None and password == old:
        problems.append(t("新密码不能与当前密码相同"))
    return problems


def rule_errors(field: str, password: str | None, username: str | None, *, old: str | None = None) -> list[dict]:
    """:func:`password_problems` as errors naming ``field`` (none when the password could not
    even be read: its field error says why)."""
    if password is None:
        return []
    return [{"field": field, "message": m} for m in password_problems(password, username or "", old=old)]


def store_password(user: User, password: str, moment: datetime) -> None:
    """A password the user chose (or an operator set): no change is forced any more."""
    user.set_password(password)
    user.must_change_password = False
    user.temporary_password_expires_at = user.temporary_password_used_at = None
    user.password_changed_at = moment
