"""The benchmark script runs and its paths agree; the package's doctests hold."""
import doctest
import json

import pytest

import response_levels
from response_levels import _alignment, _evaluate, _schema
from tests.bench_scripts import load


@pytest.fixture(scope="module")
def bench():
    return load("levels")


def test_bench_json_line(bench, capsys):
    figures = bench.main(["--json", "--repeat", "1"])
    printed = json.loads(capsys.readouterr().out.strip())
    assert printed == json.loads(json.dumps(figures))
    assert (printed["provinces"], printed["counties"], printed["units"]) == (31, 2850, 2881)
    assert printed["plans"] == len(response_levels.builtin_plans())
    assert printed["agree_baseline"] is True
    assert printed["agree_scalar"] is True
    assert sum(printed["rank_counts"]["national-2016"].values()) == 2881


def test_bench_figures_are_deterministic(bench):
    first, second = bench.synthetic_units(), bench.synthetic_units()
    for key, column in first["table"].items():
        assert column.tolist() == second["table"][key].tolist()
    assert first["neighbours"][0] == [30, 1]


@pytest.mark.parametrize("module", [response_levels, _evaluate, _schema, _alignment])
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.failed == 0
    assert result.attempted >= 1
