"""``villages.geojson``: the affected villages of an event as GeoJSON points with their latest
figures and severity, the map's largest layer (20,000 villages: ``bench/map.py``).

The collection is built from the event snapshot (:mod:`.snapshot`) and kept there serialised
(:class:`~app.dashboard.encoding.Encoded`), once per jurisdiction and form: the same answer for
every user of a jurisdiction until a new report changes the snapshot. It is written as text, one
column at a time (each column's values as JSON text, laid out between the features' constant
text: :mod:`..encoding`), not as 20,000 dictionaries handed to ``json.dumps``: the same bytes in
a fraction of the time (``bench/geojson.py``).

The layer is kept as its features' bytes, one per village in code order (:class:`VillageLayer`):
when new reports change some villages, only those features are written again and put in place
(or inserted, for a village's first report), and the collection is joined again from the bytes,
byte for byte what writing it whole gives (``tests/test_dashboard_snapshot.py``).
"""
from __future__ import annotations

import hashlib
from bisect import bisect_left
from dataclasses import dataclass

import numpy as np
import pandas as pd

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
        made.layers[key] = _village_layer(affected_villages(user, event, made), figures, key[1])
    return made.layers[key].encoded


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


#: Between two features while they are written: JSON text never holds a raw NUL (a string's is
#: escaped as \\u0000), so the features' bytes are split apart on it.
_APART = "\x00"
_TAIL = b"]}"
#: The gzip form is compressed in parts, one per prefecture (the first 4 digits of the code):
#: a part of ~200 villages compresses nearly as well as the whole (each part starts with an empty
#: window), and is compressed again in a few milliseconds when one of its villages changes.
_PART = 4


def _feature_bytes(frame, figures: str) -> list[bytes]:
    """Each village's feature as UTF-8 bytes, in the frame's order: every column's values as
    JSON text in one pass, laid out between the features' constant text by
    :func:`~..encoding.join_rows` (no dictionary per village)."""
    if not len(frame):
        return []
    pieces = _key_features(frame) if figures == "key" else _all_features(frame)
    return encoding.join_rows(pieces, len(frame), separator=_APART).encode().split(_APART.encode())


@dataclass(frozen=True, eq=False)
class VillageLayer:
    """``villages.geojson`` of one jurisdiction (code ``prefix``) and form, as the collection's
    head and its features' bytes in code order, and the answer joined from them.

    Its ETag is the SHA-1 of the head, each feature's SHA-1 and the tail: a hash of the content
    as much as the payload's own SHA-1 is, the same for the same bytes however they were made,
    and patched with the features rather than computed again over 17 MB. Its gzip form is made
    of each prefecture's features compressed on their own (:func:`~..encoding.deflated`), kept
    in ``parts``: after a new report only that prefecture's are compressed again."""

    prefix: str
    figures: str
    head: bytes  # the collection's text up to its features' "["
    codes: list
    features: list
    digests: list  # each feature's SHA-1
    encoded: Encoded
    parts: dict  # (code prefix, first?) -> its features' text, compressed (filled on use)

    @classmethod
    def of(cls, prefix: str, figures: str, head: bytes, codes_: list, features: list,
           digests: list | None = None, parts: dict | None = None) -> "VillageLayer":
        if digests is None:
            digests = [hashlib.sha1(feature).digest() for feature in features]
        laid = [b","] * (2 * len(features) - 1) if features else []
        laid[0::2] = features  # the features with commas between them, joined once with the head and tail
        payload = b"".join((head, *laid, _TAIL))
        etag = hashlib.sha1(b"".join((head, *digests, _TAIL))).hexdigest()
        layer = cls(prefix, figures, head, codes_, features, digests, Encoded(payload, etag), parts or {})
        layer.encoded.packer = layer._gzipped
        return layer

    def _gzipped(self) -> bytes:
        """The gzip form, part by part (:data:`_PART`; the parts already compressed reused)."""
        pieces, start = [encoding.deflated(self.head)], 0
        while start < len(self.codes):
            part = self.codes[start][:_PART]
            end = bisect_left(self.codes, part + "~", start)  # codes are digits: the part's run
            piece = self.parts.get((part, start == 0))
            if piece is None:
                text = b",".join(self.features[start:end])
                piece = self.parts[part, start == 0] = encoding.deflated(text if start == 0 else b"," + text)
            pieces.append(piece)
            start = end
        pieces.append(encoding.deflated(_TAIL))
        return encoding.gzip_member(pieces, self.encoded.payload)

    def patched(self, villages: pd.DataFrame) -> "VillageLayer":
        """This layer with the features of ``villages`` (rows of the snapshot's village frame
        whose latest report changed) written again and put in place, or inserted in code order."""
        if self.prefix:
            villages = villages[villages["code"].str.startswith(self.prefix)]
        if not len(villages):
            return self
        codes_, features, digests = list(self.codes), list(self.features), list(self.digests)
        changed = villages["code"].tolist()
        for code, text in zip(changed, _feature_bytes(villages, self.figures)):
            at = bisect_left(codes_, code)
            if at < len(codes_) and codes_[at] == code:
                features[at], digests[at] = text, hashlib.sha1(text).digest()
            else:
                codes_.insert(at, code)
                features.insert(at, text)
                digests.insert(at, hashlib.sha1(text).digest())
        dirty = {code[:_PART] for code in changed}
        parts = {key: piece for key, piece in dict(self.parts).items() if key[0] not in dirty}
        return VillageLayer.of(self.prefix, self.figures, self.head, codes_, features, digests, parts)


def _village_layer(affected: Affected, figures: str, prefix: str) -> VillageLayer:
    """The layer of the affected villages (those of the jurisdiction ``prefix``)."""
    frame = affected.frame
    # The collection's own keys, "features" last: its text ends in "[]}", where the features go.
    shell = encoding.dumps({"type": "FeatureCollection", "event_id": affected.event.id, "figures": figures,
                            "severity_legend": gis.severity_legend(), "features": []})
    return VillageLayer.of(prefix, figures, shell[:-2].encode(), frame["code"].tolist(),
                           _feature_bytes(frame, figures))


def _villages_collection(affected: Affected, figures: str) -> Encoded:
    """The FeatureCollection's bytes, written column by column (:func:`_feature_bytes`); the same
    bytes as ``encode`` of the collection as Python objects (``tests/test_dashboard_encoding.py``)."""
    return _village_layer(affected, figures, "").encoded
