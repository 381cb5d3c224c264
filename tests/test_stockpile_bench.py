"""The allocation benchmark runs and reports consistent figures (full size: marked slow)."""
from __future__ import annotations

import json

import pytest

from tests.bench_scripts import load


def _bench():
    return load("allocate")


def test_instance_is_deterministic_and_full_size():
    bench = _bench()
    demand, supply, distances = bench.build(7)
    again = bench.build(7)
    assert demand == again[0] and supply == again[1]
    assert len({row.depot_code for row in supply}) == 200
    assert len(distances.region_codes) == 2000
    assert {line.item for line in demand} == set(bench.ITEMS) and len(bench.ITEMS) == 8


@pytest.mark.slow
def test_json_figures(capsys):
    # Tiers ignored: the LP then minimises distance·quantity itself, so it must not lose to greedy.
    assert _bench().main(["--json", "--tier-preference", "none"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert (figures["depots"], figures["points"], figures["items"]) == (200, 2000, 8)
    assert figures["lp_unmet"] <= figures["greedy_unmet"]
    if figures["lp_unmet"] == figures["greedy_unmet"]:
        assert figures["lp_total_distance_quantity"] <= figures["greedy_total_distance_quantity"]
    assert figures["lp_unmet"] >= figures["demand"] - figures["supply"]
