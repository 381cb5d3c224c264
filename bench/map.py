"""Benchmark of the map dashboard (灾情地图) at provincial scale, against the naive folium page.

Builds a throw-away SQLite database with the demo province (Shanxi: 117 real county boundaries,
~20,000 synthetic villages) and its demo depots, one event with a loss report for ``--villages``
villages (default 20,000, bulk-inserted: this measures the map, not reporting) and a few
dispatches in transit. The app is served on 127.0.0.1 and Debian's chromium loads, in the same
run and each in a fresh browser context (empty cache):

- **dashboard**: ``/dashboard/events/<id>``, the folium frame whose ``dashboard.js`` fetches the
  GeoJSON layers (clustered villages, simplified county boundaries, depots, dispatches, nearest
  depots, coverage gaps); timed from navigation start until ``window.jiuzaiMapReady``;
- **naive baseline**: a folium page with one ``folium.Marker`` (and popup) per village and the
  county boundaries at full resolution embedded in the HTML, as folium does by default, with the
  same local assets; timed from navigation start until its load event (its script is inline,
  allowed by a policy of its own, and synchronous, so every marker is on the map by then).

Payload is the bytes over the wire (``transferSize`` of the page and every resource, gzip where
the server compresses) and the decoded bytes. Targets: dashboard render < 3 s and payload < 5 MB
with 20,000 affected villages.

Run ``python bench/map.py`` (``--json`` prints one JSON line; ``--runs`` repeats each page and
reports the median). Needs ``/usr/bin/chromium`` (``JIUZAI_CHROMIUM`` overrides it).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# ``python bench/map.py`` puts bench/ first on sys.path, where bench/gis.py would shadow the gis
# package: take it off and put the repository first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

TARGET_RENDER_MS = 3000.0
TARGET_PAYLOAD_BYTES = 5_000_000
PASSWORD = "bench-password-1"
#: A fresh key per run: outside tests the app refuses any key published with the source.
BENCH_SECRET_KEY = secrets.token_hex(32)
CHROMIUM = os.environ.get("JIUZAI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
SEED = 20260701


def _quiet(_message: str) -> None:
    return None


def build_database(workdir: str, villages: int, dispatches: int = 12, echo=_quiet):
    """The app on a fresh SQLite file with the demo province, depots, one event and reports."""
    from sqlalchemy import insert, select

    from app import create_app
    from app.auth.models import User
    from app.depots import service as depots
    from app.depots.demo import load_depots
    from app.extensions import db
    from app.regions.demo import load_regions
    from app.regions.models import Region
    from app.reports import service as reports
    from app.reports.models import LossReport

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/bench.sqlite",
                      "SECRET_KEY": BENCH_SECRET_KEY, "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        load_regions(echo)
        load_depots(echo)
        admin = User(username="bench", role="admin", region_code="000000", full_name="基准测试")
        admin.set_password(PASSWORD)
        db.session.add(admin)
        db.session.commit()
        now = datetime.now(timezone.utc).replace(microsecond=0)
        event = reports.create_event(admin, {"name": "基准测试：山西全省洪涝", "hazard": "flood",
                                             "started_at": (now - timedelta(days=2)).isoformat(),
                                             "region_codes": ["140000"]})
        codes = db.session.scalars(select(Region.code).where(Region.level == "village",
                                                             Region.code.like("14%"))
                                   .order_by(Region.code)).all()
        if villages > len(codes):
            raise SystemExit(f"the demo province has {len(codes)} villages; asked for {villages}")
        rng = np.random.default_rng(SEED)
        chosen = sorted(rng.choice(codes, size=villages, replace=False).tolist())
        affected = np.floor(rng.lognormal(5.0, 1.2, villages)).astype(int) + 1
        relocated = np.floor(affected * rng.uniform(0, 0.5, villages)).astype(int)
        deaths = (rng.random(villages) < 0.01).astype(int)
        collapsed = np.floor(rng.exponential(2.0, villages)).astype(int)
        rows = [{"event_id": event.id, "region_code": code, "kind": "initial", "sequence": 1,
                 "as_of": now - timedelta(hours=6), "submitted_by": "bench", "submitted_at": now,
                 "figures": {"affected_population": int(a), "relocated_population": int(r),
                             "deaths": int(d), "collapsed_rooms": int(c) * 2, "collapsed_households": int(c)}}
                for code, a, r, d, c in zip(chosen, affected, relocated, deaths, collapsed)]
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(LossReport), rows[start:start + 5000])
        db.session.commit()
        counties = db.session.scalars(select(Region.code).where(Region.level == "county",
                                                                Region.code.like("14%"))
                                      .order_by(Region.code)).all()
        for county in counties[:dispatches]:
            made = depots.create_dispatch(admin, {"event_id": event.id, "from_depot": "SX-140000",
                                                  "to_region_code": county,
                                                  "lines": [{"item": "tent", "quantity": 5}]})
            depots.approve_dispatch(admin, made.id)
        setup_s = time.perf_counter() - started
        event_id = event.id
    return app, event_id, {"villages": villages, "counties": len(counties), "setup_s": round(setup_s, 1)}


def naive_page(app, event_id: int) -> tuple[bytes, float]:
    """The baseline: folium's default way, everything embedded (one Marker per village)."""
    import folium
    import shapely
    from sqlalchemy import select

    import gis
    from app.auth.models import User
    from app.dashboard import maps, service
    from app.extensions import db
    from app.regions.models import Region

    started = time.perf_counter()
    with app.test_request_context():
        user = db.session.scalar(select(User).filter_by(username="bench"))
        affected = service.affected_villages(user, service.get_event(user, event_id)).frame
        m = maps.offline_map(location=[37.8, 112.3], zoom_start=7)
        counties = db.session.execute(select(Region.code, Region.name, Region.boundary)
                                      .where(Region.level == "county", Region.code.like("14%"))).all()
        features = [{"type": "Feature", "properties": {"name": name},
                     "geometry": shapely.geometry.mapping(boundary)}
                    for _code, name, boundary in counties if boundary is not None]
        folium.GeoJson({"type": "FeatureCollection", "features": features}, name="县级区划").add_to(m)
        for row in affected.itertuples(index=False):
            if np.isfinite(row.lon) and np.isfinite(row.lat):
                folium.Marker([row.lat, row.lon], popup=f"{row.township} {row.name}：{gis.SEVERITY_LABELS[row.severity]}",
                              tooltip=row.name).add_to(m)
        html = m.get_root().render().encode("utf-8")
    return html, time.perf_counter() - started


class _Server:
    def __init__(self, app):
        import logging

        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._thread.join(5)


_PAYLOAD_JS = """() => {
    const entries = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")];
    return {
        transfer: entries.reduce((s, e) => s + (e.transferSize || 0), 0),
        decoded: entries.reduce((s, e) => s + (e.decodedBodySize || 0), 0),
        requests: entries.length,
        detail: entries.map(e => [e.name.replace(location.origin, ""), Math.round(e.startTime),
                                  Math.round(e.responseEnd), e.transferSize, e.decodedBodySize])
            .concat(performance.getEntriesByType("mark").map(m => [m.name, Math.round(m.startTime),
                                                                   Math.round(m.startTime), 0, 0])),
    };
}"""


def _sign_in(context, base: str) -> None:
    """Sign in through the form with the context's request API: the browser cache stays empty."""
    page = context.request.get(base + "/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text()) or \
        re.search(r'name="csrf-token" content="([^"]+)"', page.text())
    response = context.request.post(base + "/login", form={"username": "bench", "password": PASSWORD,
                                                           "csrf_token": token.group(1)})
    if response.status != 200 or "/login" in response.url:
        raise RuntimeError("sign-in failed")


def measure(browser, base: str, path: str, ready: str) -> dict:
    """Load ``path`` in a fresh context and return render time and payload."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    outside: list[str] = []

    def guard(route):
        if route.request.url.startswith(base) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    try:
        _sign_in(context, base)
        page = context.new_page()
        page.goto(base + path, wait_until="commit", timeout=180_000)
        if ready == "dashboard":
            page.wait_for_function("() => window.jiuzaiMapReady === true", timeout=180_000, polling=50)
            render_ms = page.evaluate("window.jiuzaiMapReadyAt")
            error = page.evaluate("window.jiuzaiMapError || null")
            if error:
                raise RuntimeError(f"dashboard failed: {error}")
        else:
            page.wait_for_load_state("load", timeout=180_000)
            render_ms = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
        payload = page.evaluate(_PAYLOAD_JS)
    finally:
        context.close()
    if outside:
        raise RuntimeError(f"page requested URLs outside the server: {outside[:3]}")
    return {"render_ms": round(render_ms, 1), **payload}


def _median(runs: list[dict]) -> dict:
    out = {key: (round(statistics.median(r[key] for r in runs), 1) if key == "render_ms"
                 else int(statistics.median(r[key] for r in runs))) for key in runs[0] if key != "detail"}
    out["detail"] = runs[-1]["detail"]
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--villages", type=int, default=20_000, help="affected villages (default 20000)")
    parser.add_argument("--runs", type=int, default=3, help="loads of each page; the median is reported")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    parser.add_argument("--detail", action="store_true", help="list the dashboard's requests")
    args = parser.parse_args(argv)
    echo = _quiet if args.json else (lambda m: print("  " + m, file=sys.stderr))

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="jiuzai-bench-map-") as workdir:
        app, event_id, info = build_database(workdir, args.villages, echo=echo)
        naive_html, naive_build_s = naive_page(app, event_id)

        def naive_view():
            # folium's default page runs inline scripts, which the app's own policy forbids.
            return app.response_class(naive_html, mimetype="text/html", headers={
                "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; "
                                           "style-src 'self' 'unsafe-inline'; img-src 'self' data:"})

        app.add_url_rule("/bench/naive-map", "bench_naive_map", naive_view)
        with _Server(app) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                loads = [measure(browser, server.url, f"/dashboard/events/{event_id}", "dashboard")
                         for _ in range(args.runs)]
                cold = loads[0]  # the server's caches are empty: as after a new report arrives
                dashboard = _median(loads[1:] or loads)
                naive = _median([measure(browser, server.url, "/bench/naive-map", "load")
                                 for _ in range(args.runs)])
            finally:
                browser.close()

    result = {
        "bench": "map", **info, "runs": args.runs,
        "dashboard_cold_render_ms": cold["render_ms"], "dashboard_cold_payload_bytes": cold["transfer"],
        "dashboard_render_ms": dashboard["render_ms"], "dashboard_payload_bytes": dashboard["transfer"],
        "dashboard_decoded_bytes": dashboard["decoded"], "dashboard_requests": dashboard["requests"],
        "naive_render_ms": naive["render_ms"], "naive_payload_bytes": naive["transfer"],
        "naive_decoded_bytes": naive["decoded"], "naive_requests": naive["requests"],
        "naive_build_s": round(naive_build_s, 2),
        "target_render_ms": TARGET_RENDER_MS, "target_payload_bytes": TARGET_PAYLOAD_BYTES,
        "render_ok": max(cold["render_ms"], dashboard["render_ms"]) < TARGET_RENDER_MS,
        "payload_ok": max(cold["transfer"], dashboard["transfer"]) < TARGET_PAYLOAD_BYTES,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        mb = 1_000_000
        print(f"Map dashboard, {info['villages']:,} affected villages, {info['counties']} counties "
              f"({args.runs} loads of each page, each in a fresh browser with an empty cache):")
        print(f"  dashboard, first load (cold server): render {cold['render_ms']:8.0f} ms   "
              f"payload {cold['transfer'] / mb:6.2f} MB over the wire "
              f"({cold['decoded'] / mb:.2f} MB decoded, {cold['requests']} requests)")
        print(f"  dashboard, later loads (median)    : render {dashboard['render_ms']:8.0f} ms   "
              f"payload {dashboard['transfer'] / mb:6.2f} MB over the wire "
              f"({dashboard['decoded'] / mb:.2f} MB decoded)")
        print(f"  naive folium, 1 Marker/village (median): render {naive['render_ms']:8.0f} ms   "
              f"payload {naive['transfer'] / mb:6.2f} MB over the wire "
              f"({naive['decoded'] / mb:.2f} MB decoded, {naive['requests']} requests; "
              f"built in {naive_build_s:.1f} s)")
        print(f"  targets: render < {TARGET_RENDER_MS:.0f} ms {'OK' if result['render_ok'] else 'MISSED'}; "
              f"payload < {TARGET_PAYLOAD_BYTES / mb:.0f} MB {'OK' if result['payload_ok'] else 'MISSED'}; "
              f"speed-up ×{naive['render_ms'] / max(cold['render_ms'], 1):.1f} (first load), "
              f"payload ÷{naive['transfer'] / max(dashboard['transfer'], 1):.1f}")
        if args.detail:
            print("  dashboard first load, requests (start ms, end ms, bytes over the wire, decoded):")
            for name, start, end, transfer, decoded in cold["detail"]:
                print(f"    {start:6d} {end:6d} {transfer:>10,} {decoded:>11,}  {name}")
    return result


if __name__ == "__main__":
    main()
