"""Dashboard pages without a browser: sign-in, event choice, errors, and nothing from outside."""
from __future__ import annotations

import json
import re

import pytest

from tests.test_dashboard_api import build_scenario

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def _assets(html: str) -> list[str]:
    return ASSET.findall(html)


def _shows(text: str, html: str) -> bool:
    """In the page, as HTML text or inside the map's script (JSON-escaped by folium)."""
    return text in html or json.dumps(text)[1:-1] in html


def test_dashboard_needs_sign_in(client):
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/dashboard/events/1").status_code == 302


def test_overview_without_events_is_local_only(client, auth):
    auth.login("coordinator", "140000")
    response = client.get("/dashboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "灾情地图" in html and "总览" in html and _shows("图例", html)
    assert "http://" not in html and "https://" not in html
    for url in _assets(html):
        assert url.startswith(("/", "?", "#")), url
    assert "/xstatic/leaflet/leaflet.js" in html and "/xstatic/leaflet/leaflet.css" in html
    assert "/xstatic/jquery/jquery.min.js" in html
    assert "/static/dashboard/dashboard.js" in html
    # no village layer without an event; counties of the jurisdiction as plain boundaries
    assert "markercluster" not in html
    assert "/api/v1/regions/140000/boundaries.geojson?level=county" in html
    assert "L.tileLayer" not in html  # offline: no tiles unless configured
    # the nav links the map
    assert 'href="/dashboard"' in html


def test_national_overview_draws_provinces(client, auth):
    auth.login("admin", "000000")
    html = client.get("/dashboard").get_data(as_text=True)
    assert "/api/v1/regions/000000/boundaries.geojson?level=province" in html


def test_event_dashboard_page(app, client, auth):
    made = build_scenario(app, client, auth)
    auth.login("coordinator", "140000")
    response = client.get("/dashboard")  # the latest active event is shown
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2026年7月太原暴雨洪涝（测试）" in html
    event_id = made["event_id"]
    for url in (f"/api/v1/events/{event_id}/villages.geojson?figures=key",
                f"/api/v1/events/{event_id}/counties.geojson",
                f"/api/v1/events/{event_id}/nearest-depots",
                f"/api/v1/dispatches.geojson?event_id={event_id}"):
        assert url in html, url
    assert "/xstatic/markercluster/leaflet.markercluster.js" in html
    assert "/xstatic/markercluster/MarkerCluster.Default.css" in html
    assert "http://" not in html and "https://" not in html
    for label in ("受灾村庄（按灾情等级）", "救灾物资储备库", "在途调拨", "保障盲区（超出服务半径）", "县级区划（分级设色）",
                  "特重", "村庄聚合（颜色取其中最重等级）", "最近有库存储备库"):
        assert _shows(label, html), label
    assert '<option value="tent" selected>' in html  # the default item
    page = client.get(f"/dashboard/events/{event_id}?item=quilt").get_data(as_text=True)
    assert '<option value="quilt" selected>' in page
    assert '"item": "quilt"' in page


def test_configured_tiles_are_used(app, client, auth):
    app.config["MAP_TILES_URL"] = "/tiles/{z}/{x}/{y}.png"
    app.config["MAP_TILES_ATTRIBUTION"] = "内网瓦片服务"
    auth.login("coordinator", "140000")
    html = client.get("/dashboard").get_data(as_text=True)
    assert "L.tileLayer" in html and '"/tiles/{z}/{x}/{y}.png"' in html and _shows("内网瓦片服务", html)


@pytest.mark.parametrize("role, region, url, status", [
    ("officer", "650000", "/dashboard/events/{event}", 403),
    ("auditor", "140106", "/dashboard/events/{event}", 403),
    ("coordinator", "140000", "/dashboard/events/999", 404),
    ("coordinator", "140000", "/dashboard/events/{event}?item=unicorn", 422),
])
def test_dashboard_page_errors(app, client, auth, role, region, url, status):
    made = build_scenario(app, client, auth)
    auth.login(role, region)
    response = client.get(url.format(event=made["event_id"]))
    assert response.status_code == status
    assert "<html" in response.get_data(as_text=True)  # a friendly page, not JSON


def test_event_outside_jurisdiction_is_not_offered(app, client, auth):
    build_scenario(app, client, auth)
    auth.login("officer", "650000")
    html = client.get("/dashboard").get_data(as_text=True)
    assert "太原暴雨" not in html and "总览" in html
