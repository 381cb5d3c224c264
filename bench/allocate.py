"""Benchmark of the allocator: 200 depots × 2,000 demand points × 8 items.

A synthetic province shaped like Shanxi (11 prefectures, 110 counties, 2,000 townships) with a
deterministic RNG. Depots: 1 central, 1 provincial, 11 prefecture, 110 county and 77 township
depots. Supply is about 90 % of demand, so some demand stays unmet. Times ``allocate`` (target
< 10 s) and ``greedy_allocate`` on the same input.

Usage::

    python bench/allocate.py [--json] [--seed N] [--tier-preference lexicographic|penalty|none]
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from stockpile import (  # noqa: E402
    TIER_PREFERENCES,
    AllocationRules,
    DemandLine,
    DistanceMatrix,
    Supply,
    allocate,
    greedy_allocate,
)

DEPOTS, POINTS = 200, 2_000
ITEMS = ("tent", "quilt", "cotton_coat", "folding_bed", "blanket", "water", "instant_food", "life_jacket")
#: Mean demand per point and item (water in litres, food in kg).
MEAN_DEMAND = (40, 120, 60, 30, 80, 1_500, 250, 20)
ROAD_FACTOR = 1.3
SUPPLY_RATIO = 0.9
TARGET_SECONDS = 10.0


def build(seed: int = 20240601):
    """Demand lines, supply rows and a DistanceMatrix; the same seed gives the same instance."""
    rng = np.random.default_rng(seed)
    prefectures = [f"14{p:02d}00" for p in range(1, 12)]
    prefecture_xy = np.column_stack([rng.uniform(40, 260, 11), np.linspace(40, 560, 11)])
    counties, county_xy = [], []
    for p, code in enumerate(prefectures):
        for d in range(1, 11):
            counties.append(code[:4] + f"{d:02d}")
            county_xy.append(prefecture_xy[p] + rng.normal(0, 25, 2))
    county_xy = np.array(county_xy)
    point_county = rng.integers(0, len(counties), POINTS)
    points, point_xy, used = [], [], {}
    for c in point_county:
        used[c] = used.get(c, 0) + 1
        points.append(counties[c] + f"{100 + used[c]:03d}")
        point_xy.append(county_xy[c] + rng.normal(0, 8, 2))
    point_xy = np.array(point_xy)

    depot_rows: list[tuple[str, str, str, np.ndarray]] = [
        ("D-CENTRAL", "central", "000000", np.array([150.0, 300.0])),
        ("D-14", "provincial", "140000", prefecture_xy[0]),
    ]
    depot_rows += [(f"D-{code}", "prefecture", code, prefecture_xy[p]) for p, code in enumerate(prefectures)]
    depot_rows += [(f"D-{code}", "county", code, county_xy[c]) for c, code in enumerate(counties)]
    for j in rng.choice(POINTS, DEPOTS - len(depot_rows), replace=False):
        depot_rows.append((f"D-{points[j]}", "township", points[j], point_xy[j]))
    depot_xy = np.array([row[3] for row in depot_rows])
    km = np.sqrt(((depot_xy[:, None, :] - point_xy[None, :, :]) ** 2).sum(axis=2)) * ROAD_FACTOR
    distances = DistanceMatrix([row[0] for row in depot_rows], points, np.round(km, 1))

    tier_weight = {"central": 40.0, "provincial": 30.0, "prefecture": 6.0, "county": 1.0, "township": 0.25}
    weights = np.array([tier_weight[row[1]] for row in depot_rows])
    demand, supply = [], []
    for item, mean in zip(ITEMS, MEAN_DEMAND):
        quantities = rng.poisson(mean, POINTS) * rng.integers(0, 2, POINTS)
        demand += [DemandLine(code, item, int(q)) for code, q in zip(points, quantities) if q > 0]
        share = weights * rng.uniform(0.3, 1.7, DEPOTS)
        stock = np.floor(share / share.sum() * quantities.sum() * SUPPLY_RATIO).astype(int)
        supply += [Supply(code, item, int(s), tier, region, reserve_floor=int(s) // 20)
                   for (code, tier, region, _), s in zip(depot_rows, stock)]
    return demand, supply, distances


def run(seed: int = 20240601, tier_preference: str = "lexicographic") -> dict:
    demand, supply, distances = build(seed)
    rules = AllocationRules(max_distance_km=450.0, reserve_share=0.1, tier_preference=tier_preference)
    figures = {"depots": DEPOTS, "points": POINTS, "items": len(ITEMS), "tier_preference": tier_preference,
               "demand": sum(line.quantity for line in demand), "supply": sum(row.available for row in supply)}
    for name, function in (("lp", allocate), ("greedy", greedy_allocate)):
        start = time.perf_counter()
        plan = function(demand, supply, distances, rules)
        figures[f"{name}_seconds"] = round(time.perf_counter() - start, 3)
        figures[f"{name}_total_distance_quantity"] = round(plan.total_distance_quantity, 1)
        figures[f"{name}_unmet"] = sum(line.quantity for line in plan.unmet)
        figures[f"{name}_lines"] = len(plan.lines)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON line of figures")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--tier-preference", choices=TIER_PREFERENCES, default="lexicographic")
    args = parser.parse_args(argv)
    figures = run(args.seed, args.tier_preference)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
    else:
        print(f"{figures['depots']} depots × {figures['points']} points × {figures['items']} items, "
              f"tier preference {figures['tier_preference']}; demand {figures['demand']:,}, "
              f"supply {figures['supply']:,}")
        for name in ("lp", "greedy"):
            print(f"{name:>7}: {figures[f'{name}_seconds']:7.3f} s  "
                  f"distance·quantity {figures[f'{name}_total_distance_quantity']:,.1f}  "
                  f"unmet {figures[f'{name}_unmet']:,}  lines {figures[f'{name}_lines']:,}")
        verdict = "within" if figures["lp_seconds"] < TARGET_SECONDS else "OVER"
        print(f"allocate {verdict} the {TARGET_SECONDS:.0f} s target")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
