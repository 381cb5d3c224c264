"""Dashboard pages without a browser: sign-in, event choice, errors, and nothing from outside."""
from __future__ import annotations

import html as html_lib
import json
import re

import pytest

from tests.test_dashboard_api import build_scenario

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
MAP_SCRIPT = re.compile(r'<script src="([^"]*/map\.js[^"]*)"></script>')


def _assets(html: str) -> list[str]:
    return ASSET.findall(html)


def _with_script(client, response) -> str:
    """The page and the map script it loads (folium's script is a file of its own: the
    Content-Security-Policy runs no inline script)."""
    html = response.get_data(as_text=True)
    assert "<script>" not in html
    url = html_lib.unescape(MAP_SCRIPT.search(html).group(1))
    script = client.get(url)
    assert script.status_code == 200 and script.mimetype == "application/javascript"
    return html + "\n" + script.get_data(as_text=True)


def _shows(text: str, html: str) -> bool:
    """In the page, as HTML text or inside the map's script (JSON-escaped by folium)."""
    return text in html or json.dumps(text)[1:-1] in html


def test_dashboard_needs_sign_in(client):
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/dashboard/events/1").status_code == 302
    for url in ("/dashboard/map.js", "/dashboard/events/1/map.js"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_map_script_is_a_cacheable_file_matching_its_page(app, client, auth):
    made = build_scenario(app, client, auth)
    auth.login("coordinator", "140000")
    page = client.get(f"/dashboard/events/{made['event_id']}?item=quilt&lang=en").get_data(as_text=True)
    url = html_lib.unescape(MAP_SCRIPT.search(page).group(1))
    assert url == f"/dashboard/events/{made['event_id']}/map.js?item=quilt&lang=en"
    first, again = client.get(url), client.get(url)
    script = first.get_data(as_text=True)
    # the page's map <div> is the one the script draws in, though built in another request
    map_id = re.search(r'class="folium-map" id="([^"]+)"', page).group(1)
    assert re.search(r"L\.map\(\s*" + re.escape(json.dumps(map_id)), script)
    assert first.mimetype == "application/javascript"
    assert "private" in first.headers["Cache-Control"] and "Cookie" in first.headers["Vary"]
    assert again.get_data() == first.get_data() and first.headers["ETag"] == again.headers["ETag"]
    assert "Counties (graduated colours)" in script and "Legend" in script  # ?lang=en
    unchanged = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    other_item = client.get(url.replace("item=quilt", "item=tent"))
    assert other_item.headers["ETag"] != first.headers["ETag"]


def test_overview_without_events_is_local_only(client, auth):
    auth.login("coordinator", "140000")
    response = client.get("/dashboard")
    assert response.status_code == 200
    html = _with_script(client, response)
    assert "/dashboard/map.js?lang=zh_CN" in html
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
    html = _with_script(client, client.get("/dashboard"))
    assert "/api/v1/regions/000000/boundaries.geojson?level=province" in html


def test_event_dashboard_page(app, client, auth):
    made = build_scenario(app, client, auth)
    auth.login("coordinator", "140000")
    response = client.get("/dashboard")  # the latest active event is shown
    html = _with_script(client, response)
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
    page = _with_script(client, client.get(f"/dashboard/events/{event_id}?item=quilt"))
    assert '<option value="quilt" selected>' in page
    assert f"/dashboard/events/{event_id}/map.js?item=quilt&amp;lang=zh_CN" in page
    assert '"item": "quilt"' in page


def test_configured_tiles_are_used(app, client, auth):
    app.config["MAP_TILES_URL"] = "/tiles/{z}/{x}/{y}.png"
    app.config["MAP_TILES_ATTRIBUTION"] = "内网瓦片服务"
    auth.login("coordinator", "140000")
    html = _with_script(client, client.get("/dashboard"))
    assert "L.tileLayer" in html and '"/tiles/{z}/{x}/{y}.png"' in html and _shows("内网瓦片服务", html)


@pytest.mark.parametrize("role, region, url, status", [
    ("officer", "650000", "/dashboard/events/{event}", 403),
    ("auditor", "140106", "/dashboard/events/{event}", 403),
    ("coordinator", "140000", "/dashboard/events/999", 404),
    ("coordinator", "140000", "/dashboard/events/{event}?item=unicorn", 422),
    ("officer", "650000", "/dashboard/events/{event}/map.js", 403),
    ("coordinator", "140000", "/dashboard/events/999/map.js", 404),
    ("coordinator", "140000", "/dashboard/events/{event}/map.js?item=unicorn", 422),
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
