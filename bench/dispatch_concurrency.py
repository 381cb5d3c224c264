"""Dispatch approvals under contention: throughput and the no-overdraw guarantee.

One depot holds ``--stock`` tents; ``--dispatches`` requests of ``--quantity`` each are approved
by ``--clients`` concurrent HTTP clients against one server. The baseline is the same number of
approvals sent one after another by a single client, in the same run. Overdraw is checked
after each phase: the ledger must agree with the balances and no more than ``stock //
quantity`` dispatches may be approved.

- SQLite (default): a threaded werkzeug server in this process, on a temporary database file.
- PostgreSQL (``--database-url postgresql+psycopg://…/dbname``, an empty database with PostGIS):
  gunicorn with ``--workers`` processes × 4 threads.

Usage::

    python bench/dispatch_concurrency.py [--json] [--clients 16] [--dispatches 200]
        [--database-url URL] [--workers 4]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select, text  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402

#: A fresh key per run: outside tests the app refuses any key published with the source.
BENCH_SECRET_KEY = secrets.token_hex(32)


def _post(url: str, token: str) -> int:
    request = urllib.request.Request(url, data=b"{}", method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _seed(app, depot: str, stock: int, quantity: int, count: int) -> tuple[list[int], str]:
    from app.auth.models import ApiToken, User
    from app.depots import service
    from app.regions.models import Region

    with app.app_context():
        if db.session.get(Region, "140000") is None:
            db.session.add(Region(code="140000", name="山西省", level="province", lon=112.55, lat=37.87))
            db.session.add(Region(code="140100", name="太原市", level="prefecture", parent_code="140000",
                                  lon=112.55, lat=37.87))
            db.session.flush()
        user = db.session.scalar(select(User).filter_by(username="bench-keeper"))
        if user is None:
            user = User(username="bench-keeper", role="depot_manager", region_code="140000", password_hash="-")
            db.session.add(user)
            db.session.flush()
        service.ensure_catalogue()
        db.session.commit()
        service.create_depot(None, {"code": depot, "name": depot, "tier": "prefecture", "region_code": "140100",
                                    "lon": 112.55, "lat": 37.87, "managers": ["bench-keeper"]})
        service.receive_stock(None, depot, "tent", stock)
        ids = [service.create_dispatch(None, {"from_depot": depot, "to_region_code": "140100",
                                              "lines": [{"item": "tent", "quantity": quantity}]}).id
               for _ in range(count)]
        token = secrets.token_urlsafe(24)
        db.session.add(ApiToken(user_id=user.id, token_hash=hashlib.sha256(token.encode()).hexdigest(),
                                expires_at=datetime.now(timezone.utc) + timedelta(hours=2)))
        db.session.commit()
    return ids, token


def _verify(app, depot: str, stock: int, quantity: int, statuses: list[int]) -> dict:
    from app.depots import service
    from app.depots.models import StockBalance

    with app.app_context():
        db.session.expire_all()
        mismatches = service.check_ledger(depot)
        on_hand = sum(db.session.scalars(select(StockBalance.on_hand).where(StockBalance.depot_code == depot)))
    approved = statuses.count(200)
    return {"approved": approved, "refused_409": statuses.count(409),
            "other_statuses": sorted(set(statuses) - {200, 409}), "on_hand_after": on_hand,
            "never_overdrawn": (not mismatches and on_hand >= 0 and approved * quantity <= stock
                                and on_hand == stock - approved * quantity
                                and approved == min(len(statuses), stock // quantity))}


def _phase(app, base: str, label: str, clients: int, args) -> dict:
    depot = f"BENCH-{label}"
    ids, token = _seed(app, depot, args.stock, args.quantity, args.dispatches)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        statuses = list(pool.map(lambda i: _post(f"{base}/api/v1/dispatches/{i}/approve", token), ids))
    elapsed = time.perf_counter() - start
    return {"clients": clients, "seconds": round(elapsed, 3), "per_second": round(len(ids) / elapsed, 1),
            **_verify(app, depot, args.stock, args.quantity, statuses)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(base: str, process: subprocess.Popen | None) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    raise RuntimeError("the server did not start")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON line of figures")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--dispatches", type=int, default=200)
    parser.add_argument("--stock", type=int, default=1000)
    parser.add_argument("--quantity", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args(argv)

    workdir = tempfile.mkdtemp(prefix="jiuzai-bench-")
    url = args.database_url or f"sqlite:///{workdir}/bench.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "SECRET_KEY": BENCH_SECRET_KEY})
    with app.app_context():
        if url.startswith("postgresql"):
            db.session.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
            db.session.commit()
        db.create_all()
    server = process = None
    if url.startswith("postgresql"):
        port = _free_port()
        process = subprocess.Popen(
            [str(pathlib.Path(sys.executable).parent / "gunicorn"), "--workers", str(args.workers), "--threads", "4",
             "--bind", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "DATABASE_URL": url, "JIUZAI_SECRET_KEY": BENCH_SECRET_KEY, "JIUZAI_RATELIMIT_ENABLED": "false"})
        base = f"http://127.0.0.1:{port}"
    else:
        from werkzeug.serving import make_server

        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
    try:
        _wait(base, process)
        baseline = _phase(app, base, "serial", 1, args)
        contended = _phase(app, base, "concurrent", args.clients, args)
    finally:
        if server is not None:
            server.shutdown()
        if process is not None:
            process.terminate()
            process.wait(30)
    figures = {"engine": "postgresql" if process else "sqlite", "dispatches": args.dispatches,
               "stock": args.stock, "quantity": args.quantity,
               "approvals_per_second": contended["per_second"],
               "baseline_approvals_per_second": baseline["per_second"],
               "never_overdrawn": baseline["never_overdrawn"] and contended["never_overdrawn"],
               "concurrent": contended, "baseline": baseline}
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
    else:
        print(f"engine: {figures['engine']}; {args.dispatches} approvals of {args.quantity} from a stock of "
              f"{args.stock} (at most {args.stock // args.quantity} can succeed)")
        for name, phase in (("one client (baseline)", baseline), (f"{args.clients} clients", contended)):
            print(f"  {name:<22} {phase['per_second']:>8.1f} approvals/s  approved {phase['approved']}, "
                  f"409 {phase['refused_409']}, on hand after {phase['on_hand_after']}, "
                  f"never overdrawn: {'yes' if phase['never_overdrawn'] else 'NO'}")
    return figures


if __name__ == "__main__":
    result = main()
    sys.exit(0 if result["never_overdrawn"] else 1)
