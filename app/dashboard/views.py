"""Dashboard pages: ``GET /dashboard`` (the latest active event, or the overview of depots and
boundaries when there is none) and ``GET /dashboard/events/<id>``, for signed-in users.

Each page loads its map's script from ``GET /dashboard/map.js`` (the overview) or
``GET /dashboard/events/<id>/map.js`` with the page's ``item`` and ``lang``: the
Content-Security-Policy runs no inline script. The service checks the same permissions for both;
the script depends on the user's jurisdiction too, so it is cached privately and revalidated by
ETag."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..i18n import select_locale
from ..reports import EVENT_MACHINE, HAZARDS
from . import maps, service
from .options import TABLE_ROWS, map_options

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.get("")
@login_required
def index():
    return _page(service.dashboard_page(current_user, None, request.args))


@bp.get("/")
def trailing_slash():
    """``/dashboard/`` (typed or bookmarked) is the map, not a 404."""
    return redirect(url_for("dashboard.index", **request.args))


@bp.get("/events/<int:event_id>")
@login_required
def event(event_id: int):
    return _page(service.dashboard_page(current_user, event_id, request.args))


@bp.get("/map.js")
@login_required
def overview_script():
    return _script(service.map_script(current_user, None, request.args))


@bp.get("/events/<int:event_id>/map.js")
@login_required
def event_script(event_id: int):
    return _script(service.map_script(current_user, event_id, request.args))


def _page(choice: dict):
    event, options = choice["event"], map_options(choice)
    # The page needs the map's assets and <div> only: no bounds (a database read) here.
    parts = maps.dashboard_map(None, options, with_event=event is not None)
    # ``lang`` (zh_CN, en): the script's URL, and so its cache entry, differs per language.
    query = {"item": choice["item"], "lang": select_locale()}
    script_url = (url_for("dashboard.event_script", event_id=event.id, **query) if event
                  else url_for("dashboard.overview_script", **query))
    return render_template("dashboard/index.html", event=event, events=choice["events"],
                           items=choice["items"], item=choice["item"], map=parts,
                           map_script_url=script_url, hazards=HAZARDS, statuses=EVENT_MACHINE.labels,
                           table_rows=TABLE_ROWS, coverage_km=options["coverage_km"])


def _script(choice: dict):
    """Folium's script for the map of the same page, as a cacheable file."""
    parts = maps.dashboard_map(choice["bounds"], map_options(choice), with_event=choice["event"] is not None)
    response = current_app.response_class(parts["script"], mimetype="application/javascript")
    response.cache_control.private = True
    response.cache_control.no_cache = True  # revalidate: the event's counties grow with reports
    response.vary.add("Cookie")
    response.add_etag()
    return response.make_conditional(request)
