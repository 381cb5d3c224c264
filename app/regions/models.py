"""The region table (行政区划): code, name, level, parent, population, households, a point and,
for larger regions, a boundary."""
from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..types import Geometry


class Region(db.Model):
    """An administrative region (行政区划): province → prefecture → county → township → village.

    ``lon``/``lat`` is the village location or a representative point of a larger region (WGS 84);
    ``boundary`` is the polygon where known (county level and above). ``synthetic`` marks the
    demo's generated townships and villages (示例数据).
    """

    __tablename__ = "region"
    __table_args__ = (
        Index("ix_region_boundary", "boundary", postgresql_using="gist").ddl_if(dialect="postgresql"),
        Index("ix_region_location", text("ST_SetSRID(ST_MakePoint(lon, lat), 4326)"),
              postgresql_using="gist").ddl_if(dialect="postgresql"),
    )

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(12), index=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    population: Mapped[int] = mapped_column(Integer, default=0)
    agricultural_population: Mapped[int] = mapped_column(Integer, default=0)
    households: Mapped[int] = mapped_column(Integer, default=0)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    boundary = mapped_column(Geometry("MULTIPOLYGON"), nullable=True, deferred=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(String(200))

    def to_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "level": self.level,
                "parent_code": self.parent_code, "population": self.population,
                "agricultural_population": self.agricultural_population,
                "households": self.households, "lon": self.lon, "lat": self.lat,
                "synthetic": self.synthetic}
