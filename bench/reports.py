"""Benchmark of loss reporting (灾情报送): sustained report submissions per second through
gunicorn, and the roll-up (灾情汇总) of 30,000 village reports.

For each database (SQLite file, and PostgreSQL + PostGIS at 127.0.0.1:5432 in a throwaway
database created and dropped here) the script:

1. creates the schema (``db.create_all`` through the app factory), a synthetic province of
   3 prefectures × 10 counties × 10 townships × 100 villages (30,000 villages) and a coordinator;
2. starts gunicorn (``--workers`` workers of ``--threads`` threads, the gthread class) on a free
   port and drives ``POST /api/v1/events/{id}/reports`` from ``--clients`` threads for
   ``--seconds`` seconds after a warm-up, each thread filing an initial report and then updates
   for its own villages,
   every request with an ``Idempotency-Key`` as the field form sends it, over keep-alive
   connections with ``TCP_NODELAY`` as browsers and urllib3 use them; a share of submissions
   is sent, dropped and sent again with the same key. Everything a real submission does runs:
   token check, idempotency record, checks, insert, audit line, and every ``report_submitted``
   receiver. It counts reports lost or duplicated, and the CPU time per report of gunicorn,
   PostgreSQL and the client (which, with every core busy, bounds the throughput);
3. measures, in the same run and for the same time, the baseline: the same number of threads
   each doing raw SQL ``INSERT INTO loss_report`` with one transaction per row;
4. inserts 30,000 village reports into a second event and times the roll-up: the pure
   :func:`app.reports.rollup.roll_up`, and :func:`app.reports.totals.event_totals` (database
   read included), against a baseline of plain summation by code prefix.

Targets: ≥ 600 reports/s with p99 < 100 ms and none lost or duplicated, on PostgreSQL on a 2-core
machine (issue 19 point 3; issue 8 asked for ≥ 300/s and p99 < 500 ms); roll-up < 0.5 s.

``--statements`` adds a run whose workers count what each request sends to the database
(statements by their first words, BEGIN/COMMIT/ROLLBACK, pool checkouts): the round trips of a
submission.

Where the time goes (issue 19 point 3, December 2026, this 2-core machine shared with other
work: load average 7–8.5, so every figure is noisy; CPU milliseconds per report are steadier than
reports per second). Profiled with ``--statements`` and with py-spy attached to the workers
(``py-spy record --gil --subprocesses``: samples of the thread holding the GIL, i.e. Python CPU):

- Round trips of a region's first report, before → after: a pool checkout (``pool_pre_ping``,
  kept: issue 12 asks for it), BEGIN, token + user, idempotency claim, event with its regions,
  latest report, region population, region exists, report INSERT, audit INSERT, idempotency
  answer, COMMIT = 12 → BEGIN, claim, event, latest report with the population rows of the region
  and its ancestors, report, audit, answer, COMMIT and the ping = 9 (the token is read once per
  ``API_TOKEN_CACHE_SECONDS`` per worker).
- A gunicorn worker's CPU per report (≈ 9.8 ms before, ≈ 7 ms after; shares of the py-spy
  samples, before → after): gunicorn's HTTP parsing, writing and threads 16 → 12 %; Flask's
  request context, session and teardown 7 → 8 %; the token → user 14 → 11 % (a query with an ORM
  entity load → a cached row made into the session's User); the input guard 3 → 6 %; the
  idempotency claim (the first statement, so with the checkout, the ping and BEGIN) 5 → 13 %, its
  answer 4 %, its fingerprint 1 %; the event read 8 %; the latest report and the region rows 12 →
  9 % (two or three queries → one); the checks (Field/validate, plausibility, sequence) 5 → 3 %;
  the report INSERT 5 → 7 %; the audit line plus the commit 11 → 7 % (the ORM flush of one
  AuditEntry → one Core INSERT); ``report_submitted`` receivers < 1 % (coalesced: they mark the
  assessment stale once per burst).
- PostgreSQL: ≈ 2.5–3 ms per report for every postgres process on the server (other databases'
  work counts too); client: ≈ 0.6–0.7 ms.
- Before and after measured alternately, three runs each of 8 s (medians): gunicorn 9.8 → 7.1 ms,
  PostgreSQL 3.0 → 2.8 ms, client 0.7 → 0.6 ms, total 13.5 → 10.6 ms per report; the bound
  ``cores × 1000 / total`` 148 → 189 reports/s; p99 1035 → 570 ms; nothing lost or duplicated.
- The floor of this stack, measured the same way on the same machine: ``GET /healthz`` through
  the same gunicorn (2 workers × 4 threads, 16 keep-alive clients) costs gunicorn 2.5 ms +
  PostgreSQL 0.3 ms + client 0.4 ms = 3.2 ms per request (at most ≈ 630/s on 2 cores), and
  ``GET /api/v1/me`` with a token 3.9 ms (≈ 520/s). 600 submissions per second is 3.3 ms of CPU
  each, all included: below what an authenticated request that does nothing costs here. The
  target needs more cores (the work is CPU-bound and spreads over workers) or a leaner stack, not
  a leaner submission.

The client is a load generator: 16 threads in this one process over keep-alive connections,
whose CPU (``client``) counts in the bound because it shares the two cores; real load comes from
many phones and would leave both cores to the server.

Run ``python bench/reports.py`` (``--json`` for one JSON line; ``--databases sqlite`` to skip
PostgreSQL) or call :func:`main`.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: A fresh key per run: outside tests the app refuses any key published with the source.
BENCH_SECRET_KEY = secrets.token_hex(32)
PG_SERVER = os.environ.get("JIUZAI_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "Ingest-Load-7391"  # must pass the password rules (not containing the user name)
PREFECTURES, COUNTIES, TOWNSHIPS, VILLAGES = 3, 10, 10, 100
TARGET_PER_SECOND = 600.0  # issue 19 point 3
TARGET_P99_MS = 100.0
TARGET_ROLLUP_S = 0.5


# --- Geography and schema ---------------------------------------------------------------------

def geography() -> list[dict]:
    """1 province, 3 prefectures, 30 counties, 300 townships and 30,000 villages (codes 14…)."""
    rows = [dict(code="140000", name="基准省", level="province", parent_code=None, population=30_000_000)]
    for p in range(1, PREFECTURES + 1):
        pref = f"14{p:02d}00"
        rows.append(dict(code=pref, name=f"基准市{p}", level="prefecture", parent_code="140000",
                         population=10_000_000))
        for c in range(1, COUNTIES + 1):
            county = f"14{p:02d}{c:02d}"
            rows.append(dict(code=county, name=f"基准县{p}-{c}", level="county", parent_code=pref,
                             population=1_000_000))
            for t in range(1, TOWNSHIPS + 1):
                township = f"{county}{100 + t:03d}"
                rows.append(dict(code=township, name=f"基准镇{t}", level="township", parent_code=county,
                                 population=100_000))
                for v in range(VILLAGES):
                    rows.append(dict(code=f"{township}{200 + v:03d}", name=f"基准村{v}", level="village",
                                     parent_code=township, population=1_000))
    return rows


def village_codes() -> list[str]:
    return [r["code"] for r in geography() if r["level"] == "village"]


def make_app(url: str, photo_dir: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "TESTING": False,
                       "SECRET_KEY": BENCH_SECRET_KEY, "REPORT_PHOTO_DIR": photo_dir})


def prepare(url: str, photo_dir: str) -> dict:
    """Schema, geography, a coordinator and three events (served, baseline, roll-up)."""
    from sqlalchemy import insert

    from app.extensions import db
    from app.regions.models import Region
    from app.auth.service import cli_create_user
    from app.reports import service

    app = make_app(url, photo_dir)
    with app.app_context():
        db.create_all()
        rows = geography()
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(Region), rows[start:start + 5000])
        db.session.commit()
        user = cli_create_user("bench", "coordinator", "140000", PASSWORD, "基准测试协调员")
        started = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()
        events = [service.create_event(user, {"name": name, "hazard": "flood", "started_at": started,
                                              "region_codes": ["140000"]}).id
                  for name in ("served", "bare", "baseline", "rollup", "counted")]
        db.engine.dispose()
    return {"app": app, "served": events[0], "bare": events[1], "baseline": events[2], "rollup": events[3],
            "counted": events[4]}


# --- gunicorn ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: gunicorn hook of the diagnostic run: every ``report_submitted`` receiver disconnected in the
#: workers, to show what the submission itself costs apart from what other areas do on it.
NO_RECEIVERS_CONFIG = """
def post_worker_init(worker):
    from blinker import ANY
    from app.reports.signals import report_submitted
    for receiver in list(report_submitted.receivers_for(ANY)):
        report_submitted.disconnect(receiver)
"""


#: gunicorn hook of ``--statements``: each worker counts, per request, the statements it sends
#: (by their first words), the transactions it begins and commits and the pool checkouts (each
#: one a ``pool_pre_ping`` round trip), and writes the counts to ``$JIUZAI_BENCH_COUNTS.<pid>``
#: when it exits. The counting itself costs CPU: the figures of such a run are not the bench's.
STATEMENTS_CONFIG = """
import collections, json, os, threading

def post_worker_init(worker):
    from sqlalchemy import event
    from app.extensions import db
    app = worker.wsgi
    counts, lock = collections.Counter(), threading.Lock()

    def add(key):
        with lock:
            counts[key] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: add(" ".join(statement.split()[:4])))
    for name in ("begin", "commit", "rollback"):
        event.listen(engine, name, lambda conn, name=name: add(name.upper()))
    event.listen(engine.pool, "checkout", lambda *args: add("pool checkout (pre-ping)"))
    app.after_request(lambda response: add(f"request {response.status_code}") or response)
    worker.jiuzai_counts = counts

def worker_exit(server, worker):
    counts = getattr(worker, "jiuzai_counts", None)
    if counts is not None:
        with open(os.environ["JIUZAI_BENCH_COUNTS"] + f".{os.getpid()}", "w") as handle:
            json.dump(counts, handle)
"""


def statements_per_request(prefix: str) -> dict:
    """The counts :data:`STATEMENTS_CONFIG` wrote, summed over the workers, per request."""
    import glob

    total: dict[str, int] = {}
    for path in glob.glob(prefix + ".*"):
        with open(path) as handle:
            for key, n in json.load(handle).items():
                total[key] = total.get(key, 0) + n
    requests = sum(n for key, n in total.items() if key.startswith("request ")) or 1
    return {"requests": requests, **{key: round(n / requests, 3) for key, n in
                                     sorted(total.items(), key=lambda item: -item[1])
                                     if not key.startswith("request ")}}


def start_gunicorn(url: str, photo_dir: str, workers: int, receivers: bool = True,
                   threads: int = 1, count_statements: bool = False) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "JIUZAI_RATELIMIT_ENABLED": "false",
           "JIUZAI_SECRET_KEY": BENCH_SECRET_KEY, "JIUZAI_REPORT_PHOTO_DIR": photo_dir}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    command = [gunicorn, "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    if threads > 1:  # gthread: keep-alive connections, threads overlap each other's database waits
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    if not receivers:
        config = Path(photo_dir) / "no_receivers.py"
        config.write_text(NO_RECEIVERS_CONFIG)
        command += ["--config", str(config)]
    elif count_statements:
        config = Path(photo_dir) / "count_statements.py"
        config.write_text(STATEMENTS_CONFIG)
        env["JIUZAI_BENCH_COUNTS"] = str(Path(photo_dir) / "counts")
        command += ["--config", str(config)]
    proc = subprocess.Popen([*command, "wsgi:app"], cwd=ROOT, env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("gunicorn did not start")


def token(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/api/v1/auth/token", json.dumps({"username": "bench", "password": PASSWORD}),
                 {"Content-Type": "application/json"})
    return json.loads(conn.getresponse().read())["token"]


class Connection(http.client.HTTPConnection):
    """An HTTP client connection with ``TCP_NODELAY``, as browsers and urllib3 (requests) set it.

    ``http.client`` writes a request's headers and its body in two ``send`` calls; without
    ``TCP_NODELAY`` Nagle's algorithm holds the body back until the server acknowledges the
    headers, and the server's delayed ACK makes that up to 40 ms per request: the figures would
    measure the client's socket options rather than the server.
    """

    def connect(self):
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


#: Share of submissions whose first response is thrown away (the connection is closed right after
#: sending, as when a field connection drops), then re-sent with the same Idempotency-Key and body.
RETRY_SHARE = 0.1


def drive(port: int, bearer: str, event_id: int, codes: list[str], clients: int, warmup: float,
          seconds: float, retry_share: float = RETRY_SHARE, meter: "CpuMeter | None" = None) -> dict:
    """``clients`` threads post reports for ``warmup + seconds``; count the 201s of the window.

    Every report carries its Idempotency-Key in its note too, so that afterwards
    :func:`exactly_once` can check that each acknowledged key became exactly one report. Latency
    is that of each completed request (the last attempt for a retried one). ``meter`` measures
    the CPU time spent during the window.
    """
    import random

    lock = threading.Lock()
    counts = {"created": 0, "errors": 0, "retried": 0, "statuses": {}}
    latencies: list[float] = []
    acknowledged: set[str] = set()
    window = {"start": 0.0, "end": 0.0}
    stop = threading.Event()
    slices = [codes[i::clients] for i in range(clients)]

    def worker(number: int, mine: list[str]):
        rng = random.Random(number)
        conn = Connection("127.0.0.1", port, timeout=30)
        seen: set[str] = set()
        index = 0

        def send(body: str, key: str) -> tuple[int, dict | None, float]:
            started = time.perf_counter()
            try:
                conn.request("POST", f"/api/v1/events/{event_id}/reports", body, {
                    "Content-Type": "application/json", "Authorization": f"Bearer {bearer}",
                    "Idempotency-Key": key})
                response = conn.getresponse()
                payload = response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                return 0, None, time.perf_counter() - started
            try:
                data = json.loads(payload) if payload else None
            except ValueError:
                data = None
            return status, data, time.perf_counter() - started

        while not stop.is_set():
            code = mine[index % len(mine)]
            index += 1
            kind = "update" if code in seen else "initial"
            key = uuid.uuid4().hex
            as_of = (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat()
            body = json.dumps({"region_code": code, "kind": kind, "as_of": as_of, "note": f"bench {key}",
                               "figures": {"affected_population": 100 + index % 50, "relocated_population": 10,
                                           "needing_aid_population": 20, "direct_loss_10k_cny": 1.5}})
            retried = rng.random() < retry_share
            if retried:
                try:  # send, then drop the connection without reading the answer
                    conn.request("POST", f"/api/v1/events/{event_id}/reports", body, {
                        "Content-Type": "application/json", "Authorization": f"Bearer {bearer}",
                        "Idempotency-Key": key})
                except (OSError, http.client.HTTPException):
                    pass
                conn.close()
            for _attempt in range(200):
                status, data, elapsed = send(body, key)
                in_progress = status == 409 and data is not None and not data.get("errors")
                if not (in_progress or status == 0) or stop.is_set() and not retried:
                    break
                time.sleep(0.02)  # the first attempt is still running on the server
            now = time.perf_counter()
            with lock:
                counts["statuses"][status] = counts["statuses"].get(status, 0) + 1
                if status == 201:
                    seen.add(code)
                    acknowledged.add(key)
                    if window["start"] <= now <= window["end"]:
                        counts["created"] += 1
                        counts["retried"] += retried
                        latencies.append(elapsed)
                elif window["start"] <= now <= window["end"]:
                    counts["errors"] += 1

    threads = [threading.Thread(target=worker, args=(n, s), daemon=True) for n, s in enumerate(slices)]
    begin = time.perf_counter()
    window["start"], window["end"] = begin + warmup, begin + warmup + seconds
    for t in threads:
        t.start()
    time.sleep(warmup)
    if meter is not None:
        meter.begin()
    time.sleep(max(0.0, window["end"] - time.perf_counter()))
    if meter is not None:
        meter.end()
    stop.set()
    for t in threads:
        t.join(60)
    latencies.sort()

    def percentile(share: float) -> float | None:
        if not latencies:
            return None
        return latencies[min(len(latencies) - 1, int(share * len(latencies)))] * 1000

    result = {"per_second": counts["created"] / seconds, "created": counts["created"], "errors": counts["errors"],
              "retried": counts["retried"], "p50_ms": percentile(0.50), "p99_ms": percentile(0.99),
              "statuses": {str(k): v for k, v in sorted(counts["statuses"].items())},
              "_acknowledged": acknowledged}
    if meter is not None:
        result["cpu_ms_per_report"] = meter.per_report(counts["created"])
    return result


class CpuMeter:
    """CPU time (user + system, from ``/proc``) spent during the measured window by the gunicorn
    master and its workers, by every PostgreSQL process (server-wide: another database's load
    on the same server counts too) and by this process (the client threads), per report
    created. Where the machine's cores are all busy, their sum bounds the throughput:
    ``cores × 1000 / total`` reports per second. Empty where ``/proc`` is missing."""

    def __init__(self, gunicorn_pid: int):
        self.gunicorn_pid = gunicorn_pid
        self.start: dict[str, float] = {}
        self.spent: dict[str, float] = {}

    @staticmethod
    def _stat(pid: str) -> tuple[str, int, float] | None:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                raw = handle.read()
        except OSError:
            return None
        name = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw.rsplit(")", 1)[1].split()
        return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _sample(self) -> dict[str, float]:
        if not os.path.isdir("/proc/self"):
            return {}
        stats = {pid: self._stat(pid) for pid in os.listdir("/proc") if pid.isdigit()}
        stats = {int(pid): stat for pid, stat in stats.items() if stat is not None}
        groups = {"gunicorn": 0.0, "postgresql": 0.0, "client": 0.0}
        for pid, (name, parent, cpu) in stats.items():
            if pid == self.gunicorn_pid or parent == self.gunicorn_pid:
                groups["gunicorn"] += cpu
            elif name.startswith("postgres"):
                groups["postgresql"] += cpu
            elif pid == os.getpid():
                groups["client"] += cpu
        return groups

    def begin(self) -> None:
        self.start = self._sample()

    def end(self) -> None:
        finish = self._sample()
        self.spent = {k: finish[k] - self.start.get(k, 0.0) for k in finish}

    def per_report(self, reports: int) -> dict:
        if not self.spent or not reports:
            return {}
        out = {k: round(v * 1000 / reports, 2) for k, v in self.spent.items()}
        out["total"] = round(sum(out.values()), 2)
        out["bound_per_second"] = round((os.cpu_count() or 1) * 1000 / out["total"], 1) if out["total"] else None
        return out


def exactly_once(app, event_id: int, result: dict) -> dict:
    """Compare the acknowledged keys with the reports in the database: every acknowledged key
    must be exactly one report (``lost``: none; ``duplicated``: more than one)."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.reports.models import LossReport

    acknowledged = result.pop("_acknowledged")
    with app.app_context():
        rows = dict(db.session.execute(
            select(LossReport.note, func.count()).where(LossReport.event_id == event_id,
                                                        LossReport.note.like("bench %"))
            .group_by(LossReport.note)).all())
        db.engine.dispose()
    per_key = {note.split(" ", 1)[1]: n for note, n in rows.items()}
    lost = sum(1 for key in acknowledged if key not in per_key)
    duplicated = sum(n - 1 for n in per_key.values() if n > 1)
    result.update(acknowledged=len(acknowledged), lost=lost, duplicated=duplicated,
                  lost_or_duplicated=lost + duplicated,
                  unacknowledged_reports=sum(1 for key in per_key if key not in acknowledged))
    return result


# --- Baseline: raw INSERT ---------------------------------------------------------------------

def raw_connect(url: str):
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.split("///", 1)[1], timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn, "?"
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")), "%s"


def baseline(url: str, event_id: int, codes: list[str], clients: int, warmup: float, seconds: float) -> dict:
    """The same threads, each ``INSERT INTO loss_report`` one row per transaction."""
    lock = threading.Lock()
    counts = {"rows": 0}
    window = {"start": 0.0, "end": 0.0}
    stop = threading.Event()
    slices = [codes[i::clients] for i in range(clients)]
    sqlite = url.startswith("sqlite")

    def worker(mine: list[str]):
        conn, mark = raw_connect(url)
        sql = ("INSERT INTO loss_report (event_id, region_code, kind, sequence, as_of, figures, note, "
               "submitted_by_id, submitted_by, submitted_at) VALUES "
               f"({', '.join([mark] * 10)})")
        sequence: dict[str, int] = {}
        index = 0
        while not stop.is_set():
            code = mine[index % len(mine)]
            index += 1
            sequence[code] = sequence.get(code, 0) + 1
            now = datetime.now(timezone.utc)
            stamp = now.replace(tzinfo=None).isoformat(" ") if sqlite else now
            figures = json.dumps({"affected_population": 100 + index % 50, "relocated_population": 10})
            params = (event_id, code, "initial" if sequence[code] == 1 else "update", sequence[code], stamp,
                      figures, None, None, "bench", stamp)
            if sqlite:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(sql, params)
                conn.execute("COMMIT")
            else:
                with conn.transaction():
                    conn.execute(sql, params)
            moment = time.perf_counter()
            if window["start"] <= moment <= window["end"]:
                with lock:
                    counts["rows"] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(s,), daemon=True) for s in slices]
    begin = time.perf_counter()
    window["start"], window["end"] = begin + warmup, begin + warmup + seconds
    for t in threads:
        t.start()
    time.sleep(warmup + seconds)
    stop.set()
    for t in threads:
        t.join(60)
    return {"per_second": counts["rows"] / seconds, "rows": counts["rows"]}


# --- Roll-up --------------------------------------------------------------------------------------

def rollup(app, event_id: int, repeats: int = 3) -> dict:
    """30,000 village reports: the pure roll-up, the database roll-up, and plain summation."""
    from sqlalchemy import insert

    from app.extensions import db
    from app.reports.indicators import FIELDS
    from app.reports.models import LossReport
    from app.reports.rollup import Latest, roll_up
    from app.reports.totals import event_totals, latest_reports, parent_lookup

    codes = village_codes()
    as_of = datetime.now(timezone.utc) - timedelta(hours=1)
    with app.app_context():
        rows = []
        for i, code in enumerate(codes):
            figures = {f: 0 for f in FIELDS}
            figures.update(affected_population=100 + i % 97, deaths=i % 3 == 0 and 1 or 0,
                           relocated_population=10 + i % 7, direct_loss_10k_cny=round(0.5 + i % 11 * 0.25, 2))
            rows.append(dict(event_id=event_id, region_code=code, kind="initial", sequence=1, as_of=as_of,
                             figures=figures, submitted_by="bench", submitted_at=as_of))
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(LossReport), rows[start:start + 5000])
        db.session.commit()

        latest = {code: Latest(r.figures, r.as_of) for code, r in latest_reports(event_id).items()}
        parents = parent_lookup(latest)

        def best(fn):
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                result = fn()
                times.append(time.perf_counter() - t0)
            return min(times), result

        pure_s, totals = best(lambda: roll_up(latest, parents.get))
        db_s, db_totals = best(lambda: event_totals(event_id))

        def plain():
            sums: dict[str, dict[str, float]] = {}
            for code, report in latest.items():
                for prefix in (code[:9], code[:6], code[:4] + "00", code[:2] + "0000"):
                    target = sums.setdefault(prefix, {f: 0 for f in FIELDS})
                    for f in FIELDS:
                        target[f] += report.figures[f]
            return sums

        plain_s, sums = best(plain)
        assert totals["140000"].figures == db_totals["140000"].figures == sums["140000"]
        assert totals["140000"].reporting_units == len(codes)
        db.engine.dispose()
    return {"village_reports": len(codes), "pure_s": pure_s, "with_database_s": db_s, "baseline_plain_sum_s": plain_s,
            "province_affected_population": totals["140000"].figures["affected_population"]}


# --- One database -------------------------------------------------------------------------------

def create_pg_database() -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    name = f"jiuzai_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    url = PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    engine.dispose()
    return url, name


def drop_pg_database(name: str) -> None:
    from sqlalchemy import create_engine, text

    server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def run_database(kind: str, args) -> dict:
    workdir = tempfile.mkdtemp(prefix="jiuzai-bench-")
    pg_name = None
    proc = None
    try:
        if kind == "sqlite":
            url = f"sqlite:///{workdir}/bench.sqlite"
        else:
            url, pg_name = create_pg_database()
        setup = prepare(url, workdir)
        codes = village_codes()
        # each client thread cycles over 40 villages: first an initial report, then updates
        per_run = args.clients * 40
        proc, port = start_gunicorn(url, workdir, args.workers, threads=args.threads)
        served = drive(port, token(port), setup["served"], codes[:per_run], args.clients, args.warmup,
                       args.seconds, meter=CpuMeter(proc.pid))
        proc.terminate()
        proc.wait(30)
        proc = None
        served = exactly_once(setup["app"], setup["served"], served)
        bare = None
        if args.diagnose:
            proc, port = start_gunicorn(url, workdir, args.workers, receivers=False, threads=args.threads)
            bare = drive(port, token(port), setup["bare"], codes[per_run:2 * per_run], args.clients,
                         args.warmup, args.seconds, meter=CpuMeter(proc.pid))
            proc.terminate()
            proc.wait(30)
            proc = None
            bare = exactly_once(setup["app"], setup["bare"], bare)
        counted = None
        if args.statements:
            proc, port = start_gunicorn(url, workdir, args.workers, threads=args.threads, count_statements=True)
            counted = drive(port, token(port), setup["counted"], codes[3 * per_run:4 * per_run], args.clients,
                            args.warmup, args.seconds)
            proc.terminate()
            proc.wait(30)
            proc = None
            counted = exactly_once(setup["app"], setup["counted"], counted)
            counted["per_request"] = statements_per_request(str(Path(workdir) / "counts"))
        raw = baseline(url, setup["baseline"], codes[2 * per_run:3 * per_run], args.clients, args.warmup,
                       args.seconds)
        roll = rollup(setup["app"], setup["rollup"])
        return {"database": kind, "workers": args.workers, "threads": args.threads, "clients": args.clients, "seconds": args.seconds,
                "served": served, "served_without_receivers": bare, "statements": counted,
                "baseline_raw_insert": raw,
                "rollup": roll, "load_average": os.getloadavg()[0]}
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        if pg_name:
            drop_pg_database(pg_name)
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite, postgresql or both")
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2),
                        help="gunicorn workers (default: one per CPU, at least 2)")
    parser.add_argument("--threads", type=int, default=4,
                        help="threads per gunicorn worker: more than 1 is the gthread worker class, "
                             "1 the sync one (default 4)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--no-diagnose", dest="diagnose", action="store_false",
                        help="skip the diagnostic run without report_submitted receivers")
    parser.add_argument("--statements", action="store_true",
                        help="one more run whose workers count the statements, transactions and pool "
                             "checkouts of each request (the profile of the round trips)")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)

    results = {"cpus": os.cpu_count(), "targets": {"reports_per_second_postgresql": TARGET_PER_SECOND,
                                                   "p99_ms_postgresql": TARGET_P99_MS,
                                                   "rollup_s": TARGET_ROLLUP_S}, "runs": []}
    for kind in [d.strip() for d in args.databases.split(",") if d.strip()]:
        try:
            results["runs"].append(run_database(kind, args))
        except Exception as exc:  # a missing PostgreSQL is reported, not fatal to the SQLite figures
            if kind != "postgresql":
                raise
            results["runs"].append({"database": kind, "skipped": f"{type(exc).__name__}: {exc}"})
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
    else:
        report(results)
    return results


def report(results: dict) -> None:
    print(f"Loss-report benchmark on {results['cpus']} CPUs")
    for run in results["runs"]:
        if "skipped" in run:
            print(f"\n[{run['database']}] skipped: {run['skipped']}")
            continue
        served, raw, roll = run["served"], run["baseline_raw_insert"], run["rollup"]
        workers = f"{run['workers']} workers" + (f" × {run['threads']} threads (gthread)"
                                                 if run.get("threads", 1) > 1 else " (sync)")
        print(f"\n[{run['database']}] gunicorn {workers}, {run['clients']} client threads, "
              f"{run['seconds']:.0f} s (load average at the end {run['load_average']:.1f})")
        print(f"  submissions through the API : {served['per_second']:8.1f} reports/s "
              f"({served['created']} created, {served['errors']} errors; statuses {served['statuses']})")
        print(f"  latency p50 / p99           : {served['p50_ms'] or 0:8.1f} / {served['p99_ms'] or 0:.1f} ms")
        print(f"  exactly once under retries  : {served['retried']} submissions retried with the same key; "
              f"{served['lost']} lost, {served['duplicated']} duplicated of {served['acknowledged']} acknowledged")
        cpu = served.get("cpu_ms_per_report")
        if cpu:
            print(f"  CPU per report              : gunicorn {cpu['gunicorn']:.2f} ms, PostgreSQL "
                  f"{cpu['postgresql']:.2f} ms, client {cpu['client']:.2f} ms = {cpu['total']:.2f} ms "
                  f"(all {results['cpus']} cores busy: at most {cpu['bound_per_second']:.0f} reports/s)")
        if run["served_without_receivers"]:
            bare = run["served_without_receivers"]
            print(f"  … without report_submitted receivers (diagnostic): {bare['per_second']:8.1f} reports/s")
        if run.get("statements"):
            counted = run["statements"]["per_request"]
            print(f"  per request ({counted['requests']} requests of a counted run, {run['statements']['per_second']:.0f}"
                  f" reports/s while counting):")
            for key, n in counted.items():
                if key != "requests":
                    print(f"    {n:6.3f}  {key}")
        print(f"  baseline raw SQL INSERT     : {raw['per_second']:8.1f} rows/s")
        print(f"  API / baseline              : {served['per_second'] / max(raw['per_second'], 1e-9):8.1%}")
        if run["database"] == "postgresql":
            verdict = "meets" if served["per_second"] >= TARGET_PER_SECOND else "MISSES"
            print(f"  target ≥ {TARGET_PER_SECOND:.0f} reports/s     : {verdict}")
            p99 = served["p99_ms"]
            verdict = "meets" if p99 is not None and p99 < TARGET_P99_MS else "MISSES"
            print(f"  target p99 < {TARGET_P99_MS:.0f} ms        : {verdict}")
        print(f"  roll-up of {roll['village_reports']:,} village reports: pure {roll['pure_s'] * 1000:.0f} ms, "
              f"with database read {roll['with_database_s'] * 1000:.0f} ms, baseline plain sum "
              f"{roll['baseline_plain_sum_s'] * 1000:.0f} ms (target < {TARGET_ROLLUP_S * 1000:.0f} ms: "
              f"{'meets' if roll['pure_s'] < TARGET_ROLLUP_S else 'MISSES'})")


if __name__ == "__main__":
    main()
