"""Plan files: the shipped plans, schema errors (all at once, with paths), the dump/parse round trip
and the loaders."""
import datetime as dt
import json

import pytest
import yaml

from response_levels import (
    AdjacentLinkageCriterion,
    DroughtCriterion,
    PlanError,
    Problem,
    SumCriterion,
    ThresholdCriterion,
    builtin_plans,
    dump_plan,
    dump_plan_text,
    load_plan,
    load_plans,
    parse_plan_text,
    plan_summary,
)

SHIPPED = {"national-2016", "national-2024", "shanxi-provincial-sample",
           "xinjiang-provincial-sample", "county-sample"}


def _minimal(**changes):
    data = {
        "id": "test-plan", "name": "测试预案", "jurisdiction_code": "140000",
        "unit_level": "province", "version": "1", "issued": "2024-01-01",
        "levels": [{"label": "一级", "rank": 1, "status": "sample", "criteria": [
            {"id": "d", "kind": "threshold", "indicator": "deaths", "min": 10}]}],
    }
    data.update(changes)
    return data


# --- shipped plans --------------------------------------------------------------------------

def test_shipped_plan_ids():
    assert set(builtin_plans()) == SHIPPED


def test_national_2016():
    plan = builtin_plans()["national-2016"]
    assert (plan.jurisdiction_code, plan.unit_level, plan.relocated_mode) == (
        "000000", "province", "either")
    assert plan.issued == dt.date(2016, 3, 10)
    assert plan.source == "国办函〔2016〕25号"
    assert [(lv.label, lv.rank, lv.status) for lv in plan.levels] == [
        ("Ⅰ", 1, "checked"), ("Ⅱ", 2, "checked"), ("Ⅲ", 3, "checked"), ("Ⅳ", 4, "checked")]
    assert [c.kind for c in plan.levels[0].criteria] == [
        "threshold", "relocated_or_aid", "houses", "drought"]


def test_national_2024():
    plan = builtin_plans()["national-2024"]
    assert (plan.jurisdiction_code, plan.relocated_mode, plan.source) == (
        "000000", "sum", "国办函〔2024〕11号")
    assert [(lv.label, lv.status) for lv in plan.levels] == [
        ("一级", "checked"), ("二级", "default"), ("三级", "default"), ("四级", "default")]
    sums = [c for lv in plan.levels for c in lv.criteria if isinstance(c, SumCriterion)]
    assert [(c.indicators, c.min) for c in sums] == [
        (("deaths", "missing"), 200), (("deaths", "missing"), 100),
        (("deaths", "missing"), 50), (("deaths", "missing"), 20)]
    links = [c for lv in plan.levels for c in lv.criteria
             if isinstance(c, AdjacentLinkageCriterion)]
    assert [(c.min, c.max) for c in links] == [(160, 200), (80, 100), (40, 50), (16, 20)]


def test_sample_plans_are_labelled():
    plans = builtin_plans()
    shanxi = plans["shanxi-provincial-sample"]
    assert (shanxi.jurisdiction_code, shanxi.unit_level) == ("140000", "province")
    assert [lv.status for lv in shanxi.levels] == ["secondary", "sample", "sample", "sample"]
    first = {c.id: (getattr(c, "min", None), c.status) for c in shanxi.levels[0].criteria}
    assert first["deaths_missing"] == (100, None)
    assert first["relocated"] == (1_000_000, None)
    xinjiang = plans["xinjiang-provincial-sample"]
    assert xinjiang.jurisdiction_code == "650000"
    assert {lv.status for lv in xinjiang.levels} == {"sample"}
    for plan in (shanxi, xinjiang, plans["county-sample"]):
        assert "示例" in plan.name and "SAMPLE" in plan.notes


def test_county_sample_second_level_is_the_checked_example():
    plan = builtin_plans()["county-sample"]
    assert (plan.jurisdiction_code, plan.unit_level) == ("140105", "county")
    second = plan.level(2)
    assert (second.label, second.status) == ("二级", "checked")
    bounds = {c.id: c for c in second.criteria}
    assert bounds["deaths_missing"].min == 5
    assert bounds["relocated"].min == 1_200
    assert (bounds["houses"].rooms_min, bounds["houses"].households_min) == (500, 200)
    assert bounds["drought"] == DroughtCriterion("drought", None, 25_000,
                                                 bounds["drought"].description)
    # The upper bounds of the example are the lower bounds of 一级.
    first = {c.id: c for c in plan.level(1).criteria}
    assert (first["deaths_missing"].min, first["relocated"].min, first["houses"].rooms_min,
            first["houses"].households_min, first["drought"].min) == (10, 2_000, 1_000, 400, 50_000)


def test_builtin_plans_returns_a_fresh_dict():
    plans = builtin_plans()
    plans.pop("national-2016")
    assert "national-2016" in builtin_plans()


# --- schema errors --------------------------------------------------------------------------

def test_every_problem_is_reported_with_its_path():
    data = {
        "id": "Bad Id", "name": "", "jurisdiction_code": 140000, "unit_level": "town",
        "version": "1", "issued": "2024-13-01", "relocated_mode": "both", "colour": "red",
        "levels": [
            {"label": "一级", "rank": 1, "status": "checked", "criteria": [
                {"id": "a", "kind": "threshold", "indicator": "deaths", "min": 5}]},
            {"label": "二级", "rank": 0, "status": "maybe", "criteria": [
                {"id": "a", "kind": "bogus"},
                {"id": "b", "kind": "houses"}]},
            {"label": "三级", "rank": 3, "status": "sample", "criteria": [
                {"id": "c", "kind": "threshold", "indicator": "deaths", "min": -1},
                {"id": "d", "kind": "sum", "indicators": ["deaths", "gone"], "min": "ten"},
                {"id": "e", "kind": "adjacent_linkage", "indicators": ["deaths", "missing"],
                 "min": 20, "max": 10},
                {"id": "f", "kind": "drought", "percent": 130}]},
        ],
        "adjustments": [{"region_code": "5400", "factor": 0, "reason": "x", "extra": 1}],
    }
    with pytest.raises(PlanError) as info:
        load_plan(data)
    assert [str(p) for p in info.value.errors] == [
        "colour: unknown field",
        "id: must match ^[a-z0-9][a-z0-9._-]*$ (got 'Bad Id')",
        "name: must be a non-empty string",
        "jurisdiction_code: must be a non-empty string of 6 digits (quote it in YAML)",
        "unit_level: must be one of province, prefecture, county (got 'town')",
        "issued: must be a date YYYY-MM-DD (got '2024-13-01')",
        "relocated_mode: must be one of either, sum (got 'both')",
        "levels[1].rank: must be an integer ≥ 1 (got 0)",
        "levels[1].status: must be one of checked, secondary, default, sample (got 'maybe')",
        "levels[1].criteria[0].kind: must be one of threshold, sum, relocated_or_aid, houses, "
        "drought, adjacent_linkage (got 'bogus')",
        "levels[1].criteria[1]: needs rooms_min or households_min (or both)",
        "levels[2].criteria[0].min: must be a number ≥ 0 (got -1)",
        "levels[2].criteria[1].indicators[1]: must be an indicator of domain.md §3 (got 'gone')",
        "levels[2].criteria[1].min: must be a number ≥ 0 (got 'ten')",
        "levels[2].criteria[2].max: must be greater than min (20)",
        "levels[2].criteria[3].percent: must be a number > 0 and ≤ 100 (got 130)",
        "adjustments[0].extra: unknown field",
        "adjustments[0].region_code: must match ^\\d{6}(\\d{3}(\\d{3})?)?$ of 6, 9 or 12 digits "
        "(quote it in YAML) (got '5400')",
        "adjustments[0].factor: must be a number > 0 (got 0)",
    ]
    assert info.value.to_list()[11] == {"field": "levels[2].criteria[0].min",
                                        "message": "must be a number ≥ 0 (got -1)"}
    assert "19 problem(s)" in str(info.value)


@pytest.mark.parametrize(("changes", "expected"), [
    ({"levels": []}, ["levels: must be a non-empty list"]),
    ({"levels": [{"label": "一级", "rank": 1, "status": "sample", "criteria": []}]},
     ["levels[0].criteria: must be a non-empty list"]),
    ({"id": None, "issued": None},
     ["id: is required", "issued: is required"]),
    ({"version": ""}, ["version: must be a non-empty string (got '')"]),
    ({"adjustments": {"region_code": "540000"}}, ["adjustments: must be a list"]),
])
def test_smaller_schema_errors(changes, expected):
    with pytest.raises(PlanError) as info:
        load_plan(_minimal(**changes))
    assert [str(p) for p in info.value.errors] == expected


def test_ranks_labels_and_ids_must_be_unique():
    criterion = {"id": "d", "kind": "threshold", "indicator": "deaths", "min": 10}
    levels = [
        {"label": "一级", "rank": 1, "status": "sample", "criteria": [criterion, criterion]},
        {"label": "一级", "rank": 3, "status": "sample", "criteria": [criterion]},
    ]
    adjustments = [{"region_code": "540000", "factor": 0.5, "reason": "a"},
                   {"region_code": "540000", "factor": 0.6, "reason": "b"}]
    with pytest.raises(PlanError) as info:
        load_plan(_minimal(levels=levels, adjustments=adjustments))
    assert [str(p) for p in info.value.errors] == [
        "levels[0].criteria[1].id: duplicate criterion id 'd' in this level",
        "adjustments[1].region_code: duplicate region '540000'",
    ]
    levels[0]["criteria"] = [criterion]
    with pytest.raises(PlanError) as info:
        load_plan(_minimal(levels=levels))
    assert [str(p) for p in info.value.errors] == [
        "levels: ranks must be 1..2, each once (got [1, 3])",
        "levels: duplicate level label '一级'",
    ]


def test_not_a_mapping():
    with pytest.raises(PlanError) as info:
        load_plan(["id"])
    assert [str(p) for p in info.value.errors] == ["must be a mapping (got list)"]
    with pytest.raises(PlanError) as info:
        parse_plan_text("id: [unclosed")
    assert info.value.errors[0].path == ""
    assert info.value.errors[0].message.startswith("not valid YAML or JSON")


def test_defaults_and_generated_descriptions():
    plan = load_plan(_minimal(version=3, levels=[
        {"label": "一级", "rank": 1, "status": "sample", "criteria": [
            {"id": "d", "kind": "sum", "indicators": ["deaths", "missing"], "min": 10},
            {"id": "r", "kind": "relocated_or_aid", "min": 1000},
            {"id": "h", "kind": "houses", "rooms_min": 50},
            {"id": "g", "kind": "drought", "percent": 12.5, "min": 2000},
            {"id": "t", "kind": "threshold", "indicator": "collapsed_rooms", "min": 30}]}]))
    assert plan.relocated_mode == "either"
    assert plan.version == "3"
    assert plan.adjustments == ()
    assert [c.description for c in plan.levels[0].criteria] == [
        "死亡和失踪 10 人以上",
        "紧急转移安置或需紧急生活救助 1,000 人以上",
        "倒塌和严重损坏房屋 50 间以上",
        "因旱需政府救助人口占农牧业人口 12.5%或2,000 人以上",
        "倒塌房屋间数 30 间以上",
    ]
    assert plan.levels[0].criteria[4] == ThresholdCriterion(
        "t", "collapsed_rooms", 30, "倒塌房屋间数 30 间以上")


def test_levels_are_sorted_by_rank():
    criterion = {"id": "d", "kind": "threshold", "indicator": "deaths", "min": 1}
    plan = load_plan(_minimal(levels=[
        {"label": "二级", "rank": 2, "status": "sample", "criteria": [criterion]},
        {"label": "一级", "rank": 1, "status": "sample", "criteria": [criterion]}]))
    assert [lv.label for lv in plan.levels] == ["一级", "二级"]


# --- round trip -----------------------------------------------------------------------------

@pytest.mark.parametrize("plan_id", sorted(SHIPPED))
def test_round_trip(plan_id):
    plan = builtin_plans()[plan_id]
    data = dump_plan(plan)
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert load_plan(data) == plan
    assert parse_plan_text(dump_plan_text(plan, "yaml")) == plan
    assert parse_plan_text(dump_plan_text(plan, "json")) == plan
    assert parse_plan_text(yaml.safe_dump(data, allow_unicode=True)) == plan


def test_round_trip_keeps_adjustments_and_statuses():
    data = dump_plan(builtin_plans()["shanxi-provincial-sample"])
    data["version"] = "2"
    data["adjustments"] = [{"region_code": "140105", "factor": 0.8, "reason": "脆弱地区"}]
    plan = parse_plan_text(json.dumps(data, ensure_ascii=False))
    assert plan.version == "2"
    assert dump_plan(plan) == data


def test_dump_text_rejects_unknown_format():
    with pytest.raises(ValueError, match="format"):
        dump_plan_text(builtin_plans()["national-2016"], "xml")


def test_plan_summary_has_the_api_shape():
    summary = plan_summary(builtin_plans()["national-2016"])
    assert {"id", "name", "jurisdiction_code", "unit_level", "levels"} <= set(summary)
    assert [(lv["level"], lv["rank"]) for lv in summary["levels"]] == [
        ("Ⅰ", 1), ("Ⅱ", 2), ("Ⅲ", 3), ("Ⅳ", 4)]
    assert summary["levels"][3]["criteria"][0] == {
        "id": "deaths", "kind": "threshold", "indicator": "deaths", "min": 20,
        "description": "死亡 20 人以上、50 人以下"}


# --- loaders --------------------------------------------------------------------------------

def test_load_plans_from_a_directory(tmp_path):
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(_minimal(id="a")), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps(_minimal(id="b")), encoding="utf-8")
    (tmp_path / "readme.txt").write_text("not a plan", encoding="utf-8")
    plans = load_plans(tmp_path)
    assert sorted(plans) == ["a", "b"]
    assert load_plan(tmp_path / "a.yaml") == plans["a"]


def test_load_plans_gathers_errors_of_every_file(tmp_path):
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(_minimal(id="a")), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(_minimal(id="a")), encoding="utf-8")
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(_minimal(id="c", unit_level="x")),
                                     encoding="utf-8")
    with pytest.raises(PlanError) as info:
        load_plans(tmp_path)
    assert info.value.errors == [
        Problem("b.yaml:id", "duplicate plan id 'a'"),
        Problem("c.yaml:unit_level", "must be one of province, prefecture, county (got 'x')"),
    ]
