"""The roll-up against its definition (API.md: a region's own latest report, else the sum of its
children's totals) on random trees, and on a 30,000-village tree by level."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from app.reports.indicators import FIELDS
from app.reports.rollup import Latest, roll_up

T0 = datetime(2026, 7, 1, tzinfo=timezone.utc)


@st.composite
def trees(draw):
    size = draw(st.integers(1, 40))
    parent = {"n0": None}
    for i in range(1, size):
        parent[f"n{i}"] = f"n{draw(st.integers(0, i - 1))}"
    reported = draw(st.lists(st.sampled_from(sorted(parent)), unique=True, max_size=size))
    latest = {}
    for code in reported:
        deaths = draw(st.integers(0, 50))
        loss = draw(st.floats(0, 1000, allow_nan=False))
        latest[code] = Latest({"deaths": deaths, "direct_loss_10k_cny": loss},
                              T0 + timedelta(minutes=draw(st.integers(0, 10_000))))
    return parent, latest


def reference(code, parent, latest):
    """(figures, reporting_units, as_of) straight from the definition."""
    if code in latest:
        report = latest[code]
        return ({f: report.figures.get(f, 0) for f in FIELDS}, 1, report.as_of)
    figures = {f: 0 for f in FIELDS}
    units, as_of = 0, None
    for child in (c for c, p in parent.items() if p == code):
        child_figures, child_units, child_as_of = reference(child, parent, latest)
        for f in FIELDS:
            figures[f] += child_figures[f]
        units += child_units
        if child_as_of and (as_of is None or child_as_of > as_of):
            as_of = child_as_of
    return figures, units, as_of


@settings(max_examples=200, deadline=None)
@given(trees())
def test_roll_up_matches_the_definition(tree):
    parent, latest = tree
    totals = roll_up(latest, parent.get)
    expected_codes = set()
    for code in latest:
        while code is not None:
            expected_codes.add(code)
            code = parent[code]
    assert set(totals) == expected_codes
    for code, total in totals.items():
        figures, units, as_of = reference(code, parent, latest)
        assert total.reporting_units == units and total.as_of == as_of
        assert total.figures["deaths"] == figures["deaths"]
        assert abs(total.figures["direct_loss_10k_cny"] - figures["direct_loss_10k_cny"]) < 1e-6
        assert total.direct == (code in latest)


def test_thirty_thousand_villages():
    parents = {"140000": None}
    latest = {}
    for c in range(1, 31):
        county = f"14{(c - 1) // 10 + 1:02d}{(c - 1) % 10 + 1:02d}"
        parents[county[:4] + "00"] = "140000"
        parents[county] = county[:4] + "00"
        for t in range(10):
            township = f"{county}{101 + t}"
            parents[township] = county
            for v in range(100):
                village = f"{township}{200 + v}"
                parents[village] = township
                latest[village] = Latest({"affected_population": 1, "deaths": v % 2}, T0)
    latest["140101"] = Latest({"affected_population": 7}, T0 + timedelta(hours=1))  # direct county
    totals = roll_up(latest, parents.get)
    assert len(latest) == 30_001
    assert totals["140101"].figures["affected_population"] == 7 and totals["140101"].reporting_units == 1
    assert totals["140101101"].figures["affected_population"] == 100
    assert totals["140100"].figures["affected_population"] == 9 * 1000 + 7
    assert totals["140000"].figures["affected_population"] == 29 * 1000 + 7
    assert totals["140000"].figures["deaths"] == 29 * 500
    assert totals["140000"].reporting_units == 29 * 1000 + 1
    assert totals["140000"].as_of == T0 + timedelta(hours=1)
