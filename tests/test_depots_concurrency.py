"""Concurrent dispatch approvals can never overdraw a depot.

- SQLite: a threaded live server; every transaction begins ``BEGIN IMMEDIATE`` (app.database),
  so approvals are serialised by the database lock.
- PostgreSQL: gunicorn with several worker processes, each with threads; the approval locks the
  dispatch, the depot and its stock rows with ``SELECT … FOR UPDATE``.

Every dispatch asks for ``QUANTITY`` tents from a depot holding ``STOCK``; each is approved by
two managers at once. Exactly ``STOCK // QUANTITY`` dispatches may be approved, each once; every
other approval is a 409, and the ledger agrees with the balances.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app.extensions import db

STOCK, QUANTITY, DISPATCHES = 100, 7, 24
ROOT = Path(__file__).resolve().parent.parent


def _post(url: str, token: str) -> int:
    request = urllib.request.Request(url, data=b"{}", method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _seed(app) -> tuple[list[int], list[str]]:
    """A depot with STOCK tents, DISPATCHES requests for QUANTITY each, and tokens for two
    assigned managers."""
    from datetime import datetime, timedelta, timezone
    import hashlib
    import secrets

    from app.auth.models import ApiToken
    from app.depots import service
    from tests.test_depots_api import fast_user

    with app.app_context():
        managers = [fast_user(app, "depot_manager", "140105", f"race-keeper-{n}") for n in (1, 2)]
        service.ensure_catalogue()
        service.create_depot(None, {"code": "RACE", "name": "并发测试库", "tier": "county", "region_code": "140105",
                                    "lon": 112.56, "lat": 37.74, "managers": managers})
        service.receive_stock(None, "RACE", "tent", STOCK, "初始库存")
        ids = [service.create_dispatch(None, {"from_depot": "RACE", "to_region_code": "140105",
                                              "lines": [{"item": "tent", "quantity": QUANTITY}]}).id
               for _ in range(DISPATCHES)]
        from app.auth.models import User

        tokens = []
        for username in managers:
            token = secrets.token_urlsafe(24)
            user = db.session.scalar(select(User).filter_by(username=username))
            db.session.add(ApiToken(user_id=user.id, token_hash=hashlib.sha256(token.encode()).hexdigest(),
                                    expires_at=datetime.now(timezone.utc) + timedelta(hours=1)))
            tokens.append(token)
        db.session.commit()
    return ids, tokens


def _race(base_url: str, ids: list[int], tokens: list[str]) -> dict[int, list[int]]:
    """Approve every dispatch twice at once (once per manager); ``{dispatch_id: [statuses]}``."""
    jobs = [(dispatch_id, token) for dispatch_id in ids for token in tokens]
    barrier = threading.Barrier(len(jobs))
    results: dict[int, list[int]] = {dispatch_id: [] for dispatch_id in ids}
    lock = threading.Lock()

    def run(dispatch_id: int, token: str) -> None:
        barrier.wait()
        status = _post(f"{base_url}/api/v1/dispatches/{dispatch_id}/approve", token)
        with lock:
            results[dispatch_id].append(status)

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    return results


def _assert_never_overdrawn(app, results: dict[int, list[int]]) -> None:
    from app.depots import service
    from app.depots.models import Dispatch, StockBalance, StockMovement

    statuses = [s for pair in results.values() for s in pair]
    assert set(statuses) <= {200, 409}, statuses
    approved = [dispatch_id for dispatch_id, pair in results.items() if 200 in pair]
    assert all(pair.count(200) <= 1 for pair in results.values())  # never approved twice
    assert len(approved) * QUANTITY <= STOCK
    assert len(approved) == STOCK // QUANTITY  # and every approval that could succeed did
    with app.app_context():
        db.session.expire_all()
        assert service.check_ledger("RACE") == []
        rows = db.session.scalars(select(StockMovement).where(StockMovement.depot_code == "RACE")
                                  .order_by(StockMovement.id)).all()
        assert all(row.balance_after >= 0 for row in rows)
        taken = [row for row in rows if row.kind == "dispatch"]
        assert sorted(int(row.document_id) for row in taken) == sorted(approved)
        assert [row.balance_after for row in rows] == [STOCK - QUANTITY * n for n in range(len(rows))]
        on_hand = sum(db.session.scalars(select(StockBalance.on_hand).where(StockBalance.depot_code == "RACE")))
        assert on_hand == STOCK - QUANTITY * len(approved) >= 0
        states = dict(db.session.execute(select(Dispatch.id, Dispatch.status)).all())
        assert sorted(i for i, s in states.items() if s == "approved") == sorted(approved)


def test_concurrent_approvals_never_overdraw_on_sqlite(app, live_server):
    ids, tokens = _seed(app)
    results = _race(live_server.url, ids, tokens)
    _assert_never_overdrawn(app, results)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.postgres
@pytest.mark.slow
def test_concurrent_approvals_never_overdraw_through_gunicorn_on_postgresql(pg_url, tmp_path):
    from app import create_app
    from tests.factories import seed_geography

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": pg_url})
    with app.app_context():
        db.create_all()  # adds any table the migrations do not have yet
        names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        db.session.commit()
        seed_geography()
    ids, tokens = _seed(app)

    port = _free_port()
    env = {**os.environ, "DATABASE_URL": pg_url, "JIUZAI_SECRET_KEY": secrets.token_hex(32),  # published keys are refused
           "JIUZAI_RATELIMIT_ENABLED": "false"}
    log = open(tmp_path / "gunicorn.log", "w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--workers", "4", "--threads", "4",
         "--bind", f"127.0.0.1:{port}", "--timeout", "120", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                    if json.load(response)["engine"] == "postgresql":
                        break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.3)
        results = _race(base, ids, tokens)
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    _assert_never_overdrawn(app, results)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
