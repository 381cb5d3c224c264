"""The hazard footprints (灾害影响范围) uploaded for an event: append-only, the latest one counts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models_common import make_append_only, utcnow
from ..types import UTCDateTime


class HazardFootprint(db.Model):
    """One uploaded footprint of an event (洪水淹没范围、台风风圈、地震烈度图): its polygons as
    GeoJSON in WGS-84 with each polygon's intensity, the hazard whose rates apply, and who
    uploaded it when. A newer upload replaces it for the estimate; none is ever changed."""

    __tablename__ = "hazard_footprint"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    hazard: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(200))
    intensity_field: Mapped[str | None] = mapped_column(String(60))
    from_gcj02: Mapped[bool] = mapped_column(Boolean, default=False)
    polygons: Mapped[int] = mapped_column(Integer)
    geojson: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_by: Mapped[str] = mapped_column(String(80))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "event_id": self.event_id, "hazard": self.hazard, "filename": self.filename,
                "intensity_field": self.intensity_field, "from_gcj02": self.from_gcj02,
                "polygons": self.polygons, "note": self.note, "uploaded_by": self.uploaded_by,
                "uploaded_at": self.uploaded_at.isoformat() if self.uploaded_at else None}


make_append_only(HazardFootprint)
