"""Pure rules: GB 11643 check digits and masking, eligibility, amounts and timelines."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from app import idcard
from app.cycles.rules import (Instalment, Standards, add_months, aggregate_needs, assess, deadline_status,
                              instalments, is_due, is_single_crop, split_evenly, split_percent,
                              transitional_segments, winter_spring_deadlines, winter_spring_months)

SH = ZoneInfo("Asia/Shanghai")


# --- identity numbers ------------------------------------------------------------------------------

@pytest.mark.parametrize("first17, check", [
    ("11010519491231002", "X"),  # the example printed in GB 11643-1999
    # worked by hand: weighted sums 196, 169 and 236; mod 11 → 9, 4, 5; "10X98765432" → "3", "8", "7"
    ("44052419800101001", "3"),
    ("14010519900101123", "8"),
    ("65010219851231001", "7"),
])
def test_check_character(first17, check):
    assert idcard.check_character(first17) == check
    assert idcard.normalise(first17 + check) == first17 + check


def test_lower_case_x_and_spaces_are_normalised():
    assert idcard.normalise(" 11010519491231002x ") == "11010519491231002X"


@pytest.mark.parametrize("number, message", [
    ("11010519491231002", "18 位"),
    ("1101051949123100211", "18 位"),
    ("11010519491231002Y", "前 17 位必须是数字"),
    ("1101051949A231002X", "前 17 位必须是数字"),
    ("110105194902300021", "不是有效日期"),
    ("110105180001010011", "不合理"),
    ("110105199001010011", "校验码错误：最后一位应为 0"),
    ("", "18 位"),
])
def test_invalid_numbers_say_why(number, message):
    with pytest.raises(idcard.IdNumberError) as info:
        idcard.normalise(number)
    assert message in str(info.value)
    assert not idcard.is_valid(number)


def test_every_reason_an_id_number_is_refused_reads_in_english(app):
    """The messages are catalogue messages with placeholders: Chinese from ``str()`` (no request,
    no Flask: the module stays pure), English where the reader reads English."""
    import ast
    from pathlib import Path

    from flask_babel import force_locale

    from app.i18n import translate

    tree = ast.parse(Path(idcard.__file__).read_text(encoding="utf-8"))
    messages = [node.args[0].value for node in ast.walk(tree) if isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "IdNumberError" and isinstance(node.args[0], ast.Constant)]
    assert len(messages) == 6 and not [m for m in messages if "{" in m]
    with pytest.raises(idcard.IdNumberError) as info:
        idcard.normalise("1401")
    assert str(info.value) == "身份证号码必须是 18 位（当前 4 位）" and info.value.params == {"n": 4}
    with app.test_request_context("/?lang=en"), force_locale("en"):
        missing = [m for m in messages if translate(m) == m]
        shown = translate(info.value.message, **info.value.params)
    assert missing == [] and shown == "an ID card number has 18 characters (this one has 4)"


def test_a_future_birth_date_is_refused():
    number = idcard.with_check_character("14010520991231001")
    with pytest.raises(idcard.IdNumberError, match="不合理"):
        idcard.normalise(number)


def test_every_single_digit_error_is_caught():
    """The MOD 11-2 check catches any one changed digit."""
    good = idcard.with_check_character("14010519900101123")
    for position in range(17):
        for digit in "0123456789":
            if digit == good[position]:
                continue
            bad = good[:position] + digit + good[position + 1:]
            assert not idcard.is_valid(bad), bad


@pytest.mark.parametrize("value, masked", [
    ("140105199001011234", "1401**********1234"),
    ("11010519491231002X", "1101**********002X"),
    ("", ""),
    (None, ""),
    ("1234567", "*******"),
])
def test_mask_id(value, masked):
    assert idcard.mask_id(value) == masked


@pytest.mark.parametrize("name, masked", [("王", "王"), ("王芳", "王*"), ("王小明", "王*明"), ("欧阳小华", "欧**华")])
def test_mask_name(name, masked):
    assert idcard.mask_name(name) == masked


def test_mask_account_keeps_last_four():
    assert idcard.mask_account("6217000011112222") == "************2222"


# --- eligibility -------------------------------------------------------------------------------------

@pytest.mark.parametrize("household, eligible", [
    ({"damage_class": "collapsed", "no_housing": True}, True),
    ({"damage_class": "severely_damaged", "no_housing": True}, True),
    ({"damage_class": "collapsed"}, False),  # still has somewhere to live
    ({"damage_class": "generally_damaged", "no_housing": True}, False),
    ({"damage_class": "none", "cannot_return": True}, True),
    ({"damage_class": "none", "no_livelihood": True}, True),
    ({"damage_class": "none", "dibao": True, "tekun": True}, False),
])
def test_transitional_eligibility(household, eligible):
    result = assess("transitional", household)
    assert result.eligible is eligible
    assert result.reasons


def test_reasons_and_priority():
    result = assess("transitional", {"damage_class": "collapsed", "no_housing": True, "dibao": True})
    assert result.reasons == ("住房倒塌且无房可住", "低保户") and result.priority


@pytest.mark.parametrize("kind, household, deceased, eligible, work_type", [
    ("winter_spring", {"damage_class": "generally_damaged"}, 0, True, None),
    ("winter_spring", {"damage_class": "none", "no_self_rescue": True}, 0, True, None),
    ("winter_spring", {"damage_class": "none", "dibao": True}, 0, False, None),
    ("reconstruction", {"damage_class": "collapsed"}, 0, True, "rebuild"),
    ("reconstruction", {"damage_class": "severely_damaged"}, 0, True, "rebuild"),
    ("reconstruction", {"damage_class": "generally_damaged"}, 0, True, "repair"),
    ("reconstruction", {"damage_class": "none", "no_housing": True}, 0, False, None),
    ("condolence", {"damage_class": "none"}, 1, True, None),
    ("condolence", {"damage_class": "collapsed"}, 0, False, None),
    ("drought", {"damage_class": "none", "tekun": True}, 0, True, None),
    ("drought", {"damage_class": "collapsed"}, 0, False, None),
])
def test_other_kinds(kind, household, deceased, eligible, work_type):
    result = assess(kind, household, deceased=deceased)
    assert (result.eligible, result.work_type) == (eligible, work_type)


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        assess("evacuation", {})


# --- building blocks ----------------------------------------------------------------------------------

@pytest.mark.parametrize("day, months, expected", [
    (date(2025, 1, 31), 1, date(2025, 2, 28)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2025, 11, 16), 3, date(2026, 2, 16)),
    (date(2025, 8, 1), 0, date(2025, 8, 1)),
])
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


def test_transitional_segments_cover_every_day_once():
    pieces = transitional_segments(date(2025, 8, 16), 0, 3)
    assert pieces == [(date(2025, 8, 16), 16), (date(2025, 9, 1), 30), (date(2025, 10, 1), 31), (date(2025, 11, 1), 15)]
    assert sum(days for _s, days in pieces) == (date(2025, 11, 16) - date(2025, 8, 16)).days
    extension = transitional_segments(date(2025, 8, 16), 3, 5)
    assert extension == [(date(2025, 11, 16), 15), (date(2025, 12, 1), 31), (date(2026, 1, 1), 15)]


def test_winter_spring_months_and_single_crop():
    assert len(winter_spring_months(2025, 12, 5)) == 6
    assert winter_spring_months(2025, 12, 7)[-1] == (2026, 7)
    assert is_single_crop("650102", ["650000"]) and not is_single_crop("140105", ["650000"])


@pytest.mark.parametrize("total, parts, expected", [(1000, 3, [334, 333, 333]), (26000, 6, [4335] + [4333] * 5),
                                                    (5, 1, [5])])
def test_split_evenly(total, parts, expected):
    assert split_evenly(total, parts) == expected and sum(expected) == total


def test_split_percent_keeps_the_total_and_refuses_bad_shares():
    assert split_percent(199_999, [40, 30, 30]) == [79_999, 59_999, 60_001]
    with pytest.raises(ValueError):
        split_percent(100, [50, 40])
    with pytest.raises(ValueError):
        split_evenly(100, 0)


# --- instalments ------------------------------------------------------------------------------------------

def test_transitional_instalments_by_hand():
    found = instalments("transitional", Standards(), persons=4, starts_on=date(2025, 8, 16))
    assert [i.period for i in found] == ["2025-08-16", "2025-09-01", "2025-10-01", "2025-11-01"]
    assert [i.amount_fen for i in found] == [4 * 2000 * d for d in (16, 30, 31, 15)]
    assert sum(i.amount_fen for i in found) == 4 * 20 * 92 * 100


def test_configured_standards_change_the_amounts():
    std = Standards(transitional_daily_fen=1500, winter_spring_per_person_fen=9000, drought_per_person_fen=5000,
                    condolence_per_death_fen=2_000_000, payment_day=10)
    assert sum(i.amount_fen for i in instalments("transitional", std, persons=1, starts_on=date(2025, 8, 1))) == 1500 * 92
    winter = instalments("winter_spring", std, persons=2, year=2025)
    assert winter[0].due_on == date(2025, 12, 10) and sum(i.amount_fen for i in winter) == 18_000
    assert instalments("drought", std, persons=3, approved_on=date(2025, 8, 1))[0].amount_fen == 15_000
    assert instalments("condolence", std, deceased=2, approved_on=date(2025, 8, 1))[0].amount_fen == 4_000_000


def test_reconstruction_instalments_by_stage():
    rebuild = instalments("reconstruction", Standards(), damage_class="collapsed")
    assert [(i.stage, i.amount_fen) for i in rebuild] == [("started", 800_000), ("main_structure", 600_000),
                                                          ("completed", 600_000)]
    repair = instalments("reconstruction", Standards(), damage_class="generally_damaged")
    assert [(i.period, i.amount_fen) for i in repair] == [("stage:completed", 200_000)]
    assert instalments("reconstruction", Standards(), damage_class="none") == []


def test_instalment_round_trip_and_due():
    cutoff = datetime(2025, 9, 1, 6, 0, tzinfo=SH)
    dated = Instalment("2025-09-01", 100, date(2025, 9, 1))
    assert Instalment.from_dict(dated.to_dict()) == dated
    assert is_due(dated, cutoff, tz=SH, stage_reached={})
    assert not is_due(Instalment("2025-09-02", 100, date(2025, 9, 2)), cutoff, tz=SH, stage_reached={})
    staged = Instalment("stage:started", 100, stage="started")
    assert not is_due(staged, cutoff, tz=SH, stage_reached={})
    assert is_due(staged, cutoff, tz=SH, stage_reached={"started": datetime(2025, 8, 31, tzinfo=timezone.utc)})
    assert not is_due(staged, cutoff, tz=SH, stage_reached={"started": datetime(2025, 9, 2, tzinfo=timezone.utc)})


# --- timelines and the needs table ------------------------------------------------------------------------

def test_winter_spring_deadlines_end_of_day_local():
    due = winter_spring_deadlines(2025, {"county": "10-15", "prefecture": "10-20", "province": "10-25"}, SH)
    assert due["county"] == datetime(2025, 10, 16, tzinfo=SH)
    assert due["province"] == datetime(2025, 10, 26, tzinfo=SH)
    now = datetime(2025, 10, 15, 23, 59, tzinfo=SH)
    assert deadline_status(due["county"], None, now) == "due"
    assert deadline_status(due["county"], None, datetime(2025, 10, 16, tzinfo=SH)) == "overdue"
    assert deadline_status(due["county"], now, datetime(2025, 12, 1, tzinfo=SH)) == "met"


def test_aggregate_needs_up_the_tree():
    rows = [
        {"village_code": "140105001200", "households": 1, "persons": 3, "food": 3, "clothing": 0, "heating": 3,
         "priority": 0, "funds_fen": 39_000},
        {"village_code": "140105001201", "households": 1, "persons": 2, "food": 0, "clothing": 2, "heating": 2,
         "priority": 2, "funds_fen": 26_000},
        {"village_code": "650102001200", "households": 1, "persons": 9, "food": 9, "clothing": 9, "heating": 9,
         "priority": 0, "funds_fen": 117_000},
    ]
    table = aggregate_needs(rows, "140000")
    assert table["140000"] == {"households": 2, "persons": 5, "food": 3, "clothing": 2, "heating": 5,
                               "priority": 2, "funds_fen": 65_000}
    assert table["140105001"]["persons"] == 5 and "650000" not in table
    assert aggregate_needs(rows, "000000")["000000"]["persons"] == 14
    assert aggregate_needs([], "140212")["140212"]["households"] == 0
