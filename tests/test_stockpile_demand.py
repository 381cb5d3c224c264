"""Catalogue, norms and demand on hand-computed figures."""
from __future__ import annotations

from fractions import Fraction

import pytest

from stockpile import (
    DEFAULT_ITEMS,
    DEFAULT_NORMS,
    INDICATORS,
    DemandLine,
    DemandNorm,
    Item,
    NormConfigError,
    compute_demand,
    default_norms,
    items_by_code,
    norms_from_config,
)

FIGURES = {
    "140105": {"relocated_population": 1000, "needing_aid_population": 1200, "deaths": 2},
    "140106": {"relocated_population": 10},
}


def test_default_catalogue_has_the_demo_items_with_units():
    catalogue = items_by_code(DEFAULT_ITEMS)
    expected = {"tent": ("帐篷", "顶"), "quilt": ("棉被", "床"), "cotton_coat": ("棉大衣", "件"),
                "folding_bed": ("折叠床", "张"), "blanket": ("毛毯", "床"), "water": ("饮用水", "升"),
                "instant_food": ("方便食品", "千克")}
    for code, (name, unit) in expected.items():
        assert (catalogue[code].name, catalogue[code].unit, catalogue[code].category) == (name, unit, "生活类")
    assert {code for code, item in catalogue.items() if item.category == "防汛抗旱类"} == {
        "life_jacket", "sandbag", "pump"}
    assert catalogue["instant_food"].shelf_life_days == 180 and catalogue["tent"].shelf_life_days is None


def test_item_validation():
    with pytest.raises(ValueError, match="category"):
        Item("boat", "冲锋舟", "艘", "救生类")
    with pytest.raises(ValueError, match="shelf_life_days"):
        Item("rice", "大米", "千克", "生活类", shelf_life_days=0)
    with pytest.raises(ValueError, match="duplicate"):
        items_by_code([DEFAULT_ITEMS[0], DEFAULT_ITEMS[0]])


def test_default_norms_on_hand_computed_figures():
    assert compute_demand(FIGURES) == [
        # 1,200 persons × 0.5 kg × 3 days; 1,000 quilts; ceil(1,000 / 3) tents; 1,200 × 3 L × 3 days.
        DemandLine("140105", "instant_food", 1800),
        DemandLine("140105", "quilt", 1000),
        DemandLine("140105", "tent", 334),
        DemandLine("140105", "water", 10800),
        DemandLine("140106", "quilt", 10),
        DemandLine("140106", "tent", 4),
    ]
    assert DEFAULT_NORMS == default_norms()


def test_household_size_and_days_are_configurable():
    norms = default_norms(household_size=4, days=2, water_litres_per_person_day=2.5)
    lines = {(line.region_code, line.item): line.quantity for line in compute_demand(FIGURES, norms)}
    assert lines[("140105", "tent")] == 250
    assert lines[("140106", "tent")] == 3            # ceil(10 / 4)
    assert lines[("140105", "water")] == 6000        # 1,200 × 2.5 × 2
    assert lines[("140105", "instant_food")] == 1200
    with pytest.raises(ValueError):
        default_norms(household_size=0)


def test_quantities_are_exact_not_float_rounded_up():
    tent = DemandNorm("tent", "relocated_population", 1 / 3)
    assert tent.quantity({"relocated_population": 3}) == 1
    assert tent.quantity({"relocated_population": 300_000}) == 100_000
    assert tent.quantity({"relocated_population": 4}) == 2
    assert DemandNorm("water", "relocated_population", 0.1, days=3).quantity({"relocated_population": 30}) == 9
    assert DemandNorm("quilt", "relocated_population", Fraction(1, 7)).quantity({"relocated_population": 7}) == 1
    assert tent.quantity({}) == 0


def test_dispatched_is_subtracted_never_below_zero_and_zero_lines_are_omitted():
    dispatched = {("140105", "quilt"): 400, ("140105", "tent"): 334, ("140106", "tent"): 9,
                  ("140106", "blanket"): 5}
    lines = compute_demand(FIGURES, dispatched=dispatched)
    assert [(line.region_code, line.item, line.quantity) for line in lines] == [
        ("140105", "instant_food", 1800), ("140105", "quilt", 600), ("140105", "water", 10800),
        ("140106", "quilt", 10)]
    with pytest.raises(ValueError, match="negative"):
        compute_demand(FIGURES, dispatched={("140105", "quilt"): -1})


def test_norms_for_the_same_item_add_up():
    norms = [DemandNorm("water", "relocated_population", 3, days=3),
             DemandNorm("water", "water_shortage_population", 2, days=10)]
    figures = {"140521": {"relocated_population": 100, "water_shortage_population": 50}}
    assert compute_demand(figures, norms) == [DemandLine("140521", "water", 900 + 1000)]


def test_bad_figures_are_refused():
    with pytest.raises(ValueError, match="negative"):
        compute_demand({"140105": {"relocated_population": -1}})
    with pytest.raises(ValueError, match="finite"):
        compute_demand({"140105": {"relocated_population": float("nan")}})


def test_demand_norm_validation():
    with pytest.raises(ValueError, match="not a loss indicator"):
        DemandNorm("tent", "relocated_people", 1)
    with pytest.raises(ValueError, match="positive"):
        DemandNorm("tent", "relocated_population", 0)
    with pytest.raises(ValueError, match="days"):
        DemandNorm("tent", "relocated_population", 1, days=0)
    assert "relocated_population" in INDICATORS and "crop_failed_ha" in INDICATORS


def test_norms_from_config():
    norms = norms_from_config([
        {"item": "tent", "indicator": "relocated_population", "per_household": 1, "household_size": 4},
        {"item": "tent", "indicator": "collapsed_households", "per_household": 1, "note": "倒房户"},
        {"item": "water", "indicator": "needing_aid_population", "per_person": 2.5, "days": 7},
    ], household_size=5)
    assert [norm.rate for norm in norms] == [Fraction(1, 4), Fraction(1, 5), Fraction(35, 2)]
    figures = {"140105": {"relocated_population": 10, "collapsed_households": 10, "needing_aid_population": 2}}
    assert compute_demand(figures, norms) == [DemandLine("140105", "tent", 3 + 2), DemandLine("140105", "water", 35)]


def test_norms_from_config_names_every_bad_field():
    with pytest.raises(NormConfigError) as caught:
        norms_from_config([
            {"item": "yacht", "indicator": "relocated_population", "per_person": 1},
            {"item": "tent", "indicator": "people", "per_person": -1, "days": 1.5, "colour": "red"},
            {"item": "quilt", "indicator": "relocated_population"},
            {"item": "quilt", "indicator": "relocated_population", "per_person": 1, "household_size": 3},
            "not a mapping",
            {"indicator": "deaths", "per_household": "x"},
        ])
    assert caught.value.errors == [
        ("[0].item", "unknown item 'yacht'"),
        ("[1].colour", "unknown key"),
        ("[1].indicator", "unknown indicator 'people'"),
        ("[1].per_person", "must be positive, got -1"),
        ("[1].days", "must be a positive integer, got 1.5"),
        ("[2].per_person", "give exactly one of per_person or per_household"),
        ("[3].household_size", "only applies with per_household"),
        ("[4]", "must be a mapping"),
        ("[5].item", "is required"),
        ("[5].per_household", "[5].per_household must be a number, got 'x'"),
    ]
    with pytest.raises(NormConfigError, match="list of mappings"):
        norms_from_config({"item": "tent"})
