"""What ``dashboard.js`` is told: the URLs of the map's layers, the item catalogue, the colours,
figure labels and the visible strings it draws, translated here. Built from what the service
chose for the page (:func:`~app.dashboard.service.dashboard_page`), identically for the page and
for its map script, so that both agree.
"""
from __future__ import annotations

from flask import current_app, url_for
from flask_babel import gettext as _

import gis

from . import service

#: Rows of the linked table drawn at once (the worst first; the search box reaches the rest).
TABLE_ROWS = 300


def _urls(choice: dict) -> dict[str, str]:
    event = choice["event"]
    urls = {"depots": url_for("dashboard_api.depots"),
            "dispatches": url_for("dashboard_api.dispatches", **({"event_id": event.id} if event else {})),
            "page": url_for("dashboard.event", event_id=event.id) if event else url_for("dashboard.index")}
    if event is not None:
        urls.update(villages=url_for("dashboard_api.villages", event_id=event.id, figures="key"),
                    counties=url_for("dashboard_api.counties", event_id=event.id),
                    nearest=url_for("dashboard_api.nearest_depots", event_id=event.id))
        if choice.get("footprint"):
            urls["footprint"] = url_for("forecast_api.features", event_id=event.id)
    else:
        code, level = choice["overview"]
        urls["counties"] = url_for("dashboard_api.boundaries", code=code, level=level)
    return urls


def map_options(choice: dict) -> dict:
    """The options of the map of ``choice`` (the event, the catalogue, the item)."""
    event = choice["event"]
    return {
        "event_id": event.id if event else None,
        "item": choice["item"],
        "items": {i["code"]: {"name": i["name"], "unit": i["unit"]} for i in choice["items"]},
        "urls": _urls(choice),
        "coverage_km": current_app.config["GIS_COVERAGE_KM"],
        "severity": gis.severity_legend(),
        "tier_colours": service.TIER_COLOURS,
        "tier_none_colour": service.TIER_NONE_COLOUR,
        "figures": service.figure_labels(),
        "table_rows": TABLE_ROWS,
        "labels": js_labels(),
    }


def js_labels() -> dict[str, str]:
    """Visible strings used by ``dashboard.js``, translated here."""
    return {
        "village": _("村"), "township": _("乡镇"), "severity": _("灾情等级"),
        "population": _("户籍人口"), "as_of": _("截至"), "nearest": _("最近有库存储备库"),
        "none_within": _("无任何储备库有该物资"), "km": _("公里"), "available": _("可用"),
        "depot": _("储备库"), "tier": _("级别"), "region": _("所在区划"), "stock": _("可用库存"),
        "no_stock": _("无库存"), "dispatch": _("调拨单"), "to_region": _("接收区划"),
        "status": _("状态"), "lines": _("物资"), "gap": _("保障盲区"), "response": _("应急响应"),
        "no_response": _("未启动响应"), "inherited": _("（上级启动）"), "reporting_units": _("报送单位"),
        "load_failed": _("地图数据加载失败"), "villages_count": _("受灾村庄"),
        "uncovered": _("保障盲区村庄"), "depots_count": _("储备库"), "dispatches_count": _("在途调拨"),
        "rows_shown": _("显示前 %(n)s 行，可用搜索框查找其余村庄", n="{n}"),
        "no_rows": _("没有符合条件的村庄"), "status_approved": _("已审批"), "status_shipped": _("已发运"),
        "status_requested": _("待审批"),
        "footprint": _("灾害影响范围（预判）"), "intensity": _("强度"), "forecast_affected": _("估算受灾人口（预判）"),
    }
