"""``bench/rollup_national.py``: the pandas baseline agrees with ``app.reports.rollup.roll_up``
on village reports (levels skipped included), the plan units are the app's, and the synthetic
typhoon reports are deterministic and pass the consistency rules."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from app.reports import indicators
from app.reports.rollup import Latest, roll_up
from gis import codes
from tests.bench_scripts import load

rollup = load("rollup_national")
T0 = datetime(2024, 9, 6, 8, tzinfo=timezone.utc)

# 110000 has a county straight under the province (as Beijing does); 140105001 reports for itself.
PARENTS = {
    "110000": None, "110101": "110000", "110101001": "110101",
    "110101001201": "110101001", "110101001202": "110101001",
    "140000": None, "140100": "140000", "140105": "140100", "140106": "140100",
    "140105001": "140105", "140105001201": "140105001", "140105001202": "140105001",
    "140106001": "140106", "140106001201": "140106001", "140106001202": "140106001",
}


def _latest(deaths: int, hours: int, crop: float = 0.0) -> Latest:
    return Latest({"affected_population": deaths * 10, "deaths": deaths, "crop_affected_ha": crop},
                  T0 + timedelta(hours=hours))


def test_pandas_baseline_equals_roll_up_on_village_reports():
    latest = {code: _latest(i + 1, i) for i, code in enumerate(c for c in PARENTS if len(c) == 12)}
    reports = pd.DataFrame({"code": list(latest), **{
        f: [r.figures.get(f, 0) for r in latest.values()] for f in indicators.FIELDS}})
    parents = pd.Series(PARENTS, dtype=object)
    baseline = rollup.baseline_rollup(reports, parents)
    totals = roll_up(latest, PARENTS.get)
    above_villages = {c: t for c, t in totals.items() if len(c) < 12}  # the baseline sums upwards
    assert sorted(baseline.index) == sorted(above_villages)
    for code, total in above_villages.items():
        for field in indicators.FIELDS:
            assert baseline.at[code, field] == pytest.approx(total.figures[field]), (code, field)
    assert rollup._provinces_agree(totals, baseline, ["110000", "140000"])
    totals["140000"].figures["deaths"] += 1
    assert not rollup._provinces_agree(totals, baseline, ["110000", "140000"])


def test_typhoon_reports_are_deterministic_and_consistent():
    national = rollup.national
    dataset, _ = national.build_dataset(0, n_townships=3_000, n_villages=6_000, n_depots=400, cache_dir=None)
    first = rollup.typhoon_reports(dataset, 400, seed=7)
    again = rollup.typhoon_reports(dataset, 400, seed=7)
    assert first.equals(again) and len(first) == 400 and first["code"].is_unique
    assert set(first["code"].str[:2]) <= {p[:2] for p in rollup.TYPHOON_PROVINCES}
    for row in first.to_dict("records"):
        figures = {f: row[f] for f in indicators.FIELDS}
        assert indicators.check(figures) == [], row["code"]
    assert first["affected_population"].sum() > 0 and first["deaths"].sum() >= 0
    with pytest.raises(ValueError, match="villages in the typhoon provinces"):
        rollup.typhoon_reports(dataset, 10_000_000)


def test_plan_units_are_the_units_the_app_evaluates():
    plans = rollup.rl.builtin_plans()
    affected = {"province": {"140000", "650000"}, "county": {"140106"}}
    level_of = {"140105": "county", "140106": "county", "140000": "province", "650000": "province"}.get
    assert rollup.plan_units(plans["national-2016"], affected, ["140000", "650000"], level_of) == \
        ["140000", "650000"]
    assert rollup.plan_units(plans["shanxi-provincial-sample"], affected, ["140000"], level_of) == ["140000"]
    # The county plan's own county is a unit when it lies inside the event, reported or not.
    assert rollup.plan_units(plans["county-sample"], affected, ["140000"], level_of) == ["140105"]
    assert rollup.plan_units(plans["county-sample"], affected, ["650000"], level_of) == []


def test_evaluate_all_and_evaluate_table_agree_on_rolled_up_totals():
    latest = {"110101001201": Latest({"deaths": 150, "missing": 60}, T0),
              "140105001201": Latest({"relocated_population": 120_000}, T0),
              "140106001201": Latest({"deaths": 3}, T0)}
    totals = roll_up(latest, PARENTS.get)
    level_of = {c: codes.level_of(c) for c in PARENTS}
    agri_of = {c: 1_000_000 for c in PARENTS}
    plans = rollup.rl.builtin_plans()
    ranks = rollup.evaluate_all(plans, totals, level_of, agri_of, ["110000", "140000"])
    assert ranks == rollup.evaluate_all_table(plans, totals, level_of, agri_of, ["110000", "140000"])
    assert ranks["national-2016"] == {"110000": 2, "140000": 4}  # 150 deaths ≥ 100: Ⅱ; 120,000 relocated: Ⅳ
    assert ranks["national-2024"]["110000"] == 1  # deaths + missing = 210
