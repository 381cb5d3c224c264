"""Benchmark of hazard-footprint exposure (issue 19): 500,000 villages × a 10,000-vertex footprint.

:func:`gis.village_exposure` against the baseline a GIS analyst would write, a
``geopandas.sjoin`` over ready-made GeoDataFrames (the points' construction is not counted
against the baseline), in both orientations, the faster taken as the baseline. Both must find the same villages.
Median of three runs each.

Run ``python bench/exposure.py`` (add ``--json`` for one JSON line; ``--villages N`` to scale).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's directory comes first on sys.path and would shadow the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from shapely.geometry import Polygon  # noqa: E402

import gis  # noqa: E402

RUNS = 3


def villages(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Villages over China's extent, denser in the east as the real ones are."""
    lon = np.concatenate([rng.uniform(73, 135, n // 4), rng.normal(113, 4, n - n // 4)])
    lat = np.concatenate([rng.uniform(18, 53, n // 4), rng.normal(31, 4, n - n // 4)])
    return pd.DataFrame({
        "code": [f"{140000000000 + i:012d}" for i in range(n)],
        "lon": lon, "lat": lat,
        "population": rng.integers(200, 3000, n), "households": rng.integers(60, 900, n),
    })


def footprint(vertices: int, rng: np.random.Generator) -> Polygon:
    """A flood-like ragged outline of ``vertices`` points around (113, 31), about 600 km across."""
    angles = np.sort(rng.uniform(0, 2 * np.pi, vertices))
    radius = 3.0 * (1 + 0.25 * np.sin(7 * angles)) * rng.uniform(0.85, 1.0, vertices)
    return Polygon(np.column_stack([113 + radius * np.cos(angles), 31 + radius * np.sin(angles)]))


def _median_seconds(func, runs: int = RUNS) -> tuple[object, float]:
    times, value = [], None
    for _ in range(runs):
        start = time.perf_counter()
        value = func()
        times.append(time.perf_counter() - start)
    return value, statistics.median(times)


def run(n_villages: int, n_vertices: int) -> dict:
    rng = np.random.default_rng(19)
    frame = villages(n_villages, rng)
    outline = footprint(n_vertices, rng)
    area = gis.footprint_from_frame(gpd.GeoDataFrame({"depth": [1.0]}, geometry=[outline], crs="EPSG:4326"),
                                    intensity_field="depth")
    points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326")
    zone = area.to_frame()

    ours, ours_s = _median_seconds(lambda: gis.village_exposure(frame, area, hazard="flood"))
    # Both orientations of the join: the tree over the footprint (the usual call) and the tree
    # over the villages (one prepared polygon against a tree of points); the faster is the baseline.
    # The first is two orders of magnitude slower here: timed once.
    joined, sjoin_s = _median_seconds(lambda: gpd.sjoin(points, zone, predicate="intersects", how="inner"), 1)
    reverse, reverse_s = _median_seconds(lambda: gpd.sjoin(zone, points, predicate="intersects", how="inner"))
    identical = (sorted(ours["code"]) == sorted(joined["code"].unique())
                 == sorted(reverse["code"].unique()))
    baseline_s = min(sjoin_s, reverse_s)
    return {
        "villages": n_villages,
        "footprint_vertices": len(outline.exterior.coords) - 1,
        "exposed_villages": int(len(ours)),
        "exposure_seconds": round(ours_s, 3),
        "sjoin_seconds": round(baseline_s, 3),
        "sjoin_villages_left_seconds": round(sjoin_s, 3),
        "sjoin_footprint_left_seconds": round(reverse_s, 3),
        "ratio_to_sjoin": round(ours_s / baseline_s, 2),
        "identical": identical,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--villages", type=int, default=500_000)
    parser.add_argument("--vertices", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args.villages, args.vertices)
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:20} {value}")


if __name__ == "__main__":
    main()
