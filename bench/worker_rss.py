"""Benchmark (f): peak resident memory of one gunicorn worker serving the national dataset.

The national dataset must be in PostgreSQL (``bench/national.py`` loads it into
``jiuzai_bench_national``; this script loads it itself when the database is missing or empty).
A typhoon event over seven provinces gets 20,000 village reports (the size of the dashboard
benchmark), written straight into ``loss_report`` in one transaction; the event and a national
admin are made through the app's services. The event is reused when it is already there.

Then ``gunicorn --workers 2`` serves ``wsgi:app`` on a free 127.0.0.1 port and two client
threads send a bounded set of requests: the children of every province and of some
prefectures, ``/events/{id}/totals`` of each affected province, ``villages.geojson`` of the
event and ``depots.geojson``. Each worker's peak RSS is ``VmHWM`` in ``/proc/<pid>/status``.
Baseline, in the same run: a bare gunicorn with 2 workers serving a trivial WSGI app, hit as
many times.

Run ``python bench/worker_rss.py`` (``--json`` for one JSON line of figures).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import national  # noqa: E402  (a namespace package: ROOT is on sys.path)

GUNICORN = Path(sys.executable).with_name("gunicorn")
WORKERS = 2
N_REPORTING = 20_000
EVENT_NAME = "基准测试：台风（全国规模，worker RSS）"
BENCH_USER = "bench-rss-admin"
BENCH_PASSWORD = "bench-rss-password-1"
REQUEST_TIMEOUT = 600.0
TRIVIAL_APP = '''
def app(environ, start_response):
    body = b'{"ok": true}'
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
'''


# -- the event ---------------------------------------------------------------------------------

def prepare_event(url: str, dataset, n_reporting: int = N_REPORTING) -> dict:
    """The national admin and the typhoon event with ``n_reporting`` village reports at ``url``;
    returns ``{"event_id", "reports", "created", "setup_seconds"}``."""
    from bench import rollup_national as rollup
    from sqlalchemy import func, insert, select

    from app import create_app
    from app.auth.models import User
    from app.auth.service import cli_create_user
    from app.extensions import db
    from app.reports import service as reports
    from app.reports.indicators import FIELDS
    from app.reports.models import Event, LossReport

    start = time.perf_counter()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": national.BENCH_SECRET_KEY})
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username=BENCH_USER))
        if user is None:
            user = cli_create_user(BENCH_USER, "admin", "000000", BENCH_PASSWORD, "基准测试")
            db.session.commit()
        event = db.session.scalar(select(Event).filter_by(name=EVENT_NAME).order_by(Event.id.desc()))
        count = 0 if event is None else db.session.scalar(
            select(func.count()).select_from(LossReport).where(LossReport.event_id == event.id))
        created = event is None or count != n_reporting
        if created:
            event = reports.create_event(user, {
                "name": EVENT_NAME, "hazard": "typhoon",
                "started_at": rollup.STARTED.isoformat(), "region_codes": list(rollup.TYPHOON_PROVINCES)})
            frame = rollup.typhoon_reports(dataset, n_reporting)
            columns = {name: frame[name].tolist() for name in FIELDS}
            rows = [{"event_id": event.id, "region_code": code, "kind": "initial", "sequence": 1,
                     "as_of": as_of, "figures": {name: columns[name][i] for name in FIELDS},
                     "note": None, "submitted_by_id": user.id, "submitted_by": BENCH_USER}
                    for i, (code, as_of) in enumerate(zip(frame["code"].tolist(), frame["as_of"].tolist()))]
            for first in range(0, len(rows), 5_000):
                db.session.execute(insert(LossReport), rows[first:first + 5_000])
            db.session.commit()
            count = len(rows)
        event_id = event.id
        db.session.remove()
        db.engine.dispose()
    return {"event_id": event_id, "reports": count, "created": created,
            "setup_seconds": round(time.perf_counter() - start, 3)}


# -- gunicorn ----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_kb(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def children_of(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


class Server:
    """A gunicorn master started by this script, stopped by its own pid."""

    def __init__(self, app: str, port: int, env: dict, cwd: Path, workers: int = WORKERS):
        self.port, self.workers = port, workers
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [str(GUNICORN), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
             "--timeout", str(int(REQUEST_TIMEOUT)), "--log-level", "warning", app],
            cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, path: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}: {self.output()}")
            if len(children_of(self.process.pid)) >= self.workers:
                try:
                    status, _, _ = request(self.port, "GET", path, timeout=10)
                    if status < 500:
                        return
                except OSError:
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn not ready after {timeout:.0f} s: {self.output()}")

    def worker_pids(self) -> list[int]:
        return children_of(self.process.pid)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()


def request(port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None,
            timeout: float = REQUEST_TIMEOUT) -> tuple[int, bytes, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    payload = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    start = time.perf_counter()
    try:
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        return response.status, data, time.perf_counter() - start
    finally:
        connection.close()


def hit(port: int, plan: list[tuple[str, str]], headers: dict, clients: int = 2) -> list[dict]:
    """Send ``plan`` (``[(label, path)]``) from ``clients`` threads; one result per request."""
    results: list[dict] = []
    lock = threading.Lock()
    queue = list(enumerate(plan))

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                index, (label, path) = queue.pop(0)
            try:
                status, data, seconds = request(port, "GET", path, headers=headers)
                row = {"i": index, "label": label, "path": path, "status": status, "bytes": len(data),
                       "seconds": seconds}
            except OSError as exc:
                row = {"i": index, "label": label, "path": path, "status": None, "bytes": 0,
                       "seconds": None, "error": str(exc)}
            with lock:
                results.append(row)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(results, key=lambda r: r["i"])


def request_plan(dataset, event_id: int, rounds: int = 1) -> list[tuple[str, str]]:
    from bench import rollup_national as rollup
    provinces = dataset.provinces["code"].tolist()
    prefectures = [c for c in dataset.prefectures["code"].tolist() if c[:2] + "0000" in rollup.TYPHOON_PROVINCES]
    plan: list[tuple[str, str]] = []
    for _ in range(rounds):
        plan += [("region children (province)", f"/api/v1/regions/{p}/children") for p in provinces]
        plan += [("region children (prefecture)", f"/api/v1/regions/{p}/children") for p in prefectures[:10]]
        plan += [("event totals (province)", f"/api/v1/events/{event_id}/totals?region_code={p}")
                 for p in rollup.TYPHOON_PROVINCES]
        plan += [("villages.geojson", f"/api/v1/events/{event_id}/villages.geojson")] * 2
        plan += [("depots.geojson", "/api/v1/depots.geojson")] * 2
    return plan


def summarise(results: list[dict]) -> dict:
    out: dict[str, dict] = {}
    for label in dict.fromkeys(r["label"] for r in results):
        rows = [r for r in results if r["label"] == label]
        times = [r["seconds"] for r in rows if r["seconds"] is not None]
        out[label] = {"requests": len(rows),
                      "statuses": {str(s): sum(1 for r in rows if r["status"] == s)
                                   for s in sorted({r["status"] for r in rows}, key=str)},
                      "median_ms": round(statistics.median(times) * 1000, 1) if times else None,
                      "max_ms": round(max(times) * 1000, 1) if times else None,
                      "max_bytes": max(r["bytes"] for r in rows)}
    return out


def measure(server: Server, plan, headers: dict) -> dict:
    results = hit(server.port, plan, headers)
    workers = server.worker_pids()
    peaks = [status_kb(pid, "VmHWM") for pid in workers]
    current = [status_kb(pid, "VmRSS") for pid in workers]
    return {"results": results, "worker_pids": workers,
            "worker_peak_rss_mb": [round(k / 1024, 1) for k in peaks if k is not None],
            "worker_rss_mb": [round(k / 1024, 1) for k in current if k is not None],
            "master_rss_mb": round((status_kb(server.process.pid, "VmHWM") or 0) / 1024, 1)}


def run(n_reporting: int = N_REPORTING, rounds: int = 1) -> dict:
    dataset, _ = national.build_dataset(national.SEED)
    url = national.database_url(national.PG_SERVER, national.PG_DATABASE)
    figures: dict = {"bench": "worker_rss", "workers": WORKERS, "reporting_villages": n_reporting,
                     "database": national.PG_DATABASE}
    if not national.national_database_ready(url, expected_villages=len(dataset.villages)):
        url = national.create_database(national.PG_SERVER, national.PG_DATABASE)
        loaded = national.load_postgres(url, dataset)
        figures["loaded_dataset_seconds"] = loaded["load_seconds"]
    figures.update(prepare_event(url, dataset, n_reporting))

    env = {**os.environ, "DATABASE_URL": url, "JIUZAI_RATELIMIT_ENABLED": "false",
           "JIUZAI_SECRET_KEY": national.BENCH_SECRET_KEY}
    server = Server("wsgi:app", free_port(), env, ROOT)
    try:
        server.wait_ready("/login")
        status, body, _ = request(server.port, "POST", "/api/v1/auth/token",
                                  {"username": BENCH_USER, "password": BENCH_PASSWORD})
        if status != 200:
            raise RuntimeError(f"token: HTTP {status} {body[:300]!r}")
        headers = {"Authorization": f"Bearer {json.loads(body)['token']}"}
        plan = request_plan(dataset, figures["event_id"], rounds)
        app_run = measure(server, plan, headers)
    finally:
        server.stop()

    with tempfile.TemporaryDirectory(prefix="jiuzai-rss-") as folder:
        Path(folder, "trivial.py").write_text(TRIVIAL_APP)
        bare = Server("trivial:app", free_port(), dict(os.environ), Path(folder))
        try:
            bare.wait_ready("/")
            base_run = measure(bare, [("trivial", "/")] * len(plan), {})
        finally:
            bare.stop()

    results = app_run["results"]
    figures.update({
        "requests": len(results),
        "requests_ok": sum(1 for r in results if r["status"] == 200),
        "requests_failed": [{"path": r["path"], "status": r["status"], "error": r.get("error")}
                            for r in results if r["status"] != 200][:10],
        "endpoints": summarise(results),
        "worker_peak_rss_mb_each": app_run["worker_peak_rss_mb"],
        "worker_peak_rss_mb": max(app_run["worker_peak_rss_mb"], default=None),
        "worker_rss_after_mb": max(app_run["worker_rss_mb"], default=None),
        "master_peak_rss_mb": app_run["master_rss_mb"],
        "baseline_worker_peak_rss_mb": max(base_run["worker_peak_rss_mb"], default=None),
        "baseline_requests_ok": sum(1 for r in base_run["results"] if r["status"] == 200),
    })
    figures["all_ok"] = figures["requests_ok"] == figures["requests"]
    return figures


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON line of figures")
    parser.add_argument("--villages", type=int, default=N_REPORTING, help="reporting villages of the event")
    parser.add_argument("--rounds", type=int, default=1, help="times the request set is sent")
    args = parser.parse_args(argv)
    figures = run(args.villages, max(1, args.rounds))
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, sort_keys=True, default=str))
        return figures
    f = figures
    print(f"gunicorn, {f['workers']} workers, national dataset in PostgreSQL ({f['database']}); event "
          f"{f['event_id']} with {f['reports']:,} village reports ({'made' if f['created'] else 'reused'} "
          f"in {f['setup_seconds']:.1f} s)")
    print(f"  {f['requests']} requests, {f['requests_ok']} answered 200")
    for label, e in f["endpoints"].items():
        print(f"    {label:30s} ×{e['requests']:<3d} statuses {e['statuses']}  median {e['median_ms']} ms, "
              f"max {e['max_ms']} ms, up to {e['max_bytes']:,} bytes")
    for failure in f["requests_failed"]:
        print(f"    FAILED {failure}")
    print(f"  peak RSS of one worker (VmHWM): {f['worker_peak_rss_mb']} MB (workers: {f['worker_peak_rss_mb_each']}); "
          f"master {f['master_peak_rss_mb']} MB")
    print(f"  baseline, bare gunicorn worker with a trivial WSGI app: {f['baseline_worker_peak_rss_mb']} MB")
    return figures


if __name__ == "__main__":
    main()
