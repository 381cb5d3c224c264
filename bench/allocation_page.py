"""Benchmark of the allocation page (issue 15): ``GET /depots/allocation?event_id=…`` for an
event with 2,000 affected villages reporting and 130 depots holding 7 items.

A synthetic province shaped like Shanxi (11 prefectures, 110 counties, 400 townships) in a
SQLite file under ``bench/out/``; an event whose 2,000 villages each filed a report; depots: 8
central, 1 provincial, 11 prefecture and 110 county ones, each stocking every item. A
coordinator of the province opens the page (demand by county and item, stock per depot, the
proposed allocation, the map lines) through the Flask test client: the full request, the
template rendered. Baseline: the allocation plan alone (the service call, no page). The page
is timed ``--runs`` times after one warm-up; the median is the figure (issue 15: < 3 s).

Usage::

    python bench/allocation_page.py [--json] [--runs N] [--seed N]
"""
from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import time
from datetime import datetime, timezone

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VILLAGES, DEPOTS = 2_000, 130
TARGET_SECONDS = 3.0
ITEMS = {"tent": 3_000, "quilt": 8_000, "cotton_coat": 4_000, "folding_bed": 2_000, "blanket": 6_000,
         "water": 50_000, "instant_food": 20_000}
PASSWORD = "bench-password-1"


def build(app, seed: int) -> int:
    """The geography, depots with stock, the event and its reports, a coordinator; the event id."""
    from app.auth.models import User
    from app.depots import service
    from app.depots.models import Depot, StockBalance, StockMovement
    from app.extensions import db
    from app.regions.models import Region
    from app.reports.models import Event, LossReport

    rng = np.random.default_rng(seed)
    with app.app_context():
        db.create_all()
        service.ensure_catalogue()
        regions = [Region(code="140000", name="山西省", level="province", parent_code=None, population=34_900_000,
                          lon=112.55, lat=37.87)]
        counties = []
        for p in range(1, 12):
            pref = f"14{p:02d}00"
            plon, plat = 110.5 + rng.uniform(0, 3.5), 34.8 + (p - 1) * 0.55
            regions.append(Region(code=pref, name=f"第{p}市", level="prefecture", parent_code="140000",
                                  population=3_000_000, lon=plon, lat=plat))
            for c in range(1, 11):
                code = f"14{p:02d}{c:02d}"
                counties.append((code, plon + rng.normal(0, 0.3), plat + rng.normal(0, 0.2)))
                regions.append(Region(code=code, name=f"第{p}市第{c}县", level="county", parent_code=pref,
                                      population=300_000, lon=counties[-1][1], lat=counties[-1][2]))
        townships = []
        for t in range(400):
            county, clon, clat = counties[t % len(counties)]
            code = f"{county}{100 + t // len(counties):03d}"
            townships.append((code, clon, clat))
            regions.append(Region(code=code, name=f"镇{t}", level="township", parent_code=county,
                                  population=30_000, lon=clon, lat=clat))
        villages = []
        for v in range(VILLAGES):
            township, tlon, tlat = townships[v % len(townships)]
            code = f"{township}{200 + v // len(townships):03d}"
            villages.append(code)
            regions.append(Region(code=code, name=f"村{v}", level="village", parent_code=township,
                                  population=1_000, lon=tlon + rng.normal(0, 0.05), lat=tlat + rng.normal(0, 0.05)))
        db.session.add_all(regions)
        db.session.flush()
        depots = [("C%02d" % i, "central", "140000", 112.55 + rng.normal(0, 1), 37.87 + rng.normal(0, 1))
                  for i in range(8)]
        depots.append(("P01", "provincial", "140000", 112.55, 37.87))
        depots += [(f"F{p:02d}", "prefecture", f"14{p:02d}00", r.lon, r.lat)
                   for p, r in zip(range(1, 12), [r for r in regions if r.level == "prefecture"])]
        depots += [(f"X{code}", "county", code, lon, lat) for code, lon, lat in counties]
        assert len(depots) == DEPOTS
        now = datetime(2024, 7, 1, tzinfo=timezone.utc)
        for code, tier, region, lon, lat in depots:
            db.session.add(Depot(code=code, name=f"{code}库", tier=tier, region_code=region, lon=lon, lat=lat,
                                 active=True, created_at=now))
        db.session.flush()
        scale = {"central": 1.0, "provincial": 0.5, "prefecture": 0.2, "county": 0.05}
        for code, tier, *_ in depots:
            for item, base in ITEMS.items():
                quantity = int(base * scale[tier])
                db.session.add(StockBalance(depot_code=code, item_code=item, lot_key="|", on_hand=quantity))
                db.session.add(StockMovement(depot_code=code, item_code=item, kind="receipt", quantity=quantity,
                                             balance_after=quantity, lot_balance_after=quantity,
                                             document_type="receipt", document_id=f"R-{code}-{item}",
                                             username="bench", at=now))
        event = Event(name="基准洪涝", hazard="flood", started_at=now, status="active")
        affected = sorted({v[:6] for v in villages})
        event.regions = [db.session.get(Region, code) for code in affected]
        db.session.add(event)
        db.session.flush()
        for v, code in enumerate(villages):
            relocated = int(rng.integers(5, 120))
            db.session.add(LossReport(event_id=event.id, region_code=code, kind="initial", sequence=1,
                                      as_of=now, submitted_by="bench",
                                      figures={"affected_population": relocated * 4,
                                               "relocated_population": relocated,
                                               "needing_aid_population": relocated * 2}))
        user = User(username="bench-coordinator", role="coordinator", region_code="140000", full_name="基准")
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        return event.id


def run(runs: int, seed: int) -> dict:
    from app import create_app

    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    path = out / "allocation_page.sqlite"
    path.unlink(missing_ok=True)
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    started = time.perf_counter()
    event_id = build(app, seed)
    build_seconds = time.perf_counter() - started

    from app.depots import service
    from app.extensions import db

    with app.app_context():
        started = time.perf_counter()
        plan = service.allocation_plan(None, event_id, {})
        plan_seconds = time.perf_counter() - started
    client = app.test_client()
    client.post("/login", data={"username": "bench-coordinator", "password": PASSWORD})
    url = f"/depots/allocation?event_id={event_id}"
    first = client.get(url)
    assert first.status_code == 200, first.status_code
    html = first.get_data(as_text=True)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    with app.app_context():
        db.engine.dispose()
    median = statistics.median(times)
    return {"villages": VILLAGES, "depots": DEPOTS, "items": len(ITEMS), "build_seconds": round(build_seconds, 2),
            "page_seconds": round(median, 3), "page_seconds_max": round(max(times), 3), "runs": runs,
            "plan_seconds": round(plan_seconds, 3), "plan_lines": len(plan["lines"]),
            "page_bytes": len(html.encode()), "meets_target": median < TARGET_SECONDS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20240701)
    args = parser.parse_args()
    figures = run(args.runs, args.seed)
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"allocation page, {VILLAGES:,} villages × {DEPOTS} depots: median {figures['page_seconds']:.3f} s "
              f"(max {figures['page_seconds_max']:.3f} s, {figures['page_bytes'] / 1e6:.2f} MB); "
              f"plan alone {figures['plan_seconds']:.3f} s, {figures['plan_lines']} lines; "
              f"target < {TARGET_SECONDS:g} s: {'met' if figures['meets_target'] else 'NOT met'}")


if __name__ == "__main__":
    main()
