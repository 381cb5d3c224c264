"""Benchmark: ``villages.geojson`` of an event with 20,000 affected villages in a 500,000-village
database (issue 19: median under 300 ms).

The national dataset must be in PostgreSQL (``bench/national.py`` loads it into
``jiuzai_bench_national``; this script loads it itself when the database is missing or empty),
with the typhoon event of ``bench/worker_rss.py`` (20,000 village reports over seven provinces,
reused when it is there). The answer is the default form (``figures=all``: every indicator, about
17 MB of JSON), uncompressed (no ``Accept-Encoding``, as ``worker_rss.py`` asks).

What is timed, in the same run:

- **served** (the target): ``gunicorn --workers 1`` serving ``wsgi:app``; the worker's first
  request is reported on its own as **cold** (empty snapshot cache: the event's latest reports and
  villages are read and the collection encoded), then ``--requests`` (20) more one after another,
  whose median is the figure: the snapshot and its encoded layer are kept across requests of one
  worker until a report changes the event (``app/dashboard/service/snapshot.py``).
- **rebuilt**: the same request through the whole app in this process (Flask test client), with
  the snapshot cache emptied before each one, ``--rebuilds`` (10) times: what every request costs
  while reports keep arriving (each new report changes the snapshot's fingerprint). Only the HTTP
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
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import national, worker_rss  # noqa: E402  (a namespace package: ROOT is on sys.path)

N_REQUESTS = 20
N_REBUILDS = 10
TARGET_MS = 300.0


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _median_ms(times: list[float]) -> float | None:
    return _ms(statistics.median(times)) if times else None


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


def rebuilt(url: str, event_id: int, n_rebuilds: int) -> dict:
    """Through the Flask test client, the snapshot cache emptied before each request."""
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
    with app.app_context():
        from app.extensions import db
        db.engine.dispose()
    return {"median_ms": _median_ms(times), "max_ms": _ms(max(times)), "times_ms": [_ms(t) for t in times],
            "requests_ok": sum(1 for s in statuses if s == 200), "body": body}


def baseline(url: str, event_id: int, n_rebuilds: int) -> dict:
    times, body = [], b""
    for _ in range(n_rebuilds):
        start = time.perf_counter()
        body = baseline_collection(url, event_id)
        times.append(time.perf_counter() - start)
    return {"median_ms": _median_ms(times), "times_ms": [_ms(t) for t in times], "body": body}


def run(pg_database: str = national.PG_DATABASE, n_requests: int = N_REQUESTS,
        n_rebuilds: int = N_REBUILDS) -> dict:
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

    serve = served(url, event_id, n_requests)
    again = rebuilt(url, event_id, n_rebuilds)
    plain = baseline(url, event_id, n_rebuilds)
    figures.update({
        "cold_ms": serve["cold_ms"], "median_ms": serve["median_ms"], "max_ms": serve["max_ms"],
        "requests": serve["requests"], "requests_ok": serve["requests_ok"], "bytes": serve["bytes"],
        "same_answer_every_time": serve["same_answer_every_time"] and serve["body"] == again["body"],
        "rebuilt_median_ms": again["median_ms"], "rebuilt_max_ms": again["max_ms"],
        "rebuilt_times_ms": again["times_ms"], "rebuilt_requests_ok": again["requests_ok"],
        "baseline_median_ms": plain["median_ms"], "baseline_times_ms": plain["times_ms"],
        "load_average_after": list(os.getloadavg()),
    })
    figures.update(compare(serve["body"], plain["body"]))
    figures["meets_target"] = figures["median_ms"] is not None and figures["median_ms"] < TARGET_MS
    figures["all_ok"] = (figures["requests_ok"] == figures["requests"]
                         and figures["rebuilt_requests_ok"] == n_rebuilds)
    return figures


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON line of figures")
    parser.add_argument("--requests", type=int, default=N_REQUESTS, help="warm requests through gunicorn")
    parser.add_argument("--rebuilds", type=int, default=N_REBUILDS,
                        help="requests with the snapshot rebuilt, and baseline runs")
    parser.add_argument("--pg-database", default=national.PG_DATABASE,
                        help="database holding the national dataset (loaded when missing)")
    args = parser.parse_args(argv)
    figures = run(args.pg_database, max(1, args.requests), max(1, args.rebuilds))
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, sort_keys=True, default=str))
        return figures
    f = figures
    print(f"villages.geojson, event {f['event_id']} with {f['reporting_villages']:,} village reports in "
          f"{f['database']} (500,000 villages); {f['bytes']:,} bytes, {f['features']:,} features")
    print(f"  gunicorn, 1 worker: cold first request {f['cold_ms']:,.1f} ms; then {f['requests'] - 1} requests, "
          f"median {f['median_ms']:,.1f} ms, max {f['max_ms']:,.1f} ms "
          f"({'meets' if f['meets_target'] else 'MISSES'} the {TARGET_MS:g} ms target)")
    print(f"  snapshot rebuilt for each request (test client): median {f['rebuilt_median_ms']:,.1f} ms, "
          f"max {f['rebuilt_max_ms']:,.1f} ms")
    print(f"  baseline, plain SELECT + json.dumps: median {f['baseline_median_ms']:,.1f} ms")
    print(f"  same answer as the baseline: bytes {'yes' if f['identical_bytes'] else 'no'}, features "
          f"{'yes' if f['same_features'] else 'NO'}; load average {f['load_average_before']} → "
          f"{f['load_average_after']}")
    return figures


if __name__ == "__main__":
    main()
