"""The map API (API.md, GIS): villages.geojson, nearest-depots, depots.geojson, and the
dashboard's own layers (counties, boundaries, coverage gaps, dispatches in transit).

The scenario (``tests/data/dashboard_scenario.json``) is built the way users build it: the
geography by the region importer, the event, reports, depots, stock and a dispatch through the
JSON API. ``build_scenario`` is shared with the browser and PostGIS tests.
"""
from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import gis
from app.extensions import db
from app.reports import FIELDS
from tests.conftest import AuthActions

DATA = Path(__file__).parent / "data"
SCENARIO = json.loads((DATA / "dashboard_scenario.json").read_text(encoding="utf-8"))

VILLAGES = {  # code: (lon, lat) of every affected village; None: no location
    "140105001200": (112.571, 37.701), "140105001201": (112.60, 37.72),
    "140105001202": (112.58, 37.69), "140105002200": (112.66, 37.65),
    "140105002201": (112.69, 37.62), "140105002202": None, "140212001200": (113.15, 40.27),
}
DEPOTS = {d["code"]: (d["lon"], d["lat"]) for d in SCENARIO["depots"]}
#: Severity classes by gis's default rule (deaths+missing ≥ 3 → 特重, relocated ≥ 100 → 重, …).
SEVERITY = {"140105001200": 4, "140105001201": 3, "140105001202": 2, "140105002200": 1,
            "140105002201": 0, "140105002202": 1, "140212001200": 2}


def _ok(response, status: int = 201) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def build_scenario(app, client, auth: AuthActions | None = None, now: datetime | None = None) -> dict:
    """Geography (importer), then event, reports, depots, stock and one approved dispatch
    (API). Returns the headers used and the ids made."""
    from app.regions.models import Region

    auth = auth or AuthActions(app, client)
    now = now or datetime.now(timezone.utc).replace(microsecond=0)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["regions", "import", str(DATA / "dashboard_regions.csv")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["depots", "catalogue"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        # The importer refuses a village without coordinates; the register allows one.
        db.session.add(Region(code="140105002202", name="东山三村", level="village",
                              parent_code="140105002", population=400, households=140))
        db.session.commit()

    coordinator = auth.token("coordinator", "140000")
    admin = auth.token("admin", "000000")
    spec = SCENARIO["event"]
    event = _ok(client.post("/api/v1/events", headers=coordinator, json={
        "name": spec["name"], "hazard": spec["hazard"], "region_codes": spec["region_codes"],
        "started_at": (now - timedelta(hours=spec["started_hours_ago"])).isoformat()}))
    for report in SCENARIO["reports"]:
        _ok(client.post(f"/api/v1/events/{event['id']}/reports", headers=coordinator, json={
            "region_code": report["region_code"], "kind": report["kind"], "figures": report["figures"],
            # a unit's own figures below the sum from below need a note (issue 13)
            "note": "测试场景：本级核实数", "as_of": (now - timedelta(hours=report["hours_ago"])).isoformat()}))
    for depot in SCENARIO["depots"]:
        _ok(client.post("/api/v1/depots", headers=admin, json=depot))
    for receipt in SCENARIO["receipts"]:
        _ok(client.post(f"/api/v1/depots/{receipt['depot']}/receipts", headers=admin,
                        json={"item": receipt["item"], "quantity": receipt["quantity"], "note": "测试入库"}))
    dispatch = _ok(client.post("/api/v1/dispatches", headers=admin,
                               json={"event_id": event["id"], **SCENARIO["dispatch"]}))
    _ok(client.post(f"/api/v1/dispatches/{dispatch['id']}/approve", headers=admin, json={}), 200)
    return {"event_id": event["id"], "dispatch_id": dispatch["id"], "coordinator": coordinator,
            "admin": admin, "now": now}


@pytest.fixture
def scenario(app, client, auth):
    return build_scenario(app, client, auth)


def _get(client, url, headers, status=200):
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    return response


# --- villages.geojson ---------------------------------------------------------------------------

def test_villages_geojson_has_each_affected_village_with_latest_figures_and_severity(client, scenario):
    response = _get(client, f"/api/v1/events/{scenario['event_id']}/villages.geojson",
                    scenario["coordinator"])
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection" and body["event_id"] == scenario["event_id"]
    features = {f["id"]: f for f in body["features"]}
    # villages only: the township 140212001 reported too, but is not a village
    assert list(features) == sorted(VILLAGES)
    for code, feature in features.items():
        props = feature["properties"]
        assert props["code"] == code and feature["type"] == "Feature"
        assert set(props["figures"]) == set(FIELDS)
        assert props["severity"] == SEVERITY[code], code
        assert props["severity"] == gis.severity_class(props["figures"])
        assert props["severity_label"] == gis.SEVERITY_LABELS[SEVERITY[code]]
        assert props["severity_colour"] == gis.SEVERITY_COLOURS[SEVERITY[code]]
        if VILLAGES[code] is None:
            assert feature["geometry"] is None
        else:
            assert feature["geometry"] == {"type": "Point", "coordinates": list(VILLAGES[code])}
    # the latest report wins (update 500 over initial 300); omitted figures are 0
    assert features["140105001201"]["properties"]["figures"]["affected_population"] == 500
    assert features["140105001201"]["properties"]["figures"]["deaths"] == 0
    assert features["140105001200"]["properties"]["figures"]["direct_loss_10k_cny"] == 850.5
    assert features["140105001200"]["properties"]["township"] == "示例镇"
    assert features["140105002200"]["properties"]["township"] == "东山乡"
    assert features["140105001200"]["properties"]["population"] == 1200
    as_of = scenario["now"] - timedelta(hours=20)
    assert datetime.fromisoformat(features["140105001201"]["properties"]["as_of"]) == as_of


def test_villages_geojson_key_figures_only(client, scenario):
    from app.dashboard.service import KEY_FIGURES

    body = _get(client, f"/api/v1/events/{scenario['event_id']}/villages.geojson?figures=key",
                scenario["coordinator"]).get_json()
    assert body["figures"] == "key"
    props = {f["id"]: f["properties"] for f in body["features"]}
    assert list(props) == sorted(VILLAGES)
    assert list(props["140105001200"]["figures"]) == list(KEY_FIGURES)  # every key figure is non-zero
    assert props["140105001200"]["figures"]["missing"] == 2
    assert props["140105002201"]["figures"] == {}  # a zero report: nothing to say
    assert props["140105001202"] == {"code": "140105001202", "name": "示例三村", "township": "示例镇",
                                     "county": "小店区", "severity": 2, "figures": {"affected_population": 150,
                                                                "relocated_population": 20}}


def test_villages_are_clipped_to_the_jurisdiction(client, auth, scenario):
    url = f"/api/v1/events/{scenario['event_id']}/villages.geojson"
    assert len(_get(client, url, scenario["coordinator"]).get_json()["features"]) == len(VILLAGES)
    officer = auth.token("officer", "140212")
    body = _get(client, f"/api/v1/events/{scenario['event_id']}/villages.geojson", officer).get_json()
    assert [f["id"] for f in body["features"]] == ["140212001200"]
    rows = _get(client, f"/api/v1/events/{scenario['event_id']}/nearest-depots?item=tent",
                officer).get_json()
    assert [r["village_code"] for r in rows] == ["140212001200"]


# --- nearest-depots ----------------------------------------------------------------------------

def _brute_force(item_stock: dict[str, int]) -> dict[str, tuple[str, float]]:
    """Nearest stocked depot of every located village by trying every depot."""
    out = {}
    for code, point in VILLAGES.items():
        if point is None:
            continue
        distances = {d: gis.great_circle_km(*point, *DEPOTS[d]) for d, qty in item_stock.items() if qty > 0}
        best = min(distances, key=distances.get)
        out[code] = (best, distances[best])
    return out


@pytest.mark.parametrize("item, stock, expected", [
    # 10 tents of D-TY left on the approved dispatch: 90 available
    ("tent", {"D-TY": 90, "D-DT": 20},
     {"140105001200": "D-TY", "140105001201": "D-TY", "140105001202": "D-TY", "140105002200": "D-TY",
      "140105002201": "D-TY", "140212001200": "D-DT"}),
    ("quilt", {"D-TY": 500, "D-XD": 50},
     {"140105001200": "D-XD", "140105001201": "D-XD", "140105001202": "D-XD", "140105002200": "D-XD",
      "140105002201": "D-XD", "140212001200": "D-TY"}),
])
def test_nearest_depots_match_great_circle_brute_force(client, scenario, item, stock, expected):
    rows = _get(client, f"/api/v1/events/{scenario['event_id']}/nearest-depots?item={item}",
                scenario["coordinator"]).get_json()
    assert [r["village_code"] for r in rows] == sorted(VILLAGES)
    by_code = {r["village_code"]: r for r in rows}
    brute = _brute_force(stock)
    for code, depot in expected.items():
        row = by_code[code]
        assert row["depot_code"] == depot == brute[code][0]
        assert row["available"] == stock[depot]
        exact = gis.great_circle_km(*VILLAGES[code], *DEPOTS[depot])
        assert row["distance_km"] == pytest.approx(exact, rel=0.005)
        assert abs(row["distance_km"] - exact) <= 0.0005  # rounded to metres
    assert by_code["140105002202"] == {"village_code": "140105002202", "depot_code": None,
                                       "distance_km": None, "available": None}


def test_nearest_depots_for_an_item_no_depot_holds(client, scenario):
    rows = _get(client, f"/api/v1/events/{scenario['event_id']}/nearest-depots?item=water",
                scenario["coordinator"]).get_json()
    assert len(rows) == len(VILLAGES)
    assert all(r["depot_code"] is None and r["distance_km"] is None for r in rows)


@pytest.mark.parametrize("query, message", [("", "必填"), ("?item=", "必填"), ("?item=unicorn", "unicorn")])
def test_nearest_depots_needs_a_known_item(client, scenario, query, message):
    response = client.get(f"/api/v1/events/{scenario['event_id']}/nearest-depots{query}",
                          headers=scenario["coordinator"])
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    errors = response.get_json()["errors"]
    assert [e["field"] for e in errors] == ["item"] and message in errors[0]["message"]


# --- coverage gaps -----------------------------------------------------------------------------

@pytest.mark.parametrize("query, uncovered, max_km", [
    # tents: every located village is within 50 km of a stocked depot; the unlocated one is a gap
    ("item=tent", {"140105002202": None}, 50),
    # within 25 km: 东山一村 26.3 km and 东山二村 30.4 km from D-TY are not; 新荣一村 24.7 km is
    ("item=tent&max_km=25", {"140105002200": "D-TY", "140105002201": "D-TY", "140105002202": None}, 25),
    # quilts: 新荣一村's nearest quilts are in Taiyuan, 272 km away
    ("item=quilt", {"140212001200": "D-TY", "140105002202": None}, 50),
    ("item=quilt&max_km=300", {"140105002202": None}, 300),
])
def test_coverage_gaps(client, scenario, query, uncovered, max_km):
    body = _get(client, f"/api/v1/events/{scenario['event_id']}/coverage-gaps.geojson?{query}",
                scenario["coordinator"]).get_json()
    assert body["type"] == "FeatureCollection" and body["max_km"] == max_km
    assert body["affected_villages"] == len(VILLAGES) and body["uncovered"] == len(uncovered)
    found = {f["id"]: f["properties"] for f in body["features"]}
    assert set(found) == set(uncovered)
    for code, depot in uncovered.items():
        assert found[code]["nearest_depot_code"] == depot
        assert found[code]["severity"] == SEVERITY[code]
        if depot is None:
            assert found[code]["nearest_km"] is None
        else:
            exact = gis.great_circle_km(*VILLAGES[code], *DEPOTS[depot])
            assert found[code]["nearest_km"] == pytest.approx(exact, abs=0.0005)
            assert found[code]["nearest_km"] > max_km


def test_coverage_gaps_default_radius_is_configurable(app, client, scenario):
    app.config["GIS_COVERAGE_KM"] = 20.0
    body = _get(client, f"/api/v1/events/{scenario['event_id']}/coverage-gaps.geojson?item=tent",
                scenario["coordinator"]).get_json()
    assert body["max_km"] == 20
    # 示例三村 is 20.19 km from D-TY; 示例一村 18.9 km is covered
    assert {f["id"] for f in body["features"]} == {"140105001202", "140105002200", "140105002201",
                                                   "140105002202", "140212001200"}


# --- depots.geojson and dispatches -----------------------------------------------------------

def test_depots_geojson_with_stock(client, scenario):
    body = _get(client, "/api/v1/depots.geojson", scenario["coordinator"]).get_json()
    features = {f["id"]: f for f in body["features"]}
    assert list(features) == ["D-DT", "D-TY", "D-XD"]
    assert features["D-TY"]["geometry"] == {"type": "Point", "coordinates": [112.55, 37.87]}
    assert features["D-TY"]["properties"]["stock"] == {"quilt": 500, "tent": 90}
    assert features["D-XD"]["properties"]["stock"] == {"quilt": 50}
    assert features["D-TY"]["properties"]["tier_label"] == "市级"
    assert "available" not in features["D-TY"]["properties"]

    body = _get(client, "/api/v1/depots.geojson?item=tent", scenario["coordinator"]).get_json()
    assert {f["id"]: f["properties"]["available"] for f in body["features"]} == \
        {"D-DT": 20, "D-TY": 90, "D-XD": 0}
    assert body["item"] == "tent"
    assert body["features"][1]["properties"]["stock"] == {"quilt": 500, "tent": 90}  # still every item

    body = _get(client, "/api/v1/depots.geojson?region_code=140200", scenario["coordinator"]).get_json()
    assert [f["id"] for f in body["features"]] == ["D-DT"]


def test_dispatches_in_transit_as_lines(client, scenario):
    url = f"/api/v1/dispatches.geojson?event_id={scenario['event_id']}"
    body = _get(client, url, scenario["coordinator"]).get_json()
    assert len(body["features"]) == 1
    line = body["features"][0]
    assert line["geometry"] == {"type": "LineString", "coordinates": [[112.55, 37.87], [112.56, 37.74]]}
    assert line["properties"] == {"id": scenario["dispatch_id"], "from_depot": "D-TY",
                                  "to_region_code": "140105", "status": "approved",
                                  "lines": [{"item": "tent", "quantity": 10}]}
    # shipped: still in transit; received: no longer
    _ok(client.post(f"/api/v1/dispatches/{scenario['dispatch_id']}/ship", headers=scenario["admin"],
                    json={}), 200)
    body = _get(client, url, scenario["coordinator"]).get_json()
    assert [f["properties"]["status"] for f in body["features"]] == ["shipped"]
    _ok(client.post(f"/api/v1/dispatches/{scenario['dispatch_id']}/receive", headers=scenario["admin"],
                    json={}), 200)
    assert _get(client, url, scenario["coordinator"]).get_json()["features"] == []


# --- counties and boundaries ----------------------------------------------------------------

def test_counties_geojson_for_the_choropleth(client, scenario):
    body = _get(client, f"/api/v1/events/{scenario['event_id']}/counties.geojson?zoom=9",
                scenario["coordinator"]).get_json()
    assert body["zoom"] == 9
    features = {f["id"]: f for f in body["features"]}
    assert list(features) == ["140105", "140212"]
    xiaodian, xinrong = features["140105"]["properties"], features["140212"]["properties"]
    assert features["140105"]["geometry"]["type"] == "MultiPolygon"
    assert features["140212"]["geometry"] is None  # no boundary on record
    # rolled up: 小店区 is the sum of its villages; in 新荣区 the township's own report wins
    assert xiaodian["figures"]["affected_population"] == 1000 + 500 + 150 + 20 + 0 + 80
    assert xiaodian["reporting_units"] == 6
    assert xinrong["figures"]["affected_population"] == 5000
    # the worst place that reported: 示例一村 (特重); 新荣镇's 5,000 affected (特重)
    assert xiaodian["severity"] == 4 and xinrong["severity"] == 4
    assert xiaodian["response"] is None and xinrong["response"] is None


def test_county_totals_follow_the_reports_roll_up(app, client, scenario):
    """The map's grouped county totals equal app.reports.totals.event_totals, county by county,
    including a township's own report taking precedence over its villages."""
    from app.dashboard.service import county_figures
    from app.reports import event_totals

    # 新荣一村 (120) sits in 新荣镇, which reported 5,000 itself: the township's report wins
    with app.test_request_context():
        totals = event_totals(scenario["event_id"])
        mine = county_figures(scenario["event_id"])
        assert sorted(mine) == ["140105", "140212"]
        for county, figures in mine.items():
            expected = totals[county]
            assert {f: float(v) for f, v in figures["figures"].items()} == \
                {f: float(v) for f, v in expected.figures.items()}, county
            assert figures["reporting_units"] == expected.reporting_units
            assert figures["as_of"] == expected.as_of


def test_a_county_that_reports_for_itself(client, auth, runner):
    """No village reports at all: the county is on the choropleth from its own report, and the
    village layer is empty."""
    assert runner.invoke(args=["depots", "catalogue"]).exit_code == 0
    headers = auth.token("officer", "140106")
    now = datetime.now(timezone.utc)
    event = _ok(client.post("/api/v1/events", headers=headers, json={
        "name": "迎泽区冰雹", "hazard": "hail", "region_codes": ["140106"],
        "started_at": (now - timedelta(hours=5)).isoformat()}))
    _ok(client.post(f"/api/v1/events/{event['id']}/reports", headers=headers, json={
        "region_code": "140106", "kind": "initial", "as_of": (now - timedelta(hours=1)).isoformat(),
        "figures": {"affected_population": 300, "relocated_population": 120}}))
    counties = _get(client, f"/api/v1/events/{event['id']}/counties.geojson", headers).get_json()
    assert [f["id"] for f in counties["features"]] == ["140106"]
    county = counties["features"][0]["properties"]
    assert county["figures"]["affected_population"] == 300 and county["reporting_units"] == 1
    assert county["severity"] == 3  # relocated ≥ 100
    villages = _get(client, f"/api/v1/events/{event['id']}/villages.geojson", headers).get_json()
    assert villages["features"] == []
    assert _get(client, f"/api/v1/events/{event['id']}/nearest-depots?item=tent", headers).get_json() == []


def test_counties_carry_the_response_in_force(app, client, scenario):
    from app.responses.demo import load_plans

    with app.app_context():
        load_plans(lambda _message: None)
    for body in ({"plan_id": "shanxi-provincial-sample", "region_code": "140000", "level": "四级"},
                 {"plan_id": "county-sample", "region_code": "140105", "level": "三级"}):
        _ok(client.post(f"/api/v1/events/{scenario['event_id']}/responses", headers=scenario["coordinator"],
                        json={**body, "action": "start", "reason": "会商研判（测试）"}))
    body = _get(client, f"/api/v1/events/{scenario['event_id']}/counties.geojson",
                scenario["coordinator"]).get_json()
    responses = {f["id"]: f["properties"]["response"] for f in body["features"]}
    assert responses["140105"] == {"rank": 3, "level": "三级", "plan_id": "county-sample",
                                   "region_code": "140105", "inherited": False, "colour": "#fbc02d"}
    assert responses["140212"] == {"rank": 4, "level": "四级", "plan_id": "shanxi-provincial-sample",
                                   "region_code": "140000", "inherited": True, "colour": "#1976d2"}


def _detailed_boundary(app):
    """Give 新荣区 a 2,000-vertex circular boundary."""
    import shapely

    from app.regions.models import Region

    with app.app_context():
        region = db.session.get(Region, "140212")
        region.boundary = shapely.MultiPolygon([shapely.Point(113.14, 40.26).buffer(0.2, quad_segs=500)])
        db.session.commit()


def test_boundaries_are_simplified_per_zoom(app, client, auth):
    _detailed_boundary(app)
    headers = auth.token("officer", "140212")

    def vertices(zoom):
        body = _get(client, f"/api/v1/regions/140000/boundaries.geojson?level=county&zoom={zoom}",
                    headers).get_json()
        assert [f["id"] for f in body["features"]] == ["140105", "140212"]  # only those with boundaries
        assert body["features"][1]["properties"] == {"code": "140212", "name": "新荣区", "level": "county",
                                                     "parent_code": "140200"}
        return len(body["features"][1]["geometry"]["coordinates"][0][0]), len(json.dumps(body))

    low, low_bytes = vertices(5)
    high, high_bytes = vertices(12)
    assert 4 <= low < high <= 2001
    assert low_bytes < high_bytes / 5
    prefecture = _get(client, "/api/v1/regions/140200/boundaries.geojson?level=county", headers).get_json()
    assert [f["id"] for f in prefecture["features"]] == ["140212"] and prefecture["zoom"] == 7
    national = _get(client, "/api/v1/regions/000000/boundaries.geojson?level=province", headers).get_json()
    assert national["features"] == []  # the test geography has no province boundaries


@pytest.mark.parametrize("url, fields", [
    ("/api/v1/regions/12/boundaries.geojson?level=town&zoom=99", ["code", "level", "zoom"]),
    ("/api/v1/regions/140000/boundaries.geojson?zoom=x", ["zoom"]),
    ("/api/v1/events/{event}/counties.geojson?zoom=-1", ["zoom"]),
    ("/api/v1/events/{event}/villages.geojson?figures=some", ["figures"]),
    ("/api/v1/events/{event}/coverage-gaps.geojson?max_km=-3", ["item", "max_km"]),
    ("/api/v1/events/{event}/coverage-gaps.geojson?item=tent&max_km=abc", ["max_km"]),
    ("/api/v1/events/{event}/coverage-gaps.geojson?item=tent&max_km=0", ["max_km"]),
    ("/api/v1/events/{event}/coverage-gaps.geojson?item=tent&max_km=nan", ["max_km"]),
    ("/api/v1/events/{event}/nearest-depots?item=" + "x" * 41, ["item"]),
    ("/api/v1/depots.geojson?item=unicorn&region_code=12", ["item", "region_code"]),
    ("/api/v1/dispatches.geojson?event_id=first", ["event_id"]),
])
def test_bad_arguments_are_422_naming_every_field(client, scenario, url, fields):
    response = client.get(url.format(event=scenario["event_id"]), headers=scenario["coordinator"])
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    assert sorted(e["field"] for e in response.get_json()["errors"]) == fields


# --- authentication, jurisdiction, unknown ids ---------------------------------------------

EVENT_URLS = ["/api/v1/events/{event}/villages.geojson", "/api/v1/events/{event}/nearest-depots?item=tent",
              "/api/v1/events/{event}/coverage-gaps.geojson?item=tent",
              "/api/v1/events/{event}/counties.geojson", "/api/v1/dispatches.geojson?event_id={event}"]
ALL_URLS = EVENT_URLS + ["/api/v1/depots.geojson", "/api/v1/regions/140000/boundaries.geojson"]


@pytest.mark.parametrize("url", ALL_URLS)
def test_no_token_is_401(client, scenario, url):
    response = client.get(url.format(event=scenario["event_id"]))
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize("url", EVENT_URLS)
@pytest.mark.parametrize("role, region", [("officer", "650000"), ("coordinator", "650100"),
                                          ("auditor", "140106")])
def test_event_outside_the_jurisdiction_is_403(client, auth, scenario, url, role, region):
    response = client.get(url.format(event=scenario["event_id"]), headers=auth.token(role, region))
    assert response.status_code == 403


@pytest.mark.parametrize("url", EVENT_URLS)
def test_unknown_event_is_404(client, scenario, url):
    response = client.get(url.format(event=999), headers=scenario["coordinator"])
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize("role", ["admin", "coordinator", "officer", "depot_manager", "auditor"])
def test_every_role_inside_the_jurisdiction_sees_the_map(client, auth, scenario, role):
    headers = auth.token(role, "140105")
    body = _get(client, f"/api/v1/events/{scenario['event_id']}/villages.geojson", headers).get_json()
    assert [f["id"] for f in body["features"]] == sorted(c for c in VILLAGES if c.startswith("140105"))
    assert len(_get(client, "/api/v1/depots.geojson", headers).get_json()["features"]) == 3


def test_unknown_region_boundaries_is_404(client, scenario):
    response = client.get("/api/v1/regions/140199/boundaries.geojson", headers=scenario["coordinator"])
    assert response.status_code == 404


# --- transport: gzip, ETag, OpenAPI --------------------------------------------------------

def test_gzip_and_etag(client, scenario):
    url = f"/api/v1/events/{scenario['event_id']}/villages.geojson"
    plain = _get(client, url, scenario["coordinator"])
    packed = _get(client, url, {**scenario["coordinator"], "Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert json.loads(gzip.decompress(packed.get_data())) == plain.get_json()
    assert len(packed.get_data()) < len(plain.get_data()) / 3
    etag = plain.headers["ETag"]
    assert packed.headers["ETag"] == etag
    again = client.get(url, headers={**scenario["coordinator"], "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    # a new report changes the layer and its tag
    _ok(client.post(f"/api/v1/events/{scenario['event_id']}/reports", headers=scenario["coordinator"],
                    json={"region_code": "140105002201", "kind": "update", "figures": {"affected_population": 3},
                          "as_of": datetime.now(timezone.utc).isoformat()}))
    changed = client.get(url, headers={**scenario["coordinator"], "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_openapi_documents_the_gis_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/events/{event_id}/villages.geojson", "/events/{event_id}/nearest-depots",
                 "/depots.geojson", "/events/{event_id}/coverage-gaps.geojson",
                 "/events/{event_id}/counties.geojson", "/dispatches.geojson",
                 "/regions/{code}/boundaries.geojson"):
        assert paths[path]["get"]["tags"] == ["gis"], path
    params = {p["name"] for p in paths["/events/{event_id}/nearest-depots"]["get"]["parameters"]}
    assert params == {"event_id", "item"}


def test_openapi_documents_the_arguments_as_they_are_read(client):
    """The query arguments are documented by the Fields the service reads them with."""
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]

    def schema(path, name):
        params = paths[path]["get"]["parameters"]
        return next(p["schema"] for p in params if p["name"] == name)

    zoom = schema("/events/{event_id}/counties.geojson", "zoom")
    assert (zoom["type"], zoom["minimum"], zoom["maximum"]) == ("integer", 0, 18)
    assert schema("/events/{event_id}/villages.geojson", "figures")["enum"] == ["all", "key"]
    assert schema("/regions/{code}/boundaries.geojson", "level")["enum"] == ["province", "prefecture", "county"]
    assert schema("/events/{event_id}/coverage-gaps.geojson", "max_km")["type"] == "number"
    assert schema("/dispatches.geojson", "event_id")["minimum"] == 1
