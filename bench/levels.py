"""Benchmark of response-level evaluation (应急响应等级判定).

Evaluates every builtin plan over 31 provinces and 2,850 counties of deterministic synthetic
figures with :func:`response_levels.evaluate_table`, and times a plain NumPy baseline
(``np.select`` over hard-coded 2016 thresholds) in the same run.

Run ``python bench/levels.py`` (add ``--json`` for one JSON line of figures) or call
:func:`main` from another script.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

try:
    import response_levels as rl
except ImportError:  # run as ``python bench/levels.py`` from anywhere
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import response_levels as rl

SEED = 20240120
N_PROVINCES = 31
N_COUNTIES = 2850
TARGET_MS = 100.0
PROVINCE_PREFIXES = (
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
)

# Baseline only: the national 2016 bands (domain.md §2) written into the code, Ⅰ first.
_BASELINE_2016 = (
    # deaths, relocated or needing aid, rooms, households, drought %, drought persons
    (200, 2_000_000, 300_000, 100_000, 30, 4_000_000),
    (100, 1_000_000, 200_000, 70_000, 25, 3_000_000),
    (50, 500_000, 100_000, 30_000, 20, 2_000_000),
    (20, 100_000, 10_000, 3_000, 15, 1_000_000),
)


def synthetic_units(seed: int = SEED) -> dict:
    """Figures of 31 provinces followed by 2,850 counties, drawn with a seeded numpy RNG.

    Returns
    -------
    dict
        ``table`` (indicator → array), ``agricultural_population``, ``region_codes``,
        ``neighbours`` (adjacent provinces in a ring; counties have none), ``n_provinces``.
    """
    rng = np.random.default_rng(seed)
    n = N_PROVINCES + N_COUNTIES

    def draw(province: tuple[float, float], county: tuple[float, float]) -> np.ndarray:
        return np.floor(np.concatenate([rng.lognormal(*province, N_PROVINCES),
                                        rng.lognormal(*county, N_COUNTIES)]))

    # (log-mean, log-sigma) for provinces, then for counties
    table = {
        "deaths": draw((2.5, 1.5), (-1.0, 1.2)),
        "missing": draw((1.5, 1.5), (-2.0, 1.2)),
        "relocated_population": draw((11.0, 1.5), (4.5, 1.5)),
        "needing_aid_population": draw((11.0, 1.5), (4.5, 1.5)),
        "collapsed_rooms": draw((8.0, 2.0), (2.0, 1.5)),
        "severely_damaged_rooms": draw((8.5, 2.0), (2.5, 1.5)),
        "collapsed_households": draw((7.0, 2.0), (1.0, 1.5)),
        "severely_damaged_households": draw((7.5, 2.0), (1.5, 1.5)),
        "drought_needing_aid_population": draw((12.0, 2.0), (6.5, 1.8)),
    }
    agri = np.floor(np.concatenate([rng.uniform(3e6, 6e7, N_PROVINCES),
                                    rng.uniform(5e4, 9e5, N_COUNTIES)]))
    codes = [f"{p}0000" for p in PROVINCE_PREFIXES]
    codes += [f"{PROVINCE_PREFIXES[i % N_PROVINCES]}{1 + i // 310:02d}{1 + i % 97:02d}"
              for i in range(N_COUNTIES)]
    neighbours = [[(i - 1) % N_PROVINCES, (i + 1) % N_PROVINCES] for i in range(N_PROVINCES)]
    neighbours += [[] for _ in range(N_COUNTIES)]
    return {"table": table, "agricultural_population": agri, "region_codes": codes,
            "neighbours": neighbours, "n_provinces": N_PROVINCES}


def baseline_2016(table: dict, agri: np.ndarray) -> np.ndarray:
    """Plain NumPy: ``np.select`` over the hard-coded national 2016 thresholds."""
    deaths = table["deaths"]
    relocated = table["relocated_population"]
    aid = table["needing_aid_population"]
    rooms = table["collapsed_rooms"] + table["severely_damaged_rooms"]
    households = table["collapsed_households"] + table["severely_damaged_households"]
    drought = table["drought_needing_aid_population"]
    conditions = [
        (deaths >= d) | (relocated >= r) | (aid >= r) | (rooms >= ro) | (households >= h)
        | (drought >= da) | (drought * 100.0 >= pct * agri)
        for d, r, ro, h, pct, da in _BASELINE_2016
    ]
    return np.select(conditions, [1, 2, 3, 4], 0)


def _best_ms(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000.0


def run(repeat: int = 7, seed: int = SEED) -> dict:
    """Time the evaluation paths and compare their results; returns the figures."""
    units = synthetic_units(seed)
    table, agri = units["table"], units["agricultural_population"]
    codes, neighbours = units["region_codes"], units["neighbours"]
    plans = rl.builtin_plans()
    n = len(codes)

    def all_plans() -> dict[str, np.ndarray]:
        return {pid: rl.evaluate_table(plan, table, agri, region_codes=codes,
                                       neighbours=neighbours)
                for pid, plan in plans.items()}

    national = plans["national-2016"]
    all_ms = _best_ms(all_plans, repeat)
    national_ms = _best_ms(lambda: rl.evaluate_table(national, table, agri), repeat)
    baseline_ms = _best_ms(lambda: baseline_2016(table, agri), repeat)
    ranks = all_plans()
    baseline = baseline_2016(table, agri)

    rows = [{key: int(col[i]) for key, col in table.items()} for i in range(n)]
    start = time.perf_counter()
    scalar = np.array([rl.evaluate(national, row, rl.Context(codes[i], int(agri[i]))).rank or 0
                       for i, row in enumerate(rows)])
    scalar_ms = (time.perf_counter() - start) * 1000.0

    agree_baseline = bool(np.array_equal(ranks["national-2016"], baseline))
    agree_scalar = bool(np.array_equal(ranks["national-2016"], scalar))
    return {
        "bench": "levels",
        "units": n,
        "provinces": units["n_provinces"],
        "counties": n - units["n_provinces"],
        "plans": len(plans),
        "seed": seed,
        "repeat": repeat,
        "all_plans_ms": round(all_ms, 3),
        "national_2016_ms": round(national_ms, 3),
        "baseline_np_select_ms": round(baseline_ms, 3),
        "scalar_evaluate_ms": round(scalar_ms, 3),
        "target_ms": TARGET_MS,
        "within_target": all_ms < TARGET_MS,
        "agree_baseline": agree_baseline,
        "agree_scalar": agree_scalar,
        "agree": agree_baseline and agree_scalar,
        "rank_counts": {pid: {str(r): int(c) for r, c in zip(*np.unique(v, return_counts=True))}
                        for pid, v in ranks.items()},
    }


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry: print the figures (``--json``: one JSON line) and return them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON line of figures")
    parser.add_argument("--repeat", type=int, default=7, help="timing repeats (best is kept)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    figures = run(repeat=max(1, args.repeat), seed=args.seed)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, sort_keys=True))
        return figures
    print(f"response levels: {figures['plans']} builtin plans × {figures['units']} units "
          f"({figures['provinces']} provinces + {figures['counties']} counties), "
          f"best of {figures['repeat']}")
    print(f"  evaluate_table, all plans   {figures['all_plans_ms']:9.3f} ms "
          f"(target < {TARGET_MS:g} ms: {'yes' if figures['within_target'] else 'NO'})")
    print(f"  evaluate_table, national-2016 {figures['national_2016_ms']:7.3f} ms")
    print(f"  baseline np.select (2016)   {figures['baseline_np_select_ms']:9.3f} ms")
    print(f"  scalar evaluate loop (2016) {figures['scalar_evaluate_ms']:9.3f} ms (one pass)")
    print(f"  national-2016 agrees with baseline: {figures['agree_baseline']}, "
          f"with scalar evaluate: {figures['agree_scalar']}")
    for pid, counts in figures["rank_counts"].items():
        print(f"  {pid:28s} ranks {counts}")
    return figures


if __name__ == "__main__":
    main()
