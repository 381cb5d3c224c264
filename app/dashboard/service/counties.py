"""``counties.geojson``: the event's counties for the choropleth, with simplified boundaries,
rolled-up key figures, severity class and the response in force (the highest tier of any plan
for the county or a region containing it, from the responses area's public
``active_responses``).
"""
from __future__ import annotations

import gis
from gis import codes

from ...permissions import require
from ...regions import Region
from ...reports import Event
from ...responses import active_responses
from .boundaries import Place, boundary_places
from .common import (KEY_FIGURES, TIER_COLOURS, TIER_NONE_COLOUR, ZOOM, codes_at_level, get_event,
                     number, overlaps, raise_if, read_args, region_rows, severity_props)
from .snapshot import county_figures

COUNTY_ARGS = {"zoom": ZOOM}


def event_county_codes(user, event: Event) -> list[str]:
    """Counties of the event inside the user's jurisdiction: counties inside an event region and
    counties containing one (reports are only accepted inside the event's regions)."""
    found: set[str] = set()
    for code in event.region_codes:
        if codes.level_of(code) in ("province", "prefecture", "county"):
            found.update(codes_at_level(code, "county"))
        else:
            found.update(codes.ancestors(code))
    candidates = [c for c in found if len(c) == 6 and codes.level_of(c) == "county"]
    rows = region_rows(candidates, Region.code, Region.level)
    return sorted(r.code for r in rows if r.level == "county"
                  and overlaps(r.code, user.region_code))


def _responses_by_region(event_id: int) -> dict[str, dict]:
    """Active responses of the event by region: the highest tier (lowest rank) of any plan."""
    best: dict[str, dict] = {}
    for (plan_id, region_code), action in sorted(active_responses(event_id).items()):
        current = best.get(region_code)
        if current is None or action.rank < current["rank"]:
            best[region_code] = {"rank": action.rank, "level": action.level, "plan_id": plan_id,
                                 "region_code": region_code}
    return best


def _response_for(code: str, responses: dict[str, dict]) -> dict | None:
    """The response in force in ``code``: the highest tier among its own and its ancestors'."""
    chain = [code, *codes.ancestors(code)]
    found = [dict(responses[c], inherited=c != code) for c in chain if c in responses]
    return min(found, key=lambda r: (r["rank"], r["inherited"])) if found else None


def _county_feature(place: Place, total: dict | None, response: dict | None) -> dict:
    figures = {f: number(total["figures"][f]) if total else 0 for f in KEY_FIGURES}
    properties = {"code": place.code, "name": place.name, "parent_code": place.parent_code,
                  **severity_props(total["severity"] if total else 0),
                  "reporting_units": total["reporting_units"] if total else 0,
                  "as_of": total["as_of"].isoformat() if total else None,
                  "figures": figures,
                  "response": (dict(response, colour=TIER_COLOURS.get(response["rank"], TIER_NONE_COLOUR))
                               if response else None)}
    return {"type": "Feature", "id": place.code, "geometry": place.geometry, "properties": properties}


def counties_geojson(user, event_id: int, args=None) -> dict:
    """``GET /events/{id}/counties.geojson?zoom=``: the event's counties for the choropleth, with
    simplified boundaries, rolled-up key figures, severity class and the response in force."""
    require(user, "dashboard.view")
    event = get_event(user, event_id)
    values, errors = read_args(COUNTY_ARGS, args)
    raise_if(errors)
    totals = county_figures(event.id)
    responses = _responses_by_region(event.id)
    features = [_county_feature(place, totals.get(place.code), _response_for(place.code, responses))
                for place in boundary_places(event_county_codes(user, event), values["zoom"])]
    return {"type": "FeatureCollection", "event_id": event.id, "zoom": values["zoom"],
            "severity_legend": gis.severity_legend(), "features": features}
