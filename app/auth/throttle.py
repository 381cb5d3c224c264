"""Login throttling (登录失败限制) stored in the database, so that every gunicorn worker and every
instance sees the same counts.

Two budgets, each ``(max failures, window, lock-out)`` from the configuration:

- per account (the name that was tried, known or not): 5 failures in 15 minutes lock it for 15
  minutes by default;
- per address: a much larger budget (50 / 15 minutes), so that forty clerks behind one NAT
  address all get in at 09:00, while one address spraying passwords over many names is stopped.

Only failures count. An attempt is written down *before* its password is checked (and committed,
so that concurrent attempts in other workers see it) and withdrawn when the password was right:
two workers racing on the fifth attempt cannot both get a sixth try. A lock lasts ``lock-out``
from the failure that reached the budget; attempts refused while locked check no password and
are not written down. Rows older than the longest window plus lock-out are pruned on insert.
"""
from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import delete, or_, select, update

from ..errors import ServiceError
from ..extensions import db
from .models import LoginFailure


class LoginThrottled(ServiceError):
    """429: too many failed sign-ins; ``retry_at`` says when to try again."""

    status, title = 429, "登录失败次数过多"

    def __init__(self, detail: str, retry_at: datetime, now: datetime):
        super().__init__(detail)
        self.retry_at = retry_at
        self.retry_after = max(1, math.ceil((retry_at - now).total_seconds()))


@dataclass(frozen=True)
class Lock:
    scope: str  # "account" or "address"
    until: datetime


def enabled() -> bool:
    return bool(current_app.config["LOGIN_THROTTLE_ENABLED"])


def account_key(username) -> str:
    """The name an attempt counts against: as typed, without control or unencodable characters
    (which no username has), at most the column's 80 characters."""
    text = username if isinstance(username, str) else ""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")[:80]


def address_key(address: str | None) -> str:
    return (address or "unknown")[:64]


def _budget(scope: str) -> tuple[int, timedelta, timedelta]:
    config = current_app.config
    prefix = f"LOGIN_{scope.upper()}_"
    return (int(config[prefix + "MAX_FAILURES"]), timedelta(minutes=config[prefix + "WINDOW_MINUTES"]),
            timedelta(minutes=config[prefix + "LOCKOUT_MINUTES"]))


def _horizon() -> timedelta:
    return max(window + lockout for _, window, lockout in (_budget("account"), _budget("address")))


def _locked_until(times: list[datetime], scope: str, now: datetime) -> datetime | None:
    """The end of the latest lock-out that ``times`` (failures, any order) cause and that has
    not ended at ``now``: a lock starts at a failure that makes ``max`` within one window."""
    most, window, lockout = _budget(scope)
    if most <= 0:
        return None
    times = sorted(times)
    until = None
    for i in range(most - 1, len(times)):
        if times[i] - times[i - most + 1] < window:
            end = times[i] + lockout
            if end > now and (until is None or end > until):
                until = end
    return until


def check(username: str, address: str, now: datetime, *, before_id: int | None = None) -> Lock | None:
    """The lock on this account or address at ``now`` (the later of the two), or ``None``; with
    ``before_id``, counting only the attempts written before that one. One query."""
    stmt = (select(LoginFailure.id, LoginFailure.at, LoginFailure.username, LoginFailure.address,
                   LoginFailure.account_cleared)
            .where(LoginFailure.at > now - _horizon(),
                   or_(LoginFailure.username == username, LoginFailure.address == address)))
    if before_id is not None:
        stmt = stmt.where(LoginFailure.id < before_id)
    rows = db.session.execute(stmt).all()
    locks = []
    account = _locked_until([r.at for r in rows if r.username == username and not r.account_cleared],
                            "account", now)
    if account:
        locks.append(Lock("account", account))
    address_until = _locked_until([r.at for r in rows if r.address == address], "address", now)
    if address_until:
        locks.append(Lock("address", address_until))
    return max(locks, key=lambda lock: lock.until) if locks else None


def record_attempt(username: str, address: str, now: datetime) -> int:
    """Write the attempt down as a failure and commit it (so that other workers count it at
    once), pruning rows too old to matter; its id, to :func:`withdraw` it if the password is right."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < now - _horizon()))
    attempt = LoginFailure(at=now, username=username, address=address, account_cleared=False)
    db.session.add(attempt)
    db.session.flush()
    attempt_id = attempt.id
    db.session.commit()
    return attempt_id


def withdraw(attempt_id: int) -> None:
    """Remove an attempt that turned out not to be a failure (right password, or refused
    unchecked); in the caller's transaction."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.id == attempt_id))


def forgive_account(username: str) -> None:
    """A successful sign-in (or an admin's reset or unlock): the account's earlier failures no
    longer count against it (they still count against their addresses). In the caller's
    transaction."""
    db.session.execute(update(LoginFailure).where(LoginFailure.username == username,
                                                  LoginFailure.account_cleared.is_(False))
                       .values(account_cleared=True))


def retry_time(lock: Lock) -> datetime:
    """When to try again, rounded up to the whole minute that is shown to the user."""
    until = lock.until
    if until.second or until.microsecond:
        until = until.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return until


def local_text(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y-%m-%d %H:%M")
