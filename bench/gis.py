"""Benchmarks of the GIS package at national scale.

1. Reading and validating a 500,000-village CSV (generated into a temporary directory from the
   synthetic national dataset).
2. Nearest stocked depot for 500,000 villages × 2,000 depots: :func:`gis.nearest_depots`
   (geocentric k-d tree) against a baseline k-d tree on raw longitude/latitude degrees, with
   the error of both against brute-force haversine on a sample.

Run ``python bench/gis.py`` (add ``--json`` for one JSON line).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's directory comes first on sys.path and would shadow the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

import numpy as np  # noqa: E402
from scipy.spatial import cKDTree  # noqa: E402

import gis  # noqa: E402

CSV_COLUMNS = ["code", "name", "lon", "lat", "population", "agricultural_population", "households",
               "parent_code", "level"]
KM_PER_DEGREE = np.pi * gis.EARTH_RADIUS_KM / 180.0


def _timed(func, *args, **kwargs):
    start = time.perf_counter()
    value = func(*args, **kwargs)
    return value, time.perf_counter() - start


def bench_read(villages, workdir: Path) -> dict:
    path = workdir / "villages.csv"
    villages[CSV_COLUMNS].to_csv(path, index=False)
    result, seconds = _timed(gis.read_region_file, path)
    return {
        "read_rows": len(villages),
        "read_records": len(result.records),
        "read_errors": len(result.errors),
        "read_seconds": round(seconds, 3),
        "read_rows_per_s": round(len(villages) / seconds),
    }


def _baseline(v_lon, v_lat, d_lon, d_lat):
    """Plain k-d tree on degrees, distance read as degrees × 111.195 km."""
    tree = cKDTree(np.column_stack((d_lon, d_lat)))
    degrees, index = tree.query(np.column_stack((v_lon, v_lat)), k=1, workers=-1)
    return index, degrees * KM_PER_DEGREE


def bench_nearest(villages, depots, stock, item: str, sample: int, seed: int) -> dict:
    available = stock[stock["item"] == item].set_index("depot_code")["on_hand"]
    gis.nearest_depots(villages.iloc[:1000], depots, available=available)  # warm-up
    ours, ours_seconds = _timed(gis.nearest_depots, villages, depots, available=available)

    v_lon, v_lat = villages["lon"].to_numpy(float), villages["lat"].to_numpy(float)
    stocked = depots[depots["code"].map(available).fillna(0).to_numpy() > 0]
    d_lon, d_lat = stocked["lon"].to_numpy(float), stocked["lat"].to_numpy(float)
    start = time.perf_counter()
    base_index, base_km = _baseline(v_lon, v_lat, d_lon, d_lat)
    base_seconds = time.perf_counter() - start

    rows = np.random.default_rng(seed).choice(len(villages), size=min(sample, len(villages)), replace=False)
    matrix = gis.great_circle_km(v_lon[rows, None], v_lat[rows, None], d_lon[None, :], d_lat[None, :])
    true_km = matrix.min(axis=1)
    ours_km = ours["distance_km"].to_numpy()[rows]
    base_true_km = matrix[np.arange(len(rows)), base_index[rows]]  # haversine to the depot it picked
    stocked_codes = stocked["code"].to_numpy()

    def rel(a, b):
        return float(np.max(np.abs(a - b) / np.maximum(b, 1e-9)))

    return {
        "villages": len(villages),
        "depots": len(depots),
        "stocked_depots": len(stocked),
        "item": item,
        "nearest_seconds": round(ours_seconds, 3),
        "baseline_seconds": round(base_seconds, 3),
        "sample": len(rows),
        "ours_max_abs_error_km": float(np.max(np.abs(ours_km - true_km))),
        "ours_max_rel_error": rel(ours_km, true_km),
        "ours_wrong_depot_share": float(np.mean(ours["depot_code"].to_numpy()[rows]
                                                != stocked_codes[matrix.argmin(axis=1)])),
        "baseline_max_abs_error_km": float(np.max(np.abs(base_km[rows] - true_km))),
        "baseline_max_rel_error": rel(base_km[rows], true_km),
        "baseline_wrong_depot_share": float(np.mean(base_true_km > true_km * (1 + 1e-12))),
        "baseline_max_detour_km": float(np.max(base_true_km - true_km)),
    }


def run(n_villages: int, n_depots: int, seed: int, sample: int, item: str) -> dict:
    national, synth_seconds = _timed(gis.synthesise_national, seed=seed, n_villages=n_villages,
                                     n_townships=max(1, n_villages * 2 // 25), n_depots=n_depots)
    figures = {"synthesise_national_seconds": round(synth_seconds, 3)}
    with tempfile.TemporaryDirectory(prefix="jiuzai-gis-bench-") as workdir:
        figures.update(bench_read(national.villages, Path(workdir)))
    figures.update(bench_nearest(national.villages, national.depots, national.stock, item, sample, seed))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the gis package at national scale.")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    parser.add_argument("--villages", type=int, default=500_000)
    parser.add_argument("--depots", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample", type=int, default=5_000, help="villages checked by brute force")
    parser.add_argument("--item", default="tent")
    args = parser.parse_args(argv)
    figures = run(args.villages, args.depots, args.seed, args.sample, args.item)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
        return 0
    f = figures
    print(f"synthetic national dataset: {f['synthesise_national_seconds']:.2f} s")
    print(f"read+validate CSV: {f['read_rows']:,} rows in {f['read_seconds']:.2f} s "
          f"({f['read_rows_per_s']:,} rows/s), {f['read_records']:,} records, {f['read_errors']} errors")
    print(f"nearest stocked depot ({f['item']}): {f['villages']:,} villages × {f['depots']:,} depots "
          f"({f['stocked_depots']:,} stocked)")
    print(f"  gis.nearest_depots (geocentric k-d tree): {f['nearest_seconds']:.3f} s, "
          f"max error vs haversine {f['ours_max_abs_error_km']:.2e} km "
          f"({f['ours_max_rel_error']:.2e} relative), wrong depot {f['ours_wrong_depot_share']:.2%}")
    print(f"  baseline (k-d tree on degrees):           {f['baseline_seconds']:.3f} s, "
          f"max error vs haversine {f['baseline_max_abs_error_km']:.1f} km "
          f"({f['baseline_max_rel_error']:.1%} relative), wrong depot {f['baseline_wrong_depot_share']:.2%}, "
          f"max detour {f['baseline_max_detour_km']:.1f} km")
    print(f"  (errors on a sample of {f['sample']:,} villages checked by brute force)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
