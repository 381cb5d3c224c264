"""The pure roll-up on hand-computed fixtures."""
from __future__ import annotations

from datetime import datetime, timezone

from gis import codes

from app.reports.rollup import Latest, roll_up, total_for


def at(hour):
    return datetime(2026, 7, 1, hour, tzinfo=timezone.utc)


def latest(**by_code):
    return {code: Latest(figures, at(hour)) for code, (figures, hour) in by_code.items()}


def test_children_sum_up_to_province():
    reports = latest(**{
        "140105001200": ({"deaths": 1, "affected_population": 100}, 8),
        "140105001201": ({"deaths": 2, "affected_population": 50}, 9),
        "140106": ({"deaths": 3, "affected_population": 1000}, 7),
        "140212": ({"missing": 4, "affected_population": 10}, 6),
    })
    totals = roll_up(reports, codes.parent_of)
    assert total_for("140105001", totals).figures["deaths"] == 3
    assert totals["140105"].figures["affected_population"] == 150
    assert totals["140100"].figures["deaths"] == 6 and totals["140100"].reporting_units == 3
    province = totals["140000"]
    assert province.figures["deaths"] == 6 and province.figures["missing"] == 4
    assert province.figures["affected_population"] == 1160
    assert province.reporting_units == 4 and province.as_of == at(9)


def test_direct_report_takes_precedence_over_children():
    reports = latest(**{
        "140105001200": ({"deaths": 1, "affected_population": 100}, 8),
        "140105001201": ({"deaths": 2, "affected_population": 50}, 9),
        # the county's own report (say, verified figures) replaces the sum of its villages
        "140105": ({"deaths": 5, "affected_population": 400}, 7),
        "140106": ({"deaths": 3, "affected_population": 1000}, 7),
    })
    totals = roll_up(reports, codes.parent_of)
    assert totals["140105"].figures["deaths"] == 5 and totals["140105"].reporting_units == 1
    assert totals["140105001"].figures["deaths"] == 3  # the township still sums its villages
    assert totals["140100"].figures["deaths"] == 8 and totals["140100"].reporting_units == 2
    assert totals["140000"].figures["affected_population"] == 1400


def test_region_without_reports_is_zero():
    totals = roll_up({}, codes.parent_of)
    empty = total_for("140000", totals)
    assert empty.reporting_units == 0 and set(empty.figures.values()) == {0}


def test_custom_tree_for_province_administered_county():
    # 429004 (仙桃市) sits directly under the province: the database tree says so.
    tree = {"429004": "420000", "420000": None}
    totals = roll_up(latest(**{"429004": ({"deaths": 2}, 1)}), tree.get)
    assert totals["420000"].figures["deaths"] == 2


def test_indicator_names_agree_across_libraries():
    """The pure libraries keep their own copy of the statutory indicator names (they may not
    import the app); all three must list exactly domain.md §3's fields."""
    import response_levels
    import stockpile

    from app.reports.indicators import FIELDS

    assert tuple(response_levels.INDICATORS) == FIELDS
    assert tuple(stockpile.INDICATORS) == FIELDS
