"""JSON Schemas of the API's answers (OpenAPI ``components/schemas``), referenced from the
operations' responses by :mod:`app.openapi` and checked by the schemathesis run of the suite.

They state what every answer carries (``required``) with its type; resources may grow new
fields without breaking clients, so extra properties are allowed.
"""
from __future__ import annotations

STRING = {"type": "string"}
NSTRING = {"type": "string", "nullable": True}
INT = {"type": "integer"}
NINT = {"type": "integer", "nullable": True}
NUMBER = {"type": "number"}
NNUMBER = {"type": "number", "nullable": True}
BOOL = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
NTIME = {"type": "string", "format": "date-time", "nullable": True}
DATE = {"type": "string", "format": "date"}
NDATE = {"type": "string", "format": "date", "nullable": True}
OBJECT = {"type": "object"}
NOBJECT = {"type": "object", "nullable": True}
CODE = {"type": "string", "pattern": r"^\d{6}(\d{3}){0,2}$"}


def obj(required: dict, optional: dict | None = None) -> dict:
    """An object with these ``required`` properties (and ``optional`` ones when present)."""
    return {"type": "object", "required": sorted(required), "properties": {**required, **(optional or {})}}


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


SCHEMAS: dict[str, dict] = {
    "Problem": obj({"type": STRING, "title": STRING, "status": INT, "detail": STRING,
                    "errors": array({"type": "object", "properties": {"field": STRING, "message": STRING}})}),
    "Page": obj({"items": array(OBJECT), "total": INT, "limit": INT, "offset": INT}),
}
