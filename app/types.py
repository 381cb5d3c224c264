"""Column types that behave the same on SQLite and on PostgreSQL/PostGIS."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import shapely
from sqlalchemy import JSON, DateTime, LargeBinary
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, UserDefinedType

JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes stored as UTC.

    SQLite keeps no offset, so values are written as naive UTC and read back as aware UTC;
    PostgreSQL uses ``timestamptz``. Naive input is rejected: the caller decides the zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Geometry(TypeDecorator):
    """A shapely geometry in WGS 84 (EPSG:4326).

    PostgreSQL: a PostGIS ``geometry(<type>, 4326)`` column (spatial indexes are declared on the
    table with ``postgresql_using="gist"``). SQLite: well-known binary in a BLOB, so no
    extension is needed. Python code always sees shapely geometries.
    """

    impl = LargeBinary
    cache_ok = True

    def __init__(self, geometry_type: str = "GEOMETRY"):
        super().__init__()
        self.geometry_type = geometry_type

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(PostGISGeometry(self.geometry_type))
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "postgresql":
            return shapely.to_wkb(value, hex=True, include_srid=True) if shapely.get_srid(value) else \
                shapely.to_wkb(shapely.set_srid(value, 4326), hex=True, include_srid=True)
        return shapely.to_wkb(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        # SQLite returns the WKB BLOB; PostGIS returns hex EWKB, which shapely reads as well.
        return shapely.from_wkb(bytes(value) if isinstance(value, memoryview) else value)


class PostGISGeometry(UserDefinedType):
    """``geometry(<type>, 4326)`` in PostGIS. Written as EWKT text, read as hex EWKB."""

    cache_ok = True

    def __init__(self, geometry_type: str = "GEOMETRY"):
        self.geometry_type = geometry_type

    def get_col_spec(self, **_kw):
        return f"geometry({self.geometry_type}, 4326)"


def jsonable(value: Any):
    """``value`` with dates as ISO strings, decimals as floats and anything else unknown as text:
    what a JSON column (audit before/after, job results) can store."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
