"""The indicator catalogue's checks, pure."""
from __future__ import annotations

import math

import pytest

from app.reports.indicators import validate


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_figures_are_refused(value):
    _clean, errors = validate({"affected_population": 10, "crop_affected_ha": value})
    assert errors == [{"field": "figures.crop_affected_ha",
                       "message": "必须是有限的数字（不能是 NaN 或 Infinity）"}]


def test_type_errors_and_broken_rules_are_reported_together():
    _clean, errors = validate({"affected_population": 5, "deaths": 9, "injured": -1,
                               "crop_disaster_ha": "x"})
    fields = sorted(e["field"] for e in errors)
    # injured's and crop_disaster_ha's own errors, plus deaths > affected; the rules that
    # involve the two bad fields are not reported on top of their own errors
    assert fields == ["figures.crop_disaster_ha", "figures.deaths", "figures.injured"]
    assert next(e for e in errors if e["field"] == "figures.deaths")["rule"] == "affected_ge_deaths"


def test_every_consistency_rule_is_named():
    _clean, errors = validate({"deaths": 1, "missing": 1, "injured": 1, "water_shortage_population": 1,
                               "relocated_population": 1, "needing_aid_population": 0,
                               "needing_transitional_aid": 1, "crop_disaster_ha": 2, "crop_failed_ha": 3,
                               "collapsed_households": 1, "severely_damaged_households": 1,
                               "generally_damaged_households": 1})
    assert {e["rule"] for e in errors} == {
        "affected_ge_deaths", "affected_ge_missing", "affected_ge_injured", "affected_ge_water_shortage",
        "affected_ge_relocated", "needing_aid_ge_transitional", "crop_affected_ge_disaster",
        "crop_disaster_ge_failed", "collapsed_rooms_ge_households", "severely_damaged_rooms_ge_households",
        "generally_damaged_rooms_ge_households"}
