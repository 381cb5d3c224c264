"""Benchmark (b): roll-up and evaluation of every plan for a national typhoon event.

A typhoon (台风) hits seven provinces (浙江, 福建, 江西, 湖南, 广东, 广西, 海南); 100,000 of their
villages in the national dataset (:mod:`bench.national`) report deterministic, consistent loss
figures. Measured:

- the app's path: :func:`app.reports.rollup.roll_up` on ``{code: Latest}`` with the parents of
  the dataset, then every builtin plan (:func:`response_levels.builtin_plans`) evaluated with
  :func:`response_levels.evaluate` on each unit it covers (the units ``app.responses`` picks: the
  affected regions of the plan's unit level inside its jurisdiction; the national plans, each
  affected province, with its affected neighbours for 联动启动), and the same with
  :func:`response_levels.evaluate_table`;
- the baseline: a pandas groupby roll-up (villages → townships → counties → prefectures →
  provinces, parent by parent) and ``np.select`` over the national 2016 thresholds
  (``bench/levels.py``'s ``baseline_2016``).

Both must agree on every province total and on the national-2016 levels. ``roll_up`` runs in a
forked child under a time budget (``--budget``), so a slow roll-up is reported as such instead
of stalling the suite; at 10,000 and 30,000 villages it is timed too, to show how it grows (the
first version inserted each parent into a sorted list, which made it quadratic: 385 s for
100,000 villages; it now finishes the tree level by level).

Run ``python bench/rollup_national.py`` (``--json`` for one JSON line of figures).
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Mapping

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import response_levels as rl  # noqa: E402
from app.reports.indicators import FIELDS  # noqa: E402
from app.reports.rollup import Latest, Total, roll_up  # noqa: E402
from app.responses.adjacency import adjacent  # noqa: E402
from gis import codes  # noqa: E402


from bench import levels, national  # noqa: E402  (a namespace package: ROOT is on sys.path)

SEED = 20240906  # 超强台风“摩羯” made landfall on 6 September 2024
TYPHOON_PROVINCES = ("330000", "350000", "360000", "430000", "440000", "450000", "460000")
N_REPORTING = 100_000
SCALING = (10_000, 30_000)
BUDGET_SECONDS = 90.0
#: Issue 3's roll-up target (30,000 village reports in < 0.5 s), scaled linearly to 100,000.
TARGET_SECONDS = 0.5 * N_REPORTING / 30_000
STARTED = datetime(2024, 9, 6, 8, 0, tzinfo=timezone.utc)
DECIMAL_FIELDS = ("crop_affected_ha", "crop_disaster_ha", "crop_failed_ha", "direct_loss_10k_cny")


# -- the event ---------------------------------------------------------------------------------

def typhoon_reports(dataset, n: int = N_REPORTING, seed: int = SEED) -> pd.DataFrame:
    """``n`` villages of :data:`TYPHOON_PROVINCES` with figures that pass the consistency rules.

    Returns a DataFrame: ``code``, ``as_of`` and one column per indicator (counts as int64,
    hectares and 万元 as floats with two decimals).
    """
    rng = np.random.default_rng(seed)
    prefixes = [p[:2] for p in TYPHOON_PROVINCES]
    pool = dataset.villages[dataset.villages["code"].str[:2].isin(prefixes)]
    if len(pool) < n:
        raise ValueError(f"only {len(pool)} villages in the typhoon provinces, {n} asked")
    chosen = pool.iloc[np.sort(rng.choice(len(pool), size=n, replace=False))]
    population = chosen["population"].to_numpy(np.int64)
    # Landfall provinces are hit harder: one intensity per province, a little noise per village.
    intensity_of = dict(zip(prefixes, rng.lognormal(0.0, 0.6, len(prefixes))))
    intensity = chosen["code"].str[:2].map(intensity_of).to_numpy(float) * rng.lognormal(0.0, 0.3, n)

    def binomial(count, p):
        return rng.binomial(count, np.clip(p, 0.0, 1.0)).astype(np.int64)

    def poisson(lam):
        return rng.poisson(np.maximum(lam, 0.0)).astype(np.int64)

    affected = binomial(population, rng.beta(2.0, 5.0, n) * np.minimum(intensity, 3.0) / 3.0 + 0.02)
    f: dict[str, np.ndarray] = {"affected_population": affected}
    f["deaths"] = np.minimum(poisson(affected * 1e-5 * intensity), affected)
    f["missing"] = np.minimum(poisson(affected * 5e-6 * intensity), affected)
    f["injured"] = np.minimum(poisson(affected * 2e-4 * intensity), affected)
    f["evacuated_population"] = binomial(affected, 0.15 * intensity)
    f["relocated_population"] = binomial(affected, 0.04 * intensity)
    f["needing_aid_population"] = binomial(affected, 0.05 * intensity)
    f["needing_transitional_aid"] = binomial(f["needing_aid_population"], 0.1)
    f["drought_needing_aid_population"] = np.zeros(n, np.int64)
    f["water_shortage_population"] = binomial(affected, 0.02)
    f["water_shortage_livestock"] = poisson(np.full(n, 3.0))
    for house, rate in (("collapsed", 8e-4), ("severely_damaged", 2e-3), ("generally_damaged", 1e-2)):
        rooms = poisson(affected * rate * intensity)
        f[f"{house}_rooms"] = rooms
        f[f"{house}_households"] = binomial(rooms, 0.4)
    crop = np.round(population * 0.02 * rng.uniform(0.0, 1.0, n) * np.minimum(intensity, 2.0), 2)
    f["crop_affected_ha"] = crop
    f["crop_disaster_ha"] = np.round(crop * rng.uniform(0.3, 0.7, n), 2)
    f["crop_failed_ha"] = np.round(f["crop_disaster_ha"] * rng.uniform(0.0, 0.4, n), 2)
    f["direct_loss_10k_cny"] = np.round(affected * 0.05 * rng.uniform(0.2, 1.5, n), 2)
    minutes = rng.integers(0, 12 * 60, n)
    frame = pd.DataFrame({"code": chosen["code"].to_numpy(dtype=object),
                          "as_of": [STARTED + timedelta(minutes=int(m)) for m in minutes]})
    for name in FIELDS:
        frame[name] = f[name]
    return frame


def latest_mapping(reports: pd.DataFrame) -> dict[str, Latest]:
    """The app's input: each region's latest report as :class:`Latest` with plain figures."""
    columns = {name: reports[name].tolist() for name in FIELDS}
    as_of = reports["as_of"].tolist()
    out = {}
    for i, code in enumerate(reports["code"].tolist()):
        out[code] = Latest({name: columns[name][i] for name in FIELDS}, as_of[i])
    return out


def region_frame(dataset) -> pd.DataFrame:
    frames = [dataset.provinces, dataset.prefectures, dataset.counties, dataset.townships, dataset.villages]
    columns = ["code", "level", "parent_code", "agricultural_population"]
    out = pd.concat([f[columns] for f in frames], ignore_index=True)
    out["parent_code"] = out["parent_code"].astype(object).where(out["parent_code"].notna(), None)
    return out.set_index("code")


# -- evaluation of every plan ------------------------------------------------------------------

def plan_units(plan: rl.Plan, affected_by_level: Mapping[str, set[str]], event_regions, level_of) -> list[str]:
    """The units ``app.responses.service`` evaluates a plan on, for totals of these regions."""
    found = {c for c in affected_by_level.get(plan.unit_level, ())
             if codes.is_within(c, plan.jurisdiction_code)}
    own = plan.jurisdiction_code
    if (own != codes.NATIONAL and own not in found and level_of(own) == plan.unit_level
            and any(codes.is_within(own, r) for r in event_regions)):
        found.add(own)
    return sorted(found)


def evaluate_all(plans, totals: Mapping[str, Total], level_of: Mapping[str, str],
                 agri_of: Mapping[str, int], event_regions) -> dict:
    """Every plan on each of its units, one :func:`response_levels.evaluate` at a time, as the
    app does. Returns ``{plan_id: {unit: rank}}``."""
    affected: dict[str, set[str]] = defaultdict(set)
    for code in totals:
        affected[level_of[code]].add(code)
    provinces = sorted(affected.get("province", ()))
    out = {}
    for pid, plan in plans.items():
        ranks = {}
        for unit in plan_units(plan, affected, event_regions, level_of.get):
            figures = dict(totals[unit].figures) if unit in totals else {f: 0 for f in FIELDS}
            neighbours = ([dict(totals[p].figures) for p in provinces if p != unit and adjacent(unit, p)]
                          if plan.unit_level == "province" else [])
            agri = int(agri_of[unit]) or None
            result = rl.evaluate(plan, figures, rl.Context(region_code=unit, agricultural_population=agri,
                                                           adjacent=neighbours))
            ranks[unit] = result.rank or 0
        out[pid] = ranks
    return out


def evaluate_all_table(plans, totals: Mapping[str, Total], level_of: Mapping[str, str],
                       agri_of: Mapping[str, int], event_regions) -> dict:
    """The same with :func:`response_levels.evaluate_table`, one call per plan."""
    affected: dict[str, set[str]] = defaultdict(set)
    for code in totals:
        affected[level_of[code]].add(code)
    out = {}
    for pid, plan in plans.items():
        units = plan_units(plan, affected, event_regions, level_of.get)
        if not units:
            out[pid] = {}
            continue
        table = {f: np.array([totals[u].figures[f] if u in totals else 0 for u in units], dtype=float)
                 for f in FIELDS}
        agri = np.array([agri_of[u] for u in units], dtype=float)
        index = {u: i for i, u in enumerate(units)}
        neighbours = ([[index[p] for p in units if p != u and adjacent(u, p)] for u in units]
                      if plan.unit_level == "province" else None)
        ranks = rl.evaluate_table(plan, table, agri, region_codes=units, neighbours=neighbours)
        out[pid] = {u: int(r) for u, r in zip(units, ranks)}
    return out


# -- baseline ----------------------------------------------------------------------------------

def baseline_rollup(reports: pd.DataFrame, parents: pd.Series) -> pd.DataFrame:
    """pandas: sum the villages into their townships, then each level into its parents, until
    only provinces are left; a region reached from two levels (a province with counties directly
    under it) gets both sums."""
    current = reports.set_index("code")[list(FIELDS)]
    current = current.groupby(parents.reindex(current.index).to_numpy()).sum()
    steps = [current]
    while len(current):
        up = parents.reindex(current.index)
        inner = up.notna().to_numpy()
        current = current[inner].groupby(up[inner].to_numpy()).sum()
        steps.append(current)
    return pd.concat(steps).groupby(level=0).sum()


def baseline_levels(province_totals: pd.DataFrame, agri: np.ndarray) -> np.ndarray:
    table = {f: province_totals[f].to_numpy(float) for f in FIELDS}
    return levels.baseline_2016(table, agri)


# -- running -----------------------------------------------------------------------------------

def _child(pipe, latest, parents) -> None:
    start = time.perf_counter()
    totals = roll_up(latest, parents.get)
    seconds = time.perf_counter() - start
    pipe.send({"seconds": seconds, "totals": totals})
    pipe.close()


def timed_app_rollup(latest, parents: dict, budget: float) -> dict:
    """``roll_up`` in a forked child; ``{"seconds", "totals"}`` or ``{"timed_out": True}``."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(sender, latest, parents), daemon=True)
    child.start()
    sender.close()
    try:
        if receiver.poll(budget):
            return receiver.recv()
        return {"timed_out": True}
    finally:
        if child.is_alive():
            child.terminate()
        child.join(5)


def _provinces_agree(totals: Mapping[str, Total], baseline: pd.DataFrame, provinces) -> bool:
    for p in provinces:
        if p not in totals or p not in baseline.index:
            return False
        row = baseline.loc[p]
        if any(not math.isclose(float(totals[p].figures[f]), float(row[f]), rel_tol=1e-9, abs_tol=1e-6)
               for f in FIELDS):
            return False
    return True


def run(n_reporting: int = N_REPORTING, seed: int = SEED, budget: float = BUDGET_SECONDS,
        scaling: tuple[int, ...] = SCALING, dataset=None) -> dict:
    if dataset is None:
        dataset, _ = national.build_dataset(national.SEED)
    reports = typhoon_reports(dataset, n_reporting, seed)
    regions = region_frame(dataset)
    parents = regions["parent_code"].to_dict()
    parent_series = regions["parent_code"]
    level_of = regions["level"].to_dict()
    agri_of = regions["agricultural_population"].to_dict()
    latest = latest_mapping(reports)
    plans = rl.builtin_plans()
    figures: dict = {"bench": "rollup_national", "seed": seed, "reporting_villages": len(latest),
                     "event_provinces": list(TYPHOON_PROVINCES), "plans": len(plans),
                     "budget_seconds": budget, "target_seconds": round(TARGET_SECONDS, 3)}

    # The baseline first: pandas groupby and np.select.
    start = time.perf_counter()
    baseline = baseline_rollup(reports, parent_series)
    figures["baseline_groupby_seconds"] = round(time.perf_counter() - start, 3)
    affected_provinces = sorted(c for c in baseline.index if regions.at[c, "level"] == "province")
    agri = regions.loc[affected_provinces, "agricultural_population"].to_numpy(float)
    start = time.perf_counter()
    baseline_ranks = baseline_levels(baseline.loc[affected_provinces], agri)
    figures["baseline_select_seconds"] = round(time.perf_counter() - start, 4)
    figures["baseline_seconds"] = round(figures["baseline_groupby_seconds"] + figures["baseline_select_seconds"], 3)

    # The app's roll_up, growing, then at full size under the budget.
    figures["app_rollup_scaling_seconds"] = {}
    for size in scaling:
        if size >= len(latest):
            continue
        part = dict(list(latest.items())[:size])
        outcome = timed_app_rollup(part, parents, budget)
        figures["app_rollup_scaling_seconds"][str(size)] = (None if outcome.get("timed_out")
                                                            else round(outcome["seconds"], 3))
    outcome = timed_app_rollup(latest, parents, budget)
    app_totals = None if outcome.get("timed_out") else outcome["totals"]
    figures["app_rollup_timed_out"] = app_totals is None
    figures["app_rollup_seconds"] = None if app_totals is None else round(outcome["seconds"], 3)

    figures["regions_totalled"] = None if app_totals is None else len(app_totals)

    # Every plan on the app's totals.
    if app_totals is None:
        figures.update(evaluate_seconds=None, evaluate_table_seconds=None, evaluations=None, ranks={},
                       agree_levels=None, agree_province_totals=None, evaluate_table_agrees=None,
                       agree=False, app_seconds=None, within_target=False)
    else:
        event_regions = list(TYPHOON_PROVINCES)
        start = time.perf_counter()
        ranks = evaluate_all(plans, app_totals, level_of, agri_of, event_regions)
        figures["evaluate_seconds"] = round(time.perf_counter() - start, 4)
        start = time.perf_counter()
        table_ranks = evaluate_all_table(plans, app_totals, level_of, agri_of, event_regions)
        figures["evaluate_table_seconds"] = round(time.perf_counter() - start, 4)
        figures["evaluations"] = sum(len(v) for v in ranks.values())
        figures["units_per_plan"] = {pid: len(v) for pid, v in ranks.items()}
        figures["evaluate_table_agrees"] = ranks == table_ranks
        figures["ranks"] = {pid: dict(v) for pid, v in ranks.items() if v}
        national_2016 = [ranks["national-2016"].get(p) for p in affected_provinces]
        figures["agree_levels"] = national_2016 == [int(r) for r in baseline_ranks]
        figures["agree_province_totals"] = _provinces_agree(app_totals, baseline, affected_provinces)
        figures["agree"] = bool(figures["agree_levels"] and figures["agree_province_totals"]
                                and figures["evaluate_table_agrees"])
        figures["app_seconds"] = round(figures["app_rollup_seconds"] + figures["evaluate_seconds"], 3)
        figures["within_target"] = figures["app_seconds"] < TARGET_SECONDS
    figures["province_totals"] = {p: {f: (round(float(baseline.at[p, f]), 2) if f in DECIMAL_FIELDS
                                          else int(baseline.at[p, f]))
                                      for f in ("affected_population", "deaths", "missing", "relocated_population",
                                                "needing_aid_population", "collapsed_rooms", "direct_loss_10k_cny")}
                                  for p in affected_provinces}
    return figures


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON line of figures")
    parser.add_argument("--villages", type=int, default=N_REPORTING, help="reporting villages")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--budget", type=float, default=BUDGET_SECONDS,
                        help="seconds allowed for the app's roll_up at each size before it is stopped")
    args = parser.parse_args(argv)
    figures = run(args.villages, args.seed, args.budget)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, sort_keys=True, default=str))
        return figures
    f = figures
    print(f"national typhoon event: {f['reporting_villages']:,} reporting villages in "
          f"{len(f['event_provinces'])} provinces, {f['regions_totalled'] or '?'} regions totalled, "
          f"{f['plans']} plans")
    app = ("TIMED OUT after %.0f s" % f["budget_seconds"]) if f["app_rollup_timed_out"] \
        else f"{f['app_rollup_seconds']:.3f} s"
    print(f"  app roll_up: {app}  (growth: " + ", ".join(
        f"{int(k):,} → {'timed out' if v is None else f'{v:.3f} s'}"
        for k, v in f["app_rollup_scaling_seconds"].items()) + ")")
    if f["evaluate_seconds"] is not None:
        print(f"  evaluate, every plan: {f['evaluate_seconds'] * 1000:.1f} ms ({f['evaluations']} evaluations); "
              f"evaluate_table: {f['evaluate_table_seconds'] * 1000:.1f} ms (agrees: {f['evaluate_table_agrees']})")
    total = "—" if f["app_seconds"] is None else "%.3f s" % f["app_seconds"]
    print(f"  app total: {total} (target < {f['target_seconds']:.2f} s: {'yes' if f['within_target'] else 'NO'})")
    print(f"  baseline pandas groupby + np.select: {f['baseline_seconds']:.3f} s "
          f"(groupby {f['baseline_groupby_seconds']:.3f} s, select {f['baseline_select_seconds'] * 1000:.2f} ms)")
    print(f"  province totals agree with the baseline: {f['agree_province_totals']}; "
          f"national-2016 levels agree with np.select: {f['agree_levels']}")
    for pid, ranks in f["ranks"].items():
        print(f"    {pid:28s} " + " ".join(f"{u}:{r or '-'}" for u, r in ranks.items()))
    return figures


if __name__ == "__main__":
    main()
