"""Benchmark: ``villages.geojson`` of an event with 20,000 affected villages in a 500,000-village
database (issue 19: median under 300 ms).

The national dataset must be in PostgreSQL (``bench/national.py`` loads it into
``jiuzai_bench_national``; this script loads it itself when the database is missing or empty),
with the typhoon event of ``bench/worker_rss.py`` (20,000 village reports over seven provinces,
reused when it is there). The answer is the default form (``figures=all``: every indicator, about
17 MB of JSON), uncompressed (no ``Accept-Encoding``, as ``worker_rss.py`` asks).

What is timed, in the same run:

- **served**: ``gunicorn --workers 1`` serving ``wsgi:app``; the worker's first
  request is reported on its own as **cold** (empty snapshot cache: the event's latest reports and
  villages are read and the collection encoded), then ``--requests`` (20) more one after another,
  whose median is what a worker holding the snapshot costs: the snapshot and its encoded layer
  are kept across requests of one worker until a report changes the event (``app/dashboard/service/snapshot.py``).
- **after each new report** (the target): what a coordinator sees during a live event, reports
  arriving all the time. A second event (:data:`INCREMENTAL_EVENT`, the typhoon event's 20,000
  reports copied once and reused by later runs) is served by its own ``gunicorn --workers 1``;
  after its cold first request, ``--reports`` (20) new reports are filed one at a time through the
  loss-reporting service from this process (another process than the worker, as another worker
  or instance would: the worker learns of them from the database alone), each followed by the
  timed request: median and p95. The reports are a live event's mix: updates (续报) of affected
  villages, first reports (初报) of villages not yet on the map, and verified reports (核报)
  correcting a village to zero. Then ``--map-reports`` (10) more, each followed by the request
  the map page sends (``figures=key``, gzip). The last answer is compared with a full rebuild of
  the same reports (``incremental_identical_to_full``). Each run adds its reports to that event, so it
  grows by a few villages per run.
- **rebuilt** (the full-rebuild figure, baseline of the above): the same request through the
  whole app in this process (Flask test client), with the snapshot cache emptied before each
  one, ``--rebuilds`` (10) times: what every request cost while reports kept arriving before the
  snapshot was patched, and what a worker pays when it reads the snapshot in full. Only the HTTP
  transport differs from gunicorn (the warm figure shows its size).
- **baseline**: the same FeatureCollection built by the plainest code: one ``SELECT`` of the
  latest reports joined to their villages, townships and counties (psycopg, no SQLAlchemy),
  features as Python dicts, ``json.dumps``; median of ``--rebuilds``.

The app's answer is checked against the baseline's: the same bytes, or at least the same feature
codes, figures, severity and ``as_of`` (``identical_bytes``, ``same_features``).

Run ``python bench/geojson.py`` (``--json`` for one JSON line of figures).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import national, worker_rss  # noqa: E402  (a namespace package: ROOT is on sys.path)

N_REQUESTS = 20
N_REBUILDS = 10
N_REPORTS = 20
N_MAP_REPORTS = 10
TARGET_MS = 300.0
INCREMENTAL_EVENT = "基准：逐份报告后的 villages.geojson"
#: The live mix of new reports: updates of affected villages, first reports of villages not on
#: the map yet, verified reports correcting a village to zero.
REPORT_MIX = (("update", 0.7), ("initial", 0.2), ("final", 0.1))


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _median_ms(times: list[float]) -> float | None:
    return _ms(statistics.median(times)) if times else None


def _p95_ms(times: list[float]) -> float | None:
    """The 95th percentile, nearest rank (of 20 requests: the second slowest)."""
    return _ms(sorted(times)[math.ceil(0.95 * len(times)) - 1]) if times else None


# -- the baseline: plain SELECT + json.dumps ---------------------------------------------------

BASELINE_SQL = """
SELECT lr.region_code, lr.figures, lr.as_of, v.name, v.lon, v.lat, v.population,
       t.name AS township, c.name AS county
FROM loss_report lr
JOIN (SELECT region_code, max(sequence) AS seq FROM loss_report WHERE event_id = %(event)s
      GROUP BY region_code) newest
  ON newest.region_code = lr.region_code AND newest.seq = lr.sequence
JOIN region v ON v.code = lr.region_code AND v.level = 'village'
LEFT JOIN region t ON t.code = v.parent_code
LEFT JOIN region c ON c.code = substr(v.code, 1, 6)
WHERE lr.event_id = %(event)s
ORDER BY lr.region_code
"""


def baseline_collection(url: str, event_id: int) -> bytes:
    """The default ``villages.geojson`` answer built the plain way (see the module docstring)."""
    import math
    from datetime import timezone

    import psycopg

    import gis
    from app.reports.indicators import FIELDS

    def num(value):
        if value is None:
            return 0
        if isinstance(value, float):
            return int(value) if value.is_integer() else value
        return value

    with psycopg.connect(national._libpq(url)) as conn:
        rows = conn.execute(BASELINE_SQL, {"event": event_id}).fetchall()
    features = []
    for code, figures, as_of, name, lon, lat, population, township, county in rows:
        figures = {f: num((figures or {}).get(f)) for f in FIELDS}
        severity = gis.severity_class(figures)
        point = None
        if lon is not None and lat is not None and math.isfinite(lon) and math.isfinite(lat):
            point = {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}
        features.append({
            "type": "Feature", "id": code, "geometry": point,
            "properties": {"code": code, "name": name, "township": township or "", "county": county or "",
                           "population": population or 0, "as_of": as_of.astimezone(timezone.utc).isoformat(),
                           "severity": severity, "severity_label": gis.SEVERITY_LABELS[severity],
                           "severity_colour": gis.SEVERITY_COLOURS[severity], "figures": figures}})
    body = {"type": "FeatureCollection", "event_id": event_id, "figures": "all",
            "severity_legend": gis.severity_legend(), "features": features}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def compare(app_bytes: bytes, baseline_bytes: bytes) -> dict:
    """Whether the app's answer has the baseline's features: codes, figures, severity, as_of."""
    ours, theirs = json.loads(app_bytes), json.loads(baseline_bytes)

    def key(collection):
        return [(f["id"], f["properties"]["figures"], f["properties"]["severity"], f["properties"]["as_of"],
                 f["properties"]["population"], f["geometry"]) for f in collection["features"]]

    return {"identical_bytes": app_bytes == baseline_bytes, "same_features": key(ours) == key(theirs),
            "features": len(ours["features"]), "baseline_features": len(theirs["features"])}


# -- the app -----------------------------------------------------------------------------------

def served(url: str, event_id: int, n_requests: int) -> dict:
    """Through ``gunicorn --workers 1``: the cold first request, then ``n_requests`` more."""
    env = {**os.environ, "DATABASE_URL": url, "JIUZAI_RATELIMIT_ENABLED": "false",
           "JIUZAI_SECRET_KEY": national.BENCH_SECRET_KEY}
    server = worker_rss.Server("wsgi:app", worker_rss.free_port(), env, ROOT, workers=1)
    path = f"/api/v1/events/{event_id}/villages.geojson"
    try:
        server.wait_ready("/login")
        status, body, _ = worker_rss.request(server.port, "POST", "/api/v1/auth/token",
                                             {"username": worker_rss.BENCH_USER,
                                              "password": worker_rss.BENCH_PASSWORD})
        if status != 200:
            raise RuntimeError(f"token: HTTP {status} {body[:300]!r}")
        headers = {"Authorization": f"Bearer {json.loads(body)['token']}"}
        status, cold_body, cold = worker_rss.request(server.port, "GET", path, headers=headers)
        statuses, times, digests = [status], [], {hashlib.sha1(cold_body).hexdigest()}
        for _ in range(n_requests):
            status, data, seconds = worker_rss.request(server.port, "GET", path, headers=headers)
            statuses.append(status)
            times.append(seconds)
            digests.add(hashlib.sha1(data).hexdigest())
    finally:
        server.stop()
    return {"cold_ms": _ms(cold), "median_ms": _median_ms(times), "max_ms": _ms(max(times)),
            "requests": len(statuses), "requests_ok": sum(1 for s in statuses if s == 200),
            "same_answer_every_time": len(digests) == 1, "bytes": len(cold_body), "body": cold_body}


def rebuilt(url: str, event_id: int, n_rebuilds: int, also: int | None = None) -> dict:
    """Through the Flask test client, the snapshot cache emptied before each request; ``also``:
    an event whose answer is read in full once more (``also_body``)."""
    from app import create_app
    from app.dashboard.service import snapshot

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": national.BENCH_SECRET_KEY,
                      "RATELIMIT_ENABLED": False})
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": worker_rss.BENCH_USER,
                                                    "password": worker_rss.BENCH_PASSWORD})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    path = f"/api/v1/events/{event_id}/villages.geojson"
    client.get(path, headers=headers)  # connections, compiled statements: what a worker has after its first
    times, statuses, body = [], [], b""
    for _ in range(n_rebuilds):
        with snapshot._cache_lock:
            snapshot._cache.clear()
        start = time.perf_counter()
        response = client.get(path, headers=headers)
        body = response.get_data()
        times.append(time.perf_counter() - start)
        statuses.append(response.status_code)
    also_body = None
    if also is not None:
        with snapshot._cache_lock:
            snapshot._cache.clear()
        also_body = client.get(f"/api/v1/events/{also}/villages.geojson", headers=headers).get_data()
    with app.app_context():
        from app.extensions import db
        db.engine.dispose()
    return {"median_ms": _median_ms(times), "p95_ms": _p95_ms(times), "max_ms": _ms(max(times)),
            "times_ms": [_ms(t) for t in times], "requests_ok": sum(1 for s in statuses if s == 200), "body": body,
            "also_body": also_body}


# -- after each new report ---------------------------------------------------------------------

def prepare_incremental_event(url: str, source_event_id: int) -> dict:
    """:data:`INCREMENTAL_EVENT`: made once over the typhoon provinces, with a copy of the source
    event's reports (one ``INSERT … SELECT``); later runs reuse it with the reports they added."""
    from bench import rollup_national as rollup
    from sqlalchemy import func, select, text

    from app import create_app
    from app.auth.models import User
    from app.extensions import db
    from app.reports import service as reports
    from app.reports.models import Event, LossReport

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": national.BENCH_SECRET_KEY})
    with app.app_context():
        event = db.session.scalar(select(Event).filter_by(name=INCREMENTAL_EVENT).order_by(Event.id.desc()))
        created = event is None
        if created:
            user = db.session.scalar(select(User).filter_by(username=worker_rss.BENCH_USER))
            event = reports.create_event(user, {
                "name": INCREMENTAL_EVENT, "hazard": "typhoon", "started_at": rollup.STARTED.isoformat(),
                "region_codes": list(rollup.TYPHOON_PROVINCES)})
            db.session.execute(text(
                "INSERT INTO loss_report (event_id, region_code, kind, sequence, as_of, figures, note, "
                "submitted_by_id, submitted_by, submitted_at) SELECT :event, region_code, kind, sequence, as_of, "
                "figures, note, submitted_by_id, submitted_by, submitted_at FROM loss_report WHERE event_id = :source"),
                {"event": event.id, "source": source_event_id})
            db.session.commit()
        event_id = event.id
        count = db.session.scalar(select(func.count()).select_from(LossReport)
                                  .where(LossReport.event_id == event_id))
        db.session.remove()
        db.engine.dispose()
    return {"event_id": event_id, "created": created, "reports_before": count}


class Reporter:
    """Files the new reports through the loss-reporting service, as a clerk's report arrives."""

    def __init__(self, url: str, event_id: int, dataset, seed: int):
        from bench import rollup_national as rollup
        from sqlalchemy import select

        from app import create_app
        from app.auth.models import User
        from app.extensions import db

        self.event_id, self.rng = event_id, random.Random(seed)
        self.app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": national.BENCH_SECRET_KEY,
                               "RATELIMIT_ENABLED": False})
        prefixes = tuple(p[:2] for p in rollup.TYPHOON_PROVINCES)
        villages = dataset.villages
        self.pool = villages[villages["code"].str[:2].isin(prefixes)]["code"].tolist()
        with self.app.app_context():
            self.user_id = db.session.scalar(select(User.id).filter_by(username=worker_rss.BENCH_USER))
        self.kinds: dict[str, int] = {}
        self.refused = 0

    def _latest(self) -> dict:
        """Each village's latest report in the event: ``code → (kind, figures)``."""
        from sqlalchemy import func, select

        from app.extensions import db
        from app.reports.models import LossReport

        newest = (select(LossReport.region_code, func.max(LossReport.sequence).label("seq"))
                  .where(LossReport.event_id == self.event_id).group_by(LossReport.region_code).subquery())
        rows = db.session.execute(
            select(LossReport.region_code, LossReport.kind, LossReport.figures)
            .join(newest, (LossReport.region_code == newest.c.region_code) & (LossReport.sequence == newest.c.seq))
            .where(LossReport.event_id == self.event_id)).all()
        return {code: (kind, figures) for code, kind, figures in rows}

    def _body(self, kind: str, latest: dict) -> dict:
        now = datetime.now(timezone.utc).isoformat()
        if kind == "initial":
            code = self.rng.choice([c for c in self.rng.sample(self.pool, 200) if c not in latest])
            return {"region_code": code, "kind": "initial", "as_of": now, "note": "基准：新增受灾村",
                    "figures": {"affected_population": self.rng.randint(5, 60), "relocated_population": self.rng.randint(0, 5)}}
        code = self.rng.choice([c for c, (k, _) in latest.items() if k != "final"])
        if kind == "final":
            return {"region_code": code, "kind": "final", "as_of": now, "note": "基准：核报更正为零", "figures": {}}
        figures = dict(latest[code][1])
        figures["affected_population"] = int(figures.get("affected_population", 0)) + self.rng.randint(1, 20)
        figures["relocated_population"] = int(figures.get("relocated_population", 0)) + self.rng.randint(0, 3)
        return {"region_code": code, "kind": "update", "as_of": now, "note": "基准：续报", "figures": figures}

    def file_one(self) -> str:
        """One new report of the mix; returns its kind. A report the service refuses (a rule of
        the ingest) is replaced by another, and counted in ``refused``."""
        from app.auth.models import User
        from app.errors import Conflict, Invalid
        from app.extensions import db
        from app.reports import service as reports

        kind = self.rng.choices([k for k, _ in REPORT_MIX], [w for _, w in REPORT_MIX])[0]
        with self.app.app_context():
            latest = self._latest()
            user = db.session.get(User, self.user_id)
            for _ in range(10):
                try:
                    reports.submit_report(user, self.event_id, self._body(kind, latest))
                    break
                except (Conflict, Invalid):
                    db.session.rollback()
                    self.refused += 1
            else:
                raise RuntimeError(f"no {kind} report accepted in 10 tries")
            db.session.remove()
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        return kind

    def close(self) -> None:
        from app.extensions import db

        with self.app.app_context():
            db.engine.dispose()


def incremental(url: str, event_id: int, dataset, n_reports: int, n_map_reports: int = 0, seed: int = 0) -> dict:
    """Through ``gunicorn --workers 1``: the cold first request and one more, then ``n_reports``
    times a new report filed from this process and the next request timed; then
    ``n_map_reports`` more the same way, the request as the map page sends it (``figures=key``,
    gzip)."""
    env = {**os.environ, "DATABASE_URL": url, "JIUZAI_RATELIMIT_ENABLED": "false",
           "JIUZAI_SECRET_KEY": national.BENCH_SECRET_KEY}
    server = worker_rss.Server("wsgi:app", worker_rss.free_port(), env, ROOT, workers=1)
    path = f"/api/v1/events/{event_id}/villages.geojson"
    reporter = Reporter(url, event_id, dataset, seed)
    try:
        server.wait_ready("/login")
        status, body, _ = worker_rss.request(server.port, "POST", "/api/v1/auth/token",
                                             {"username": worker_rss.BENCH_USER,
                                              "password": worker_rss.BENCH_PASSWORD})
        if status != 200:
            raise RuntimeError(f"token: HTTP {status} {body[:300]!r}")
        headers = {"Authorization": f"Bearer {json.loads(body)['token']}"}
        map_headers = {**headers, "Accept-Encoding": "gzip"}
        cold_status, _, cold = worker_rss.request(server.port, "GET", path, headers=headers)
        warm_status, _, warm = worker_rss.request(server.port, "GET", path, headers=headers)
        map_status, _, _ = worker_rss.request(server.port, "GET", path + "?figures=key", headers=map_headers)
        statuses, times, map_times, submit_times = [cold_status, warm_status, map_status], [], [], []
        last = b""
        for n in range(n_reports + n_map_reports):
            start = time.perf_counter()
            reporter.file_one()
            submit_times.append(time.perf_counter() - start)
            if n < n_reports:
                status, last, seconds = worker_rss.request(server.port, "GET", path, headers=headers)
                times.append(seconds)
            else:
                status, _, seconds = worker_rss.request(server.port, "GET", path + "?figures=key",
                                                        headers=map_headers)
                map_times.append(seconds)
            statuses.append(status)
        if n_map_reports:  # the default form after the last report, for the comparison with a full read
            status, last, _ = worker_rss.request(server.port, "GET", path, headers=headers)
            statuses.append(status)
    finally:
        server.stop()
        reporter.close()
    return {"cold_ms": _ms(cold), "warm_ms": _ms(warm), "median_ms": _median_ms(times), "p95_ms": _p95_ms(times),
            "max_ms": _ms(max(times)), "times_ms": [_ms(t) for t in times],
            "map_median_ms": _median_ms(map_times), "map_p95_ms": _p95_ms(map_times),
            "map_times_ms": [_ms(t) for t in map_times],
            "submit_median_ms": _median_ms(submit_times), "reports": n_reports + n_map_reports,
            "kinds": reporter.kinds, "refused_and_replaced": reporter.refused, "requests": len(statuses),
            "requests_ok": sum(1 for s in statuses if s == 200), "body": last}


def baseline(url: str, event_id: int, n_rebuilds: int) -> dict:
    times, body = [], b""
    for _ in range(n_rebuilds):
        start = time.perf_counter()
        body = baseline_collection(url, event_id)
        times.append(time.perf_counter() - start)
    return {"median_ms": _median_ms(times), "times_ms": [_ms(t) for t in times], "body": body}


def run(pg_database: str = national.PG_DATABASE, n_requests: int = N_REQUESTS,
        n_rebuilds: int = N_REBUILDS, n_reports: int = N_REPORTS, n_map_reports: int = N_MAP_REPORTS) -> dict:
    dataset, _ = national.build_dataset(national.SEED)
    url = national.database_url(national.PG_SERVER, pg_database)
    figures: dict = {"bench": "geojson", "database": pg_database, "target_ms": TARGET_MS,
                     "load_average_before": list(os.getloadavg())}
    if not national.national_database_ready(url, expected_villages=len(dataset.villages)):
        url = national.create_database(national.PG_SERVER, pg_database)
        figures["loaded_dataset_seconds"] = national.load_postgres(url, dataset)["load_seconds"]
    event = worker_rss.prepare_event(url, dataset)
    figures.update({"event_id": event["event_id"], "reporting_villages": event["reports"],
                    "event_created": event["created"]})
    event_id = event["event_id"]
    live = prepare_incremental_event(url, event_id)
    figures.update({"incremental_event_id": live["event_id"], "incremental_event_created": live["created"],
                    "incremental_reports_before": live["reports_before"]})

    serve = served(url, event_id, n_requests)
    reported = incremental(url, live["event_id"], dataset, n_reports, n_map_reports, seed=live["reports_before"])
    again = rebuilt(url, event_id, n_rebuilds, also=live["event_id"])
    plain = baseline(url, event_id, n_rebuilds)
    figures.update({
        "cold_ms": serve["cold_ms"], "median_ms": serve["median_ms"], "max_ms": serve["max_ms"],
        "served_requests": serve["requests"], "requests": serve["requests"] + reported["requests"],
        "requests_ok": serve["requests_ok"] + reported["requests_ok"], "bytes": serve["bytes"],
        "same_answer_every_time": serve["same_answer_every_time"] and serve["body"] == again["body"],
        "incremental_median_ms": reported["median_ms"], "incremental_p95_ms": reported["p95_ms"],
        "incremental_max_ms": reported["max_ms"], "incremental_times_ms": reported["times_ms"],
        "incremental_cold_ms": reported["cold_ms"], "incremental_warm_ms": reported["warm_ms"],
        "incremental_map_median_ms": reported["map_median_ms"], "incremental_map_p95_ms": reported["map_p95_ms"],
        "incremental_map_times_ms": reported["map_times_ms"],
        "incremental_reports": reported["reports"], "incremental_kinds": reported["kinds"],
        "incremental_refused_and_replaced": reported["refused_and_replaced"],
        "incremental_submit_median_ms": reported["submit_median_ms"],
        "incremental_features": len(json.loads(reported["body"])["features"]) if reported["body"] else None,
        "incremental_identical_to_full": bool(reported["body"]) and reported["body"] == again["also_body"],
        "rebuilt_median_ms": again["median_ms"], "rebuilt_p95_ms": again["p95_ms"], "rebuilt_max_ms": again["max_ms"],
        "rebuilt_times_ms": again["times_ms"], "rebuilt_requests_ok": again["requests_ok"],
        "baseline_median_ms": plain["median_ms"], "baseline_times_ms": plain["times_ms"],
        "load_average_after": list(os.getloadavg()),
    })
    figures.update(compare(serve["body"], plain["body"]))
    figures["meets_target"] = (figures["incremental_median_ms"] is not None
                               and figures["incremental_median_ms"] < TARGET_MS)
    figures["all_ok"] = (figures["requests_ok"] == figures["requests"]
                         and figures["rebuilt_requests_ok"] == n_rebuilds)
    return figures


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON line of figures")
    parser.add_argument("--requests", type=int, default=N_REQUESTS, help="warm requests through gunicorn")
    parser.add_argument("--rebuilds", type=int, default=N_REBUILDS,
                        help="requests with the snapshot rebuilt, and baseline runs")
    parser.add_argument("--reports", type=int, default=N_REPORTS,
                        help="new reports, each followed by the timed request")
    parser.add_argument("--map-reports", type=int, default=N_MAP_REPORTS,
                        help="more new reports, each followed by the map's request (figures=key, gzip)")
    parser.add_argument("--pg-database", default=national.PG_DATABASE,
                        help="database holding the national dataset (loaded when missing)")
    args = parser.parse_args(argv)
    figures = run(args.pg_database, max(1, args.requests), max(1, args.rebuilds), max(1, args.reports),
                  max(0, args.map_reports))
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, sort_keys=True, default=str))
        return figures
    f = figures
    print(f"villages.geojson, event {f['event_id']} with {f['reporting_villages']:,} village reports in "
          f"{f['database']} (500,000 villages); {f['bytes']:,} bytes, {f['features']:,} features")
    print(f"  after each of {len(f['incremental_times_ms'])} new reports, gunicorn, 1 worker, "
          f"event {f['incremental_event_id']} ({f['incremental_features']:,} villages): median "
          f"{f['incremental_median_ms']:,.1f} ms, p95 {f['incremental_p95_ms']:,.1f} ms, "
          f"max {f['incremental_max_ms']:,.1f} ms ({'meets' if f['meets_target'] else 'MISSES'} the "
          f"{TARGET_MS:g} ms target); same bytes as a full rebuild: "
          f"{'yes' if f['incremental_identical_to_full'] else 'NO'}")
    if f["incremental_map_median_ms"] is not None:
        print(f"  the map's request (figures=key, gzip) after each of {len(f['incremental_map_times_ms'])} more: "
              f"median {f['incremental_map_median_ms']:,.1f} ms, p95 {f['incremental_map_p95_ms']:,.1f} ms")
    print(f"  reports filed through the service: {f['incremental_kinds']}, median "
          f"{f['incremental_submit_median_ms']:,.0f} ms each (not timed)")
    print(f"  snapshot rebuilt in full for each request (test client): median {f['rebuilt_median_ms']:,.1f} ms, "
          f"max {f['rebuilt_max_ms']:,.1f} ms")
    print(f"  gunicorn, 1 worker: cold first request {f['cold_ms']:,.1f} ms; then {f['served_requests'] - 1} "
          f"requests with no new report, median {f['median_ms']:,.1f} ms, max {f['max_ms']:,.1f} ms")
    print(f"  baseline, plain SELECT + json.dumps: median {f['baseline_median_ms']:,.1f} ms")
    print(f"  same answer as the baseline: bytes {'yes' if f['identical_bytes'] else 'no'}, features "
          f"{'yes' if f['same_features'] else 'NO'}; load average {f['load_average_before']} → "
          f"{f['load_average_after']}")
    return figures


if __name__ == "__main__":
    main()
