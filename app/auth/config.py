"""Configuration of sign-in, sessions, passwords and login throttling (登录限制).

``apply(app)`` merges these defaults into ``app.config`` with ``setdefault`` at register time,
so ``instance/config.py``, ``JIUZAI_*`` variables and test configuration all win.
"""
from __future__ import annotations

from flask import Flask

DEFAULTS: dict = {
    # Throttling, stored in the database (table login_failure) so that every gunicorn worker and
    # every instance counts the same failures. Only failures count, never successes.
    "LOGIN_THROTTLE_ENABLED": True,
    # Per account: this many failures within the window lock the account for the lock-out time.
    "LOGIN_ACCOUNT_MAX_FAILURES": 5,
    "LOGIN_ACCOUNT_WINDOW_MINUTES": 15,
    "LOGIN_ACCOUNT_LOCKOUT_MINUTES": 15,
    # Per address: a much larger budget, so that a county office behind one NAT address still
    # gets in at 09:00 while a password sprayer from one address is stopped.
    "LOGIN_ADDRESS_MAX_FAILURES": 50,
    "LOGIN_ADDRESS_WINDOW_MINUTES": 15,
    "LOGIN_ADDRESS_LOCKOUT_MINUTES": 15,
    # Page sessions end after this long without a request, and this long after sign-in at most.
    "SESSION_IDLE_MINUTES": 120,
    "SESSION_MAX_HOURS": 12,
    # A temporary password (admin reset, ``users set-password --generate``) signs in once and
    # expires after this many hours.
    "TEMPORARY_PASSWORD_HOURS": 72,
    "PASSWORD_MIN_LENGTH": 8,
}


def apply(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
