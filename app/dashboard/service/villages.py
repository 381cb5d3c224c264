"""``villages.geojson``: the affected villages of an event as GeoJSON points with their latest
figures and severity, the map's largest layer (20,000 villages: ``bench/map.py``).

The collection is built from the event snapshot (:mod:`.snapshot`) and kept there serialised
(:class:`~app.dashboard.encoding.Encoded`), once per jurisdiction and form: the same answer for
every user of a jurisdiction until a new report changes the snapshot. It is written as text, one
column at a time (each column's values as JSON text, laid out between the features' constant
text: :mod:`..encoding`), not as 20,000 dictionaries handed to ``json.dumps``: the same bytes in
a fraction of the time (``bench/geojson.py``).
"""
from __future__ import annotations

import numpy as np

import gis
from gis import codes

from ...api import Field
from ...permissions import require
from ...reports import FIELDS
from .. import encoding
from ..encoding import Encoded
from .common import KEY_FIGURES, get_event, raise_if, read_args, severity_props
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
        made.layers[key] = _villages_collection(affected_villages(user, event, made), figures)
    return made.layers[key]


def _figure_keys(names) -> list[str]:
    return [encoding.encode_basestring(name) + ":" for name in names]


def _head(frame) -> list:
    """The pieces every feature starts with: id, geometry, code, names."""
    codes_ = encoding.json_strings(frame["code"])
    return ['{"type":"Feature","id":', codes_, ',"geometry":', encoding.json_points(frame["lon"], frame["lat"]),
            ',"properties":{"code":', codes_, ',"name":', encoding.json_strings(frame["name"]),
            ',"township":', encoding.json_strings(frame["township"]),
            ',"county":', encoding.json_strings(frame["county"])]


def _key_features(frame) -> list:
    """The map's own form: key figures that are not zero (omitted ones are 0, as in reports)."""
    said = []
    for key, name in zip(_figure_keys(KEY_FIGURES), KEY_FIGURES):
        values = frame[name].to_numpy()
        with np.errstate(invalid="ignore"):
            shown = (np.isfinite(values) & (values != 0)) if values.dtype.kind == "f" else values != 0
        said.append(["," + key + text if ok else ""
                     for text, ok in zip(encoding.json_numbers(values), shown.tolist())])
    figures = [text[1:] for text in map("".join, zip(*said))] if said else [""] * len(frame)
    return [*_head(frame), ',"severity":', encoding.json_numbers(frame["severity"]), ',"figures":{', figures,
            "}}}"]


def _all_features(frame) -> list:
    """Every indicator, the population, ``as_of`` and the severity's label and colour."""
    legend = {k: encoding.dumps(severity_props(k))[1:-1] for k in gis.SEVERITY_LABELS}
    pieces = [*_head(frame), ',"population":', encoding.json_numbers(frame["population"]),
              ',"as_of":', encoding.json_strings(frame["as_of"]),
              ",", [legend[klass] for klass in frame["severity"].tolist()], ',"figures":{']
    for at, (key, name) in enumerate(zip(_figure_keys(FIELDS), FIELDS)):
        pieces += [("," if at else "") + key, encoding.json_numbers(frame[name])]
    return [*pieces, "}}}"]


def _villages_collection(affected: Affected, figures: str) -> Encoded:
    """The FeatureCollection's bytes, written column by column: each column's values as JSON text
    in one pass, laid out between the features' constant text by :func:`~..encoding.join_rows`
    (no dictionary per village); the same bytes as ``encode`` of the collection as Python objects
    (``tests/test_dashboard_encoding.py``)."""
    frame = affected.frame
    pieces = _key_features(frame) if figures == "key" else _all_features(frame)
    features = encoding.join_rows(pieces, len(frame))
    # The collection's own keys, "features" last: its text ends in "[]}", where the features go.
    shell = encoding.dumps({"type": "FeatureCollection", "event_id": affected.event.id, "figures": figures,
                            "severity_legend": gis.severity_legend(), "features": []})
    return encoding.encoded((shell[:-2] + features + "]}").encode())
