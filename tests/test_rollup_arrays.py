"""The numpy roll-up (``app.reports.rollup._roll_up_arrays``) against the plain loop it replaced
for large roll-ups, kept here as the reference: the same totals bit for bit (the same numbers,
``int`` or ``float`` alike, the same ``as_of`` object, the same order of the result), and the
same ``TypeError`` for a blank figure that would go into a sum, on random trees."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.reports import rollup
from app.reports.indicators import FIELDS
from app.reports.rollup import ARRAY_MIN_REPORTS, Latest, Total, roll_up

T0 = datetime(2026, 7, 1, tzinfo=timezone.utc)
EAST8 = timezone(timedelta(hours=8))


# -- the reference: roll_up as it was before the arrays (the plain loop, verbatim) ---------------

def reference(latest, parent_of):
    field_set = frozenset(FIELDS)
    totals = {}
    for code, report in latest.items():
        figures = report.figures
        own = dict(figures) if figures.keys() == field_set else {f: figures.get(f, 0) for f in FIELDS}
        totals[code] = Total(code, own, 1, report.as_of, True)
    depth = _depth_function(parent_of)
    levels = {}
    for code in totals:
        levels.setdefault(depth(code), []).append(code)
    current = max(levels, default=-1)
    while current >= 0:
        for code in levels.get(current, ()):
            parent = parent_of(code)
            if parent is None:
                continue
            target = totals.get(parent)
            if target is None:
                target = totals[parent] = Total(parent)
                levels.setdefault(depth(parent), []).append(parent)
            if target.direct:
                continue
            child = totals[code]
            into, source = target.figures, child.figures
            for name in FIELDS:
                into[name] += source[name]
            target.reporting_units += child.reporting_units
            if child.as_of and (target.as_of is None or child.as_of > target.as_of):
                target.as_of = child.as_of
        current -= 1
    return totals


def _depth_function(parent_of):
    cache = {}

    def depth(code):
        chain = []
        while code not in cache:
            parent = parent_of(code)
            if parent is None:
                cache[code] = 0
                break
            chain.append(code)
            code = parent
        known = cache[code]
        for item in reversed(chain):
            known += 1
            cache[item] = known
        return cache[chain[0]] if chain else cache[code]

    return depth


def outcome(function, latest, parent_of):
    """What ``function`` gives: each total as exact data (``repr`` tells 0 from 0.0 and -0.0,
    and every float bit for bit), or the exception's type."""
    try:
        totals = function(latest, parent_of)
    except TypeError:
        return TypeError
    return [(code, t.region_code, [(k, type(v), repr(v)) for k, v in t.figures.items()],
             t.reporting_units, t.as_of, id(t.as_of) if t.as_of is not None else None, t.direct)
            for code, t in totals.items()]


# -- random trees ---------------------------------------------------------------------------------

values = st.one_of(
    st.integers(0, 10**6), st.integers(-50, 50),
    st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False),
    st.sampled_from([0.0, -0.0, 1.0, 0.1, 0.2, 0.3, 2.5, 1e-9]),
    st.just(None),  # a blank: stays blank in its own total, cannot be added into a sum
)


@st.composite
def figures(draw):
    if draw(st.booleans()):  # the stored shape: exactly the indicator fields, in some order
        names = draw(st.permutations(FIELDS))
    else:  # some fields omitted (they count 0), and an unknown one dropped
        names = draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=len(FIELDS)))
    out = {name: draw(values) if draw(st.integers(0, 9)) else 0 for name in names}
    if draw(st.integers(0, 9)) == 0:
        out["not_an_indicator"] = 1
    return out


@st.composite
def times(draw, naive):
    instant = T0 + timedelta(minutes=draw(st.integers(0, 30)))  # few minutes: many ties
    if naive:
        return instant.replace(tzinfo=None)
    zone = draw(st.sampled_from([timezone.utc, timezone.utc, EAST8]))  # equal instants, two zones
    return instant.astimezone(zone)


@st.composite
def trees(draw):
    size = draw(st.integers(1, 60))
    parent: dict[str, str | None] = {}
    names = [f"r{i}" for i in range(size)]
    for i, code in enumerate(names):
        roots_allowed = i == 0 or draw(st.integers(0, 9)) == 0  # a forest now and then
        parent[code] = None if roots_allowed else names[draw(st.integers(0, i - 1))]
    reported = draw(st.lists(st.sampled_from(names), unique=True, max_size=size))  # any order
    naive = draw(st.booleans())
    latest = {code: Latest(draw(figures()), draw(times(naive))) for code in reported}
    return latest, parent


@settings(max_examples=400, deadline=None)
@given(trees())
def test_arrays_equal_the_plain_loop_on_random_trees(tree):
    latest, parent = tree
    expected = outcome(reference, latest, parent.get)
    assert outcome(rollup._roll_up_arrays, latest, parent.get) == expected
    assert outcome(roll_up, latest, parent.get) == expected


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans())
def test_large_roll_ups_take_the_arrays_and_equal_the_plain_loop(seed, blanks):
    """Villages under townships under counties, with townships and a county reporting for
    themselves too; ``roll_up`` takes the arrays when there are ``ARRAY_MIN_REPORTS`` or more."""
    import random

    rng = random.Random(seed)
    parent: dict[str, str | None] = {"140000": None}
    latest = {}
    for c in range(1, 6):
        county = f"1401{c:02d}"
        parent[county] = "140100" if c < 5 else "140000"  # one county straight under the province
        parent["140100"] = "140000"
        for t in range(rng.randint(1, 8)):
            township = f"{county}{100 + t:03d}"
            parent[township] = county
            for v in range(rng.randint(5, 60)):
                village = f"{township}{200 + v:03d}"
                parent[village] = township
                latest[village] = Latest(_random_figures(rng, blanks), T0 + timedelta(minutes=rng.randint(0, 600)))
            if rng.random() < 0.2:
                latest[township] = Latest(_random_figures(rng, blanks), T0 + timedelta(hours=12))
    if rng.random() < 0.5:
        latest["140103"] = Latest(_random_figures(rng, blanks), T0)
    items = list(latest.items())
    rng.shuffle(items)
    latest = dict(items)
    assert outcome(roll_up, latest, parent.get) == outcome(reference, latest, parent.get)
    assert outcome(rollup._roll_up_arrays, latest, parent.get) == outcome(reference, latest, parent.get)


def _random_figures(rng, blanks):
    out = {}
    for name in FIELDS:
        pick = rng.random()
        if pick < 0.6:
            out[name] = rng.randint(0, 5000)
        elif pick < 0.9:
            out[name] = round(rng.uniform(0, 500), 2)
        elif pick < 0.95 and blanks:
            out[name] = None
        else:
            out[name] = 0
    return out


def test_the_arrays_take_part_above_the_threshold(monkeypatch):
    calls = []
    real = rollup._roll_up_arrays
    monkeypatch.setattr(rollup, "_roll_up_arrays", lambda *a: calls.append(1) or real(*a))
    parent = {"p": None, **{f"v{i}": "p" for i in range(ARRAY_MIN_REPORTS)}}
    latest = {f"v{i}": Latest({"deaths": 1}, T0) for i in range(ARRAY_MIN_REPORTS)}
    totals = roll_up(latest, parent.get)
    assert calls and totals["p"].figures["deaths"] == ARRAY_MIN_REPORTS
    assert totals["p"].reporting_units == ARRAY_MIN_REPORTS and type(totals["p"].figures["deaths"]) is int
    roll_up(dict(list(latest.items())[:5]), parent.get)
    assert len(calls) == 1  # a small roll-up keeps the plain loop


def test_figures_the_arrays_cannot_add_exactly_take_the_plain_loop():
    parent = {"p": None, **{f"v{i}": "p" for i in range(300)}}
    for odd in (Decimal("0.1"), 2**64, 2**53):
        latest = {f"v{i}": Latest({"deaths": 1, "direct_loss_10k_cny": odd if i == 7 else 1}, T0)
                  for i in range(300)}
        assert rollup._roll_up_arrays(latest, parent.get) is None
        assert outcome(roll_up, latest, parent.get) == outcome(reference, latest, parent.get)


def test_a_loop_in_the_tree_is_an_error_not_an_endless_walk():
    parent = {"a": "b", "b": "a"}
    with pytest.raises(ValueError, match="loop"):
        rollup._roll_up_arrays({"a": Latest({"deaths": 1}, T0)}, parent.get)


def test_a_blank_that_would_go_into_a_sum_is_a_type_error_as_before():
    parent = {"p": None, "q": "p", **{f"v{i}": "q" for i in range(ARRAY_MIN_REPORTS)}}
    latest = {f"v{i}": Latest({"deaths": None if i == 250 else 1}, T0) for i in range(ARRAY_MIN_REPORTS)}
    with pytest.raises(TypeError):
        reference(latest, parent.get)
    with pytest.raises(TypeError, match="v250: deaths is blank"):
        roll_up(latest, parent.get)
    latest["q"] = Latest({"deaths": 9}, T0)  # the township reports itself: nothing is added
    totals = roll_up(latest, parent.get)
    assert totals["v250"].figures["deaths"] is None and totals["p"].figures["deaths"] == 9
    assert outcome(roll_up, latest, parent.get) == outcome(reference, latest, parent.get)
