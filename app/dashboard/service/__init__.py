"""The map (灾情地图): the GeoJSON layers of the dashboard and the answers behind them.

Three questions at a glance: where are the losses (affected villages and counties, by severity or
response tier), where is the stock (depots, dispatches in transit), and which villages no stocked
depot reaches (the nearest stocked depot, coverage gaps). Everything here only reads: each
function checks permission first, reads its query arguments by ``Field`` s (one 422 naming every
bad one), then reads. The geometry itself is done by the pure :mod:`gis` library, identically on
SQLite and on PostgreSQL, so both engines give the same answers byte for byte.

By subject: :mod:`.common` (arguments, events and jurisdiction, bulk region reads, feature
pieces), :mod:`.snapshot` (every affected village's latest figures, read once per event),
:mod:`.villages`, :mod:`.stock` (depots, nearest depots, coverage gaps, dispatches),
:mod:`.boundaries`, :mod:`.counties` (the choropleth) and :mod:`.page` (what the page and its
map script are built from). A new layer is a module of its own, re-exported here.
"""
from __future__ import annotations

from .boundaries import BOUNDARY_ARGS, boundaries_geojson
from .common import KEY_FIGURES, TIER_COLOURS, TIER_NONE_COLOUR, get_event, visible_events
from .counties import COUNTY_ARGS, counties_geojson, event_county_codes
from .page import PAGE_ARGS, dashboard_page, default_item, figure_labels, items, map_script, view_bounds
from .snapshot import Affected, affected_villages, county_figures, severity_rule
from .stock import (DEPOT_ARGS, DISPATCH_ARGS, GAP_ARGS, NEAREST_ARGS, coverage_gaps_geojson,
                    depots_geojson, dispatches_geojson, nearest_depots)
from .villages import VILLAGE_ARGS, villages_geojson

__all__ = [
    "Affected", "BOUNDARY_ARGS", "COUNTY_ARGS", "DEPOT_ARGS", "DISPATCH_ARGS", "GAP_ARGS",
    "KEY_FIGURES", "NEAREST_ARGS", "PAGE_ARGS", "TIER_COLOURS", "TIER_NONE_COLOUR", "VILLAGE_ARGS",
    "affected_villages", "boundaries_geojson", "counties_geojson", "county_figures",
    "coverage_gaps_geojson", "dashboard_page", "default_item", "depots_geojson",
    "dispatches_geojson", "event_county_codes", "figure_labels", "get_event", "items",
    "map_script", "nearest_depots", "severity_rule", "view_bounds", "villages_geojson",
    "visible_events",
]
