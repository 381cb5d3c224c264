"""PostGIS parity: the map gives the same answers on SQLite and on PostgreSQL + PostGIS.

- The nearest stocked depot per village computed by PostGIS itself (K-nearest-neighbour
  ``ORDER BY geography <-> geography`` and ``ST_Distance`` on geography) agrees with
  :func:`gis.nearest_depots` within 0.5 %, on the app's own tables and on random points.
- Every GeoJSON endpoint returns byte-identical output on both engines for the same scenario.

The PostgreSQL side uses a database of its own on the ``pg_url`` server, built with
``db.create_all``, so it never meets the migrated schema of the PostgreSQL test run.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import create_engine, text

import gis
from app import create_app
from app.extensions import db
from tests.conftest import AuthActions
from tests.factories import seed_geography
from tests.test_dashboard_api import VILLAGES, build_scenario

pytestmark = pytest.mark.postgres


def _app(url: str):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        seed_geography()
        # a detailed boundary, so that simplification per zoom has work to do on both engines
        from app.regions.models import Region

        db.session.get(Region, "140212").boundary = shapely.MultiPolygon(
            [shapely.Point(113.14, 40.26).buffer(0.2, quad_segs=300)])
        db.session.commit()
    return app


@pytest.fixture
def pg_app(pg_url):
    server_url, name = pg_url.rsplit("/", 1)
    own = f"{name}_map_{uuid.uuid4().hex[:6]}"
    server = create_engine(f"{server_url}/postgres", isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{own}"'))
    engine = create_engine(f"{server_url}/{own}")
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    engine.dispose()
    app = _app(f"{server_url}/{own}")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture
def sqlite_app(tmp_path):
    app = _app(f"sqlite:///{tmp_path / 'parity.sqlite'}")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_geometries_live_in_postgis_with_spatial_indexes(pg_app):
    with pg_app.app_context():
        column = db.session.execute(text(
            "SELECT type, srid FROM geometry_columns WHERE f_table_name = 'region' "
            "AND f_geometry_column = 'boundary'")).one()
        assert tuple(column) == ("MULTIPOLYGON", 4326)
        indexes = dict(db.session.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'region'")).all())
        assert "USING gist (boundary)" in indexes["ix_region_boundary"]
        assert "USING gist" in indexes["ix_region_location"]


KNN_ON_APP_TABLES = """
SELECT v.code AS village_code, n.code AS depot_code,
       ST_Distance(v.geog, n.geog, false) / 1000 AS sphere_km,
       ST_Distance(v.geog, n.geog) / 1000 AS spheroid_km
FROM (SELECT code, geography(ST_SetSRID(ST_MakePoint(lon, lat), 4326)) AS geog
      FROM region WHERE code = ANY(:codes) AND lon IS NOT NULL) AS v
CROSS JOIN LATERAL (
    SELECT d.code, geography(ST_SetSRID(ST_MakePoint(d.lon, d.lat), 4326)) AS geog
    FROM depot d
    WHERE d.code IN (SELECT depot_code FROM stock_balance WHERE item_code = :item
                     GROUP BY depot_code HAVING sum(on_hand) > 0)
    ORDER BY geography(ST_SetSRID(ST_MakePoint(d.lon, d.lat), 4326)) <-> v.geog
    LIMIT 1) AS n
ORDER BY v.code
"""


@pytest.mark.parametrize("item", ["tent", "quilt"])
def test_postgis_nearest_stocked_depot_equals_the_api(pg_app, item):
    client = pg_app.test_client()
    made = build_scenario(pg_app, client)
    api = client.get(f"/api/v1/events/{made['event_id']}/nearest-depots?item={item}",
                     headers=made["coordinator"]).get_json()
    by_code = {row["village_code"]: row for row in api}
    with pg_app.app_context():
        rows = db.session.execute(text(KNN_ON_APP_TABLES),
                                  {"codes": sorted(VILLAGES), "item": item}).all()
    assert [r.village_code for r in rows] == sorted(c for c, point in VILLAGES.items() if point)
    for row in rows:
        mine = by_code[row.village_code]
        assert mine["depot_code"] == row.depot_code
        assert mine["distance_km"] == pytest.approx(row.sphere_km, abs=0.001)
        assert mine["distance_km"] == pytest.approx(row.spheroid_km, rel=0.005)


def test_postgis_knn_matches_gis_on_random_points(pg_app):
    """600 villages and 80 stocked depots over China, and a dense cluster in Shanxi."""
    rng = np.random.default_rng(2026)
    lon = np.concatenate([rng.uniform(75, 134, 400), rng.uniform(110.2, 114.5, 200)])
    lat = np.concatenate([rng.uniform(18, 53, 400), rng.uniform(34.6, 40.7, 200)])
    villages = pd.DataFrame({"code": [f"v{i}" for i in range(len(lon))], "lon": lon, "lat": lat})
    d_lon = np.concatenate([rng.uniform(75, 134, 50), rng.uniform(110.2, 114.5, 30)])
    d_lat = np.concatenate([rng.uniform(18, 53, 50), rng.uniform(34.6, 40.7, 30)])
    depots = pd.DataFrame({"code": [f"d{i}" for i in range(len(d_lon))], "lon": d_lon, "lat": d_lat,
                           "available": rng.integers(0, 3, len(d_lon))})  # a third hold none
    expected = gis.nearest_depots(villages, depots).set_index("village_code")

    with pg_app.app_context():
        conn = db.session.connection()
        conn.execute(text("CREATE TEMP TABLE knn_village (code text, geog geography(Point, 4326))"))
        conn.execute(text("CREATE TEMP TABLE knn_depot (code text, available int, geog geography(Point, 4326))"))
        conn.execute(text("CREATE INDEX ON knn_depot USING gist (geog)"))
        conn.execute(text("INSERT INTO knn_village VALUES (:code, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"),
                     villages.to_dict("records"))
        conn.execute(text("INSERT INTO knn_depot VALUES (:code, :available, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"),
                     [{**r, "available": int(r["available"])} for r in depots.to_dict("records")])
        rows = conn.execute(text("""
            SELECT v.code, n.code AS depot, ST_Distance(v.geog, n.geog, false) / 1000 AS sphere_km,
                   ST_Distance(v.geog, n.geog) / 1000 AS spheroid_km
            FROM knn_village v CROSS JOIN LATERAL (
                SELECT code, geog FROM knn_depot WHERE available > 0
                ORDER BY geog <-> v.geog LIMIT 1) n""")).all()
        db.session.rollback()

    assert len(rows) == len(villages)
    stocked = depots[depots["available"] > 0]
    for row in rows:
        mine = expected.loc[row.code]
        assert mine["distance_km"] == pytest.approx(row.sphere_km, rel=1e-6)
        assert mine["distance_km"] == pytest.approx(row.spheroid_km, rel=0.005)
        if mine["depot_code"] != row.depot:  # only a tie on the sphere may pick another depot
            v = villages.set_index("code").loc[row.code]
            other = stocked.set_index("code").loc[row.depot]
            assert gis.great_circle_km(v.lon, v.lat, other.lon, other.lat) == \
                pytest.approx(mine["distance_km"], rel=1e-9)


PARITY_URLS = [
    "/api/v1/events/{event}/villages.geojson",
    "/api/v1/events/{event}/villages.geojson?figures=key",
    "/api/v1/events/{event}/nearest-depots?item=tent",
    "/api/v1/events/{event}/nearest-depots?item=quilt",
    "/api/v1/events/{event}/coverage-gaps.geojson?item=tent&max_km=25",
    "/api/v1/events/{event}/coverage-gaps.geojson?item=quilt",
    "/api/v1/events/{event}/counties.geojson?zoom=6",
    "/api/v1/events/{event}/counties.geojson?zoom=11",
    "/api/v1/depots.geojson",
    "/api/v1/depots.geojson?item=tent",
    "/api/v1/dispatches.geojson?event_id={event}",
    "/api/v1/regions/140000/boundaries.geojson?level=county&zoom=8",
]


def test_geojson_endpoints_are_identical_on_both_engines(sqlite_app, pg_app):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    answers = {}
    for name, app in (("sqlite", sqlite_app), ("postgresql", pg_app)):
        client = app.test_client()
        made = build_scenario(app, client, AuthActions(app, client), now=now)
        answers[name] = {url: client.get(url.format(event=made["event_id"]), headers=made["coordinator"])
                         for url in PARITY_URLS}
    with pg_app.app_context():
        assert db.engine.dialect.name == "postgresql"
    for url in PARITY_URLS:
        lite, pg = answers["sqlite"][url], answers["postgresql"][url]
        assert lite.status_code == pg.status_code == 200, url
        assert lite.get_data() == pg.get_data(), url
    # and the answers are not empty
    assert len(answers["postgresql"][PARITY_URLS[0]].get_json()["features"]) == len(VILLAGES)
    assert answers["postgresql"][PARITY_URLS[-1]].get_json()["features"][1]["geometry"]["type"] == "MultiPolygon"
