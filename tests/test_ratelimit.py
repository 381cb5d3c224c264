"""Rate limits counted in the database (app/ratelimit.py): every worker and every instance on one
database share a count, per address; a window ends on time."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.ratelimit import DatabaseStorage, RateLimitCounter

START = datetime(2026, 7, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def instance(app):
    """Another application object over the same database: as a second gunicorn worker or host
    (building it re-initialises the shared Limiter, so no in-process counter survives)."""
    return create_app({**app.config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "database://",
                       "COMPLAINT_RATE_LIMIT": "2 per hour"})


def complain(client, text, address="10.0.0.1"):
    return client.post("/public/complaints/new", data={
        "kind": "tip", "subject": "misuse", "region_code": "140105", "content": text},
        environ_base={"REMOTE_ADDR": address}).status_code


def test_two_instances_share_the_count_per_address(app):
    with time_machine.travel(START, tick=False):
        first = instance(app)
        assert [complain(first.test_client(), f"第{i}次") for i in range(2)] == [302, 302]
        second = instance(app)
        assert complain(second.test_client(), "第三次") == 429
        assert complain(first.test_client(), "第四次") == 429
        assert complain(second.test_client(), "另一个地址", address="10.0.0.2") == 302  # per address
        with second.app_context():
            assert db.session.scalar(select(func.max(RateLimitCounter.count))) == 4  # refused hits count too
    with time_machine.travel(START + timedelta(hours=1, seconds=1), tick=False):
        assert complain(instance(app).test_client(), "一小时后") == 302  # the window has ended


def test_counter_operations(app):
    storage = DatabaseStorage("database://")
    with app.app_context(), time_machine.travel(START, tick=False):
        assert storage.check() and storage.get("k") == 0
        assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
        assert storage.incr("k", 60, amount=2) == 5 and storage.get("k") == 5
        assert storage.get_expiry("k") == pytest.approx(START.timestamp() + 60)
        long_key = "LIMITER/" + "x" * 500
        assert storage.incr(long_key, 60) == 1 and storage.get(long_key) == 1
        storage.clear("k")
        assert storage.get("k") == 0
    with app.app_context(), time_machine.travel(START + timedelta(seconds=61), tick=False):
        assert storage.get(long_key) == 0 and storage.incr(long_key, 60) == 1  # a new window
    with app.app_context(), time_machine.travel(START + timedelta(hours=2), tick=False):
        storage.incr("fresh", 60)  # prunes windows that ended an hour ago
        assert db.session.scalar(select(func.count()).select_from(RateLimitCounter)) == 1
        assert storage.reset() == 1


def test_only_the_fixed_window_strategy(app):
    with pytest.raises(RuntimeError, match="fixed-window"):
        create_app({**app.config, "RATELIMIT_STORAGE_URI": "database://", "RATELIMIT_STRATEGY": "moving-window"})
