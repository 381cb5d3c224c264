"""Every boundary of the national 2016 plan (domain.md §2), table-driven.

For each level and each criterion, the values lo − 1, lo and hi − 1 (hi being the next higher
level's lo) must give the expected level. The expected bands are written out here, independent of
the shipped YAML, so that a typo in the plan file fails.
"""
import pytest

from response_levels import Context, builtin_plans, evaluate

LABELS = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ"}
# rank: deaths, relocated or needing aid, rooms, households, drought %, drought persons
BANDS = {
    1: (200, 2_000_000, 300_000, 100_000, 30, 4_000_000),
    2: (100, 1_000_000, 200_000, 70_000, 25, 3_000_000),
    3: (50, 500_000, 100_000, 30_000, 20, 2_000_000),
    4: (20, 100_000, 10_000, 3_000, 15, 1_000_000),
}
# Agricultural population for the percentage probes: percentage bounds of 150,000–300,000
# persons, far below the absolute bounds, so only the percentage can be met.
AGRI = 1_000_000


def _split(first, second):
    return lambda v: {first: v // 2, second: v - v // 2}


# probe name: (index in BANDS, figures for a value, context, lo from the band value, indicator)
PROBES = {
    "deaths": (0, lambda v: {"deaths": v}, None, lambda b: b, "deaths"),
    "relocated": (1, lambda v: {"relocated_population": v}, None, lambda b: b,
                  "relocated_population"),
    "needing_aid": (1, lambda v: {"needing_aid_population": v}, None, lambda b: b,
                    "needing_aid_population"),
    "rooms": (2, _split("collapsed_rooms", "severely_damaged_rooms"), None, lambda b: b,
              "collapsed_rooms+severely_damaged_rooms"),
    "households": (3, _split("collapsed_households", "severely_damaged_households"), None,
                   lambda b: b, "collapsed_households+severely_damaged_households"),
    "drought_percent": (4, lambda v: {"drought_needing_aid_population": v},
                        Context(agricultural_population=AGRI), lambda b: b * AGRI // 100,
                        "drought_needing_aid_population"),
    "drought_absolute": (5, lambda v: {"drought_needing_aid_population": v}, None,
                         lambda b: b, "drought_needing_aid_population"),
}


def _cases():
    for name, (index, _, _, lo_of, _) in PROBES.items():
        for rank in (1, 2, 3, 4):
            lo = lo_of(BANDS[rank][index])
            below = rank + 1 if rank < 4 else None
            yield pytest.param(name, lo - 1, below, id=f"{name}-{LABELS[rank]}-lo-1")
            yield pytest.param(name, lo, rank, id=f"{name}-{LABELS[rank]}-lo")
            if rank > 1:
                hi = lo_of(BANDS[rank - 1][index])
                yield pytest.param(name, hi - 1, rank, id=f"{name}-{LABELS[rank]}-hi-1")
            else:
                yield pytest.param(name, lo * 10, rank, id=f"{name}-{LABELS[rank]}-far-above")


CASES = list(_cases())


def test_every_boundary_is_covered():
    # 7 probes × 4 levels × 3 values
    assert len(CASES) == 84


@pytest.fixture(scope="module")
def plan():
    return builtin_plans()["national-2016"]


@pytest.mark.parametrize(("probe", "value", "expected"), CASES)
def test_boundary(plan, probe, value, expected):
    _, figures, context, lo_of, indicator = PROBES[probe]
    result = evaluate(plan, figures(value), context)
    assert result.rank == expected
    assert result.level == (LABELS[expected] if expected else None)
    if expected is None:
        assert result.triggers == ()
        return
    # The trigger names the probed indicator and the bound of the level reached.
    index = PROBES[probe][0]
    hits = [t for t in result.triggers if t.indicator == indicator]
    assert len(hits) == 1
    assert hits[0].value == value
    assert hits[0].threshold == lo_of(BANDS[expected][index])
    assert hits[0].level == LABELS[expected]


def test_missing_does_not_count_in_2016(plan):
    assert evaluate(plan, {"deaths": 19, "missing": 500}).level is None
    assert evaluate(plan, {"deaths": 20, "missing": 500}).level == "Ⅳ"


def test_levels_are_checked_highest_first_and_any_criterion_suffices(plan):
    figures = {"deaths": 25, "relocated_population": 1_500_000, "collapsed_households": 100_000}
    result = evaluate(plan, figures)
    assert (result.level, result.rank) == ("Ⅰ", 1)
    # Only the criterion met at Ⅰ is a trigger, not those met at lower levels.
    assert [(t.criterion_id, t.indicator, t.threshold) for t in result.triggers] == [
        ("houses", "collapsed_households+severely_damaged_households", 100_000)]


def test_every_criterion_met_at_the_level_is_a_trigger(plan):
    figures = {"deaths": 120, "needing_aid_population": 1_100_000,
               "relocated_population": 1_000_000, "severely_damaged_rooms": 250_000}
    result = evaluate(plan, figures)
    assert result.level == "Ⅱ"
    assert [(t.indicator, t.value, t.threshold) for t in result.triggers] == [
        ("deaths", 120, 100),
        ("relocated_population", 1_000_000, 1_000_000),
        ("needing_aid_population", 1_100_000, 1_000_000),
        ("collapsed_rooms+severely_damaged_rooms", 250_000, 200_000),
    ]
