"""JSON documents serialised once: the bytes, their ETag, and a gzip form made on first use.

The map's layers are large (20,000 villages) and the same for every user of a jurisdiction until
the event changes, so the service keeps them encoded rather than as Python objects: a fraction of
the memory, and no serialising or compressing again for the next request.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import threading
from dataclasses import dataclass, field


@dataclass
class Encoded:
    payload: bytes
    etag: str
    _packed: bytes | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def gzipped(self) -> bytes:
        with self._lock:
            if self._packed is None:
                self._packed = gzip.compress(self.payload, compresslevel=5)
            return self._packed


def encode(body) -> Encoded:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    return Encoded(payload, hashlib.sha1(payload).hexdigest())
