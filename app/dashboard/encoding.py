"""JSON documents serialised once: the bytes, their ETag, and a gzip form made on first use.

The map's layers are large (20,000 villages) and the same for every user of a jurisdiction until
the event changes, so the service keeps them encoded rather than as Python objects: a fraction of
the memory, and no serialising or compressing again for the next request.

A layer of 20,000 features need not be built as 20,000 dictionaries for :func:`encode` either: the
``json_*`` helpers write whole columns as the JSON text ``json.dumps`` would give each value, and
:func:`join_rows` lays them out between a feature's constant text, so a layer can be written
column by column (``villages.geojson``) with the same bytes.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import math
import struct
import threading
import zlib
from dataclasses import dataclass, field
from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) writes a str with
from typing import Callable, Iterable

import numpy as np


GZIP_LEVEL = 5


@dataclass
class Encoded:
    payload: bytes
    etag: str
    #: Makes the gzip form when the payload's writer can do better than compressing it whole
    #: (``villages.geojson`` reuses the compressed text of the parts that did not change).
    packer: Callable[[], bytes] | None = field(default=None, repr=False)
    _packed: bytes | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def gzipped(self) -> bytes:
        with self._lock:
            if self._packed is None:
                self._packed = (self.packer() if self.packer is not None
                                else gzip.compress(self.payload, compresslevel=GZIP_LEVEL))
            return self._packed


def dumps(body) -> str:
    """Compact JSON text, non-ASCII kept, no NaN: the one form of every answer."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode(body) -> Encoded:
    return encoded(dumps(body).encode())


def encoded(payload: bytes) -> Encoded:
    """An answer already serialised (by :func:`dumps`, or pieced together from its text)."""
    return Encoded(payload, hashlib.sha1(payload).hexdigest())


# --- columns as JSON text ----------------------------------------------------------------------

def json_strings(values: Iterable) -> list[str]:
    """Each string as :func:`dumps` writes it (quoted, escaped); ``null`` for None."""
    return ["null" if v is None else encode_basestring(v) for v in values]


def _number_text(value: float) -> str:
    if not math.isfinite(value):
        return "null"
    return str(int(value)) if value.is_integer() else repr(value)


def json_numbers(values) -> list[str]:
    """A column of numbers as :func:`dumps` writes them after
    :func:`number`: ints as ints, whole floats as ints, other floats
    as Python prints them (shortest round trip), ``null`` for NaN and infinities."""
    array = np.asarray(values)
    if array.dtype.kind in "iu":
        return list(map(str, array.tolist()))
    if array.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(array) & (np.floor(array) == array) & (np.abs(array) < 2.0 ** 62)
        if whole.all():
            return list(map(str, array.astype(np.int64).tolist()))
        if np.isfinite(array).all():  # whole values as ints, the others as repr
            ints = map(str, np.where(whole, array, 0).astype(np.int64).tolist())
            return [i if w else repr(v) for i, v, w in zip(ints, array.tolist(), whole.tolist())]
        return [_number_text(v) for v in array.tolist()]
    return [dumps(number(v)) for v in array.tolist()]  # anything else (objects): one value at a time


def number(value):
    """A JSON number as stored: whole floats as ints, so both engines print the same text."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return int(value) if value.is_integer() else value
    return value


def join_rows(pieces: list, rows: int, separator: str = ",") -> str:
    """``rows`` texts joined by ``separator``, row ``i`` being every piece's ``i``-th text in turn
    (a ``str`` piece is the same text in every row): the pieces are laid out in one list by slice
    assignment and joined once, with no Python code run per row."""
    if not rows:
        return ""
    pieces = [separator, *pieces]
    flat: list = [None] * (rows * len(pieces))
    for at, piece in enumerate(pieces):
        flat[at::len(pieces)] = [piece] * rows if isinstance(piece, str) else piece
    flat[0] = ""  # no separator before the first row
    return "".join(flat)


def json_points(lon, lat) -> list[str]:
    """GeoJSON points as :func:`dumps` writes :func:`app.dashboard.service.common.points`
    (6 decimals); ``null`` where the location is unknown."""
    lons = np.round(np.asarray(lon, dtype=float), 6)
    lats = np.round(np.asarray(lat, dtype=float), 6)
    known = (np.isfinite(lons) & np.isfinite(lats)).tolist()
    return [f'{{"type":"Point","coordinates":[{x!r},{y!r}]}}' if ok else "null"
            for x, y, ok in zip(lons.tolist(), lats.tolist(), known)]


# --- gzip from parts compressed on their own ---------------------------------------------------

def deflated(part: bytes) -> bytes:
    """``part`` as raw deflate blocks that end on a byte boundary and refer to nothing before
    them (a fresh compressor, flushed): such pieces, in order and closed by :func:`gzip_member`,
    are one valid deflate stream of the parts' concatenation, so a part that did not change
    keeps its compressed text."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(part) + compressor.flush(zlib.Z_FULL_FLUSH)


def gzip_member(pieces: Iterable[bytes], payload: bytes) -> bytes:
    """One gzip member (RFC 1952: no name, mtime 0) of ``payload`` from its parts' :func:`deflated`
    pieces: header, the pieces, an empty final block, CRC-32 and length of ``payload``."""
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", zlib.crc32(payload), len(payload) & 0xFFFFFFFF)
    return b"".join((header, *pieces, b"\x03\x00", trailer))
