"""Jiuzai GIS (救灾地理信息): pure functions over GeoPandas, no application or database.

- Frames: :func:`villages_frame`, :func:`depots_frame`, :func:`regions_frame`.
- Distances: :func:`great_circle_km`, :func:`nearest_depots`, :func:`coverage_gaps`.
- Maps: :func:`severity_class`, :func:`severity_classes`, :data:`SEVERITY_LABELS`,
  :data:`SEVERITY_COLOURS`, :func:`choropleth_values`, :func:`simplify_for_zoom`.
- Exposure (暴露度): :func:`read_footprint`, :func:`footprint_from_frame`, :func:`village_exposure`,
  :func:`rollup_exposure`, :data:`DEFAULT_EXPOSURE_RATES`.
- Files: :func:`read_region_file`, :func:`iter_region_file`, :func:`gcj02_to_wgs84`.
- Demo geography: :func:`load_geocn_boundaries`, :func:`synthesise_subdivisions`,
  :func:`synthesise_national`.
- :mod:`gis.codes`: administrative division codes (行政区划代码).
"""
from . import codes
from ._datum import gcj02_to_wgs84, wgs84_to_gcj02
from ._exposure import (
    DEFAULT_EXPOSURE_RATES,
    EXPOSURE_COLUMNS,
    Footprint,
    FootprintError,
    exposure_rate_classes,
    footprint_from_frame,
    read_footprint,
    rollup_exposure,
    village_exposure,
)
from ._distance import EARTH_RADIUS_KM, coverage_gaps, great_circle_km, nearest_depots
from ._frames import depots_frame, regions_frame, villages_frame
from ._geocn import GeocnBoundaries, load_geocn_boundaries
from ._maps import choropleth_values, simplify_for_zoom, zoom_tolerance
from ._reader import (
    ReadChunk,
    ReadResult,
    RegionFileError,
    RowError,
    iter_region_file,
    read_region_file,
)
from ._severity import (
    DEFAULT_SEVERITY_RULE,
    SEVERITY_COLOURS,
    SEVERITY_LABELS,
    severity_class,
    severity_classes,
    severity_legend,
)
from ._synthetic import (
    NationalDataset,
    Subdivisions,
    synthesise_national,
    synthesise_subdivisions,
)

__all__ = [
    "codes",
    # frames
    "villages_frame",
    "depots_frame",
    "regions_frame",
    # distances
    "EARTH_RADIUS_KM",
    "great_circle_km",
    "nearest_depots",
    "coverage_gaps",
    # exposure
    "Footprint",
    "FootprintError",
    "read_footprint",
    "footprint_from_frame",
    "village_exposure",
    "rollup_exposure",
    "exposure_rate_classes",
    "DEFAULT_EXPOSURE_RATES",
    "EXPOSURE_COLUMNS",
    # maps
    "SEVERITY_LABELS",
    "SEVERITY_COLOURS",
    "DEFAULT_SEVERITY_RULE",
    "severity_class",
    "severity_classes",
    "severity_legend",
    "choropleth_values",
    "simplify_for_zoom",
    "zoom_tolerance",
    # files and datums
    "read_region_file",
    "iter_region_file",
    "ReadResult",
    "ReadChunk",
    "RowError",
    "RegionFileError",
    "gcj02_to_wgs84",
    "wgs84_to_gcj02",
    # demo geography
    "load_geocn_boundaries",
    "GeocnBoundaries",
    "synthesise_subdivisions",
    "Subdivisions",
    "synthesise_national",
    "NationalDataset",
]
