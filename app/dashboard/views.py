"""Dashboard pages: ``GET /dashboard`` (the latest active event, or the overview of depots and
boundaries when there is none) and ``GET /dashboard/events/<id>``, for signed-in users.

Each page loads its map's script from ``GET /dashboard/map.js`` (the overview) or
``GET /dashboard/events/<id>/map.js`` with the page's ``item`` and ``lang``: the
Content-Security-Policy runs no inline script. Same permission checks as the pages; the script
depends on the user's jurisdiction too, so it is cached privately and revalidated by ETag."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

import gis
from gis import codes

from ..errors import Invalid
from ..i18n import select_locale
from ..permissions import require
from ..reports import EVENT_MACHINE, HAZARDS
from . import maps, service

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

#: Rows of the linked table drawn at once (the worst first; the search box reaches the rest).
TABLE_ROWS = 300


@bp.get("")
@login_required
def index():
    require(current_user, "dashboard.view")
    events = service.visible_events(current_user)
    event = next((e for e in events if e.status == "active"), None)
    return _page(event, events)


@bp.get("/events/<int:event_id>")
@login_required
def event(event_id: int):
    require(current_user, "dashboard.view")
    chosen = service.get_event(current_user, event_id)
    return _page(chosen, service.visible_events(current_user))


@bp.get("/map.js")
@login_required
def overview_script():
    require(current_user, "dashboard.view")
    return _script(None)


@bp.get("/events/<int:event_id>/map.js")
@login_required
def event_script(event_id: int):
    require(current_user, "dashboard.view")
    return _script(service.get_event(current_user, event_id))


def _overview_region(user) -> tuple[str, str]:
    """Boundaries for the page without an event: provinces for a national user, else the
    counties of (or around) the jurisdiction."""
    if user.region_code == codes.NATIONAL:
        return codes.NATIONAL, "province"
    level = codes.level_of(user.region_code)
    if level in ("township", "village"):
        return user.region_code[:6], "county"
    return user.region_code, "county"


def _page(event, events):
    catalogue, item, options = _map_options(event)
    # The page needs the map's assets and <div> only: no bounds (a database read) here.
    parts = maps.dashboard_map(None, options, with_event=event is not None)
    # ``lang`` (zh_CN, en): the script's URL, and so its cache entry, differs per language.
    query = {"item": item, "lang": select_locale()}
    script_url = (url_for("dashboard.event_script", event_id=event.id, **query) if event
                  else url_for("dashboard.overview_script", **query))
    return render_template("dashboard/index.html", event=event, events=events, items=catalogue,
                           item=item, map=parts, map_script_url=script_url, hazards=HAZARDS,
                           statuses=EVENT_MACHINE.labels, table_rows=TABLE_ROWS,
                           coverage_km=options["coverage_km"])


def _script(event):
    """Folium's script for the map of ``_page(event)``, as a cacheable file."""
    _catalogue, _item, options = _map_options(event)
    parts = maps.dashboard_map(service.view_bounds(current_user, event), options,
                               with_event=event is not None)
    response = current_app.response_class(parts["script"], mimetype="application/javascript")
    response.cache_control.private = True
    response.cache_control.no_cache = True  # revalidate: the event's counties grow with reports
    response.vary.add("Cookie")
    response.add_etag()
    return response.make_conditional(request)


def _map_options(event) -> tuple[list[dict], str | None, dict]:
    """``(catalogue, item, options)``: what the page and its map script are built from."""
    catalogue = service.items()
    item = request.args.get("item") or service.default_item(catalogue)
    known = {i["code"] for i in catalogue}
    if item and item not in known:
        raise Invalid(f"物资目录中没有品种 {item}。", [{"field": "item", "message": "未知物资品种"}])
    urls = {"depots": url_for("dashboard_api.depots"),
            "dispatches": url_for("dashboard_api.dispatches", **({"event_id": event.id} if event else {})),
            "page": url_for("dashboard.event", event_id=event.id) if event else url_for("dashboard.index")}
    if event is not None:
        urls.update(villages=url_for("dashboard_api.villages", event_id=event.id, figures="key"),
                    counties=url_for("dashboard_api.counties", event_id=event.id),
                    nearest=url_for("dashboard_api.nearest_depots", event_id=event.id))
    else:
        code, level = _overview_region(current_user)
        urls["counties"] = url_for("dashboard_api.boundaries", code=code, level=level)
    options = {
        "event_id": event.id if event else None,
        "item": item,
        "items": {i["code"]: {"name": i["name"], "unit": i["unit"]} for i in catalogue},
        "urls": urls,
        "coverage_km": current_app.config["GIS_COVERAGE_KM"],
        "severity": gis.severity_legend(),
        "tier_colours": service.TIER_COLOURS,
        "tier_none_colour": service.TIER_NONE_COLOUR,
        "figures": service.figure_labels(),
        "table_rows": TABLE_ROWS,
        "labels": _js_labels(),
    }
    return catalogue, item, options


def _js_labels() -> dict[str, str]:
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
    }
