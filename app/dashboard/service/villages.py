"""``villages.geojson``: the affected villages of an event as GeoJSON points with their latest
figures and severity, the map's largest layer (20,000 villages: ``bench/map.py``).

The collection is built from the event snapshot (:mod:`.snapshot`) and kept there serialised
(:class:`~app.dashboard.encoding.Encoded`), once per jurisdiction and form: the same answer for
every user of a jurisdiction until a new report changes the snapshot.
"""
from __future__ import annotations

import gis
from gis import codes

from ...api import Field
from ...permissions import require
from ...reports import FIELDS
from ..encoding import Encoded, encode
from .common import KEY_FIGURES, get_event, numbers, points, raise_if, read_args, severity_props
from .snapshot import Affected, affected_villages, snapshot
VILLAGE_ARGS = {
    "figures": Field("str", required=False, choices=("all", "key"), default="all",
                     description="all（默认，全部指标）或 key（地图所需的主要指标）"),
}


def villages_geojson(user, event_id: int, args=None) -> Encoded:
    """``GET /events/{id}/villages.geojson``: a FeatureCollection of the affected villages.

    ``figures=all`` (default): every indicator of ``domain.md`` §3, the village's population,
    ``as_of``, ``severity`` with its label and colour. ``figures=key``: the map's compact form,
    ``severity`` and only the non-zero :data:`~.common.KEY_FIGURES` (omitted figures are 0),
    about a third of the bytes. ``args`` are the query arguments (:data:`VILLAGE_ARGS`).
    """
    require(user, "dashboard.view")
    event = get_event(user, event_id)
    values, errors = read_args(VILLAGE_ARGS, args)
    raise_if(errors)
    figures = values["figures"]
    made = snapshot(event.id)
    key = ("villages.geojson", codes.prefix_of(user.region_code), figures)
    if key not in made.layers:  # the same answer for every user of this jurisdiction
        made.layers[key] = encode(_villages_collection(affected_villages(user, event), figures))
    return made.layers[key]


def _key_features(frame, columns) -> list[dict]:
    """The map's own form: key figures that are not zero (omitted ones are 0, as in reports)."""
    values = zip(*(numbers(frame[f]) for f in KEY_FIGURES))
    return [
        {"type": "Feature", "id": code, "geometry": point,
         "properties": {"code": code, "name": name, "township": township, "county": county,
                        "severity": severity, "figures": {f: v for f, v in zip(KEY_FIGURES, row) if v}}}
        for code, name, township, county, severity, point, row in zip(*columns, values)]


def _all_features(frame, columns) -> list[dict]:
    """Every indicator, the population, ``as_of`` and the severity's label and colour."""
    values = zip(*(numbers(frame[f]) for f in FIELDS))
    legend = {k: severity_props(k) for k in gis.SEVERITY_LABELS}
    return [
        {"type": "Feature", "id": code, "geometry": point,
         "properties": {"code": code, "name": name, "township": township, "county": county,
                        "population": population, "as_of": as_of, **legend[severity],
                        "figures": dict(zip(FIELDS, row))}}
        for code, name, township, county, severity, point, population, as_of, row in zip(
            *columns, numbers(frame["population"]), frame["as_of"].tolist(), values)]


def _villages_collection(affected: Affected, figures: str) -> dict:
    frame = affected.frame
    columns = (frame["code"].tolist(), frame["name"].tolist(), frame["township"].tolist(),
               frame["county"].tolist(), frame["severity"].tolist(), points(frame["lon"], frame["lat"]))
    features = _key_features(frame, columns) if figures == "key" else _all_features(frame, columns)
    return {"type": "FeatureCollection", "event_id": affected.event.id, "figures": figures,
            "severity_legend": gis.severity_legend(), "features": features}
