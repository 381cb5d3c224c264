"""The map dashboard in a real browser (Debian chromium through Playwright), with nothing fetched
from outside 127.0.0.1 (the ``browser_page`` fixture fails the test otherwise)."""
from __future__ import annotations

import pytest

from tests.browser import sign_in
from tests.conftest import PASSWORD
from tests.test_dashboard_api import VILLAGES, build_scenario

pytestmark = pytest.mark.browser

READY = "() => window.jiuzaiMapReady === true"


def _open(page, app, client, auth, url):
    made = build_scenario(app, client, auth)
    sign_in(page, auth.user("coordinator", "140000"), PASSWORD)
    page.goto(page.base_url + url.format(event=made["event_id"]))
    page.wait_for_function(READY, timeout=15_000)
    return made


def test_event_dashboard_renders_every_layer_offline(app, client, auth, browser_page, tmp_path):
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _open(page, app, client, auth, "/dashboard/events/{event}")
    assert page.evaluate("window.jiuzaiMapError || null") is None
    stats = page.evaluate("window.jiuzaiMapStats")
    located = sum(1 for point in VILLAGES.values() if point)
    assert stats["villages"] == located
    assert stats["counties"] == 2 and stats["depots"] == 3 and stats["dispatches"] == 1
    assert stats["gaps"] == 1  # tents: only the village without a location is uncovered at 50 km
    # vectors were drawn: the county polygon, depots, the dispatch line, village clusters
    assert page.locator("path.leaflet-interactive").count() >= 1 + 3 + 1
    assert page.locator(".marker-cluster.jz-cluster").count() + page.locator("path.leaflet-interactive").count() > 5
    assert page.locator(".leaflet-tile").count() == 0  # no tiles: vectors only
    # layer control and legend, in Chinese
    control = page.locator(".leaflet-control-layers").inner_text()
    for name in ("县级区划", "受灾村庄", "救灾物资储备库", "在途调拨", "保障盲区"):
        assert name in control, name
    legend = page.locator(".jz-legend").inner_text()
    assert "图例" in legend and "特重" in legend and "在途调拨" in legend
    assert "受灾村庄 7" in page.locator("#jz-summary").inner_text()
    # the linked table: worst first; clicking a row pans to the village and opens its popup
    order = page.eval_on_selector_all("#jz-villages tbody tr", "rows => rows.map(r => r.dataset.code)")
    # worst first (特重, 重, 中 by affected population, 轻 …), then the zero report
    assert order == ["140105001200", "140105001201", "140105001202", "140212001200",
                     "140105002202", "140105002200", "140105002201"]
    row = page.locator("#jz-villages tbody tr[data-code='140212001200']")
    assert "大同市救灾物资储备库" in row.inner_text()  # nearest stocked depot for tents
    row.click()
    page.wait_for_selector(".leaflet-popup-content:has-text('新荣一村')", timeout=5_000)
    centre = page.evaluate("(() => { const c = window.JIUZAI_MAP.map.getCenter(); return [c.lng, c.lat]; })()")
    assert abs(centre[0] - 113.15) < 0.3 and abs(centre[1] - 40.27) < 0.3
    assert "jz-active" in (row.get_attribute("class") or "")
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000
    assert errors == []


def test_item_filter_recomputes_depots_and_gaps(app, client, auth, browser_page):
    page = browser_page
    _open(page, app, client, auth, "/dashboard/events/{event}")
    page.select_option("#jz-item", "quilt")
    page.wait_for_function(READY, timeout=15_000)
    assert page.url.endswith("item=quilt")
    # quilts: 新荣一村 is 272 km from Taiyuan's quilts
    assert page.evaluate("window.jiuzaiMapStats.gaps") == 2
    row = page.locator("#jz-villages tbody tr[data-code='140212001200']")
    assert "太原市救灾物资储备库" in row.inner_text() and "271.8 公里" in row.inner_text()
    assert "小店区救灾物资储备库" in page.locator("#jz-villages tbody tr[data-code='140105001200']").inner_text()
    # the search box narrows the table
    page.fill("#jz-search", "东山")
    assert page.locator("#jz-villages tbody tr").count() == 3
    page.fill("#jz-search", "")
    # the depots table is sorted by the chosen item, and a row opens the depot's stock popup
    page.click("button[data-bs-target='#jz-tab-depots']")
    depots = page.locator("#jz-depots tbody tr")
    assert depots.first.get_attribute("data-code") == "D-TY"
    depots.first.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5_000)
    text = popup.inner_text()
    assert "太原市救灾物资储备库" in text and "棉被" in text and "帐篷" in text and "500" in text and "90" in text
    # colour counties by response tier instead: the legend follows
    page.select_option("#jz-colour-by", "response")
    assert page.locator(".jz-legend [data-colour-by='response']").is_visible()
    assert not page.locator(".jz-legend [data-colour-by='severity']").is_visible()


def test_overview_without_an_event(app, client, auth, browser_page):
    page = browser_page
    build_scenario(app, client, auth)
    sign_in(page, auth.user("officer", "650000"), PASSWORD)  # no event in Xinjiang
    page.goto(page.base_url + "/dashboard")
    page.wait_for_function(READY, timeout=15_000)
    stats = page.evaluate("window.jiuzaiMapStats")
    assert stats["depots"] == 3 and "villages" not in stats
    assert page.locator("#jz-depots tbody tr").count() == 3
