"""上下级衔接: lower plans below their parent's tier are flagged."""
import json

import pytest

from gis.codes import ancestors
from response_levels import ActiveResponse, Misalignment, misaligned_responses, rank_zh


def _flags(active, jurisdictions=None):
    return [(m.jurisdiction_code, m.kind, m.rank, m.required_rank, m.parent_jurisdiction_code)
            for m in misaligned_responses(active, ancestors, jurisdictions)]


def test_national_covers_every_province():
    active = [ActiveResponse("000000", "national-2024", 2),
              ActiveResponse("140000", "shanxi-provincial-sample", 3),
              ActiveResponse("650000", "xinjiang-provincial-sample", 2),
              ActiveResponse("540000", "tibet", 1)]
    assert _flags(active) == [("140000", "below_parent", 3, 2, "000000")]


def test_the_highest_covering_tier_is_required():
    active = [ActiveResponse("000000", "national-2024", 2),
              ActiveResponse("140000", "shanxi-provincial-sample", 3),
              ActiveResponse("140100", "taiyuan", 4),
              ActiveResponse("140105", "county-sample", 2),
              ActiveResponse("140106", "yingze", 3)]
    assert _flags(active) == [
        ("140000", "below_parent", 3, 2, "000000"),
        ("140100", "below_parent", 4, 2, "000000"),
        ("140106", "below_parent", 3, 2, "000000"),
    ]


def test_nearest_covering_jurisdiction_is_named_on_a_tie():
    active = [ActiveResponse("000000", "national-2024", 2),
              ActiveResponse("140000", "shanxi-provincial-sample", 2),
              ActiveResponse("140105", "county-sample", 3)]
    [flag] = misaligned_responses(active, ancestors)
    assert flag == Misalignment(
        jurisdiction_code="140105", kind="below_parent", plan_id="county-sample", rank=3,
        required_rank=2, parent_jurisdiction_code="140000",
        parent_plan_id="shanxi-provincial-sample",
        message=("140105 启动的是三级响应（county-sample），低于上级 140000 的二级响应"
                 "（shanxi-provincial-sample）；按上下级衔接，应不低于二级。"),
        message_en=("140105 responds at rank 3 (county-sample), below rank 2 of covering "
                    "jurisdiction 140000 (shanxi-provincial-sample); it should respond at "
                    "rank 2 or higher."))


def test_aligned_responses_are_not_flagged():
    active = [ActiveResponse("140000", "shanxi-provincial-sample", 3),
              ActiveResponse("140100", "taiyuan", 3),
              ActiveResponse("140105", "county-sample", 1),
              ActiveResponse("650000", "xinjiang-provincial-sample", 4)]
    assert misaligned_responses(active, ancestors) == []
    assert misaligned_responses([], ancestors, ["140105"]) == []


def test_the_highest_of_several_responses_of_one_jurisdiction_counts():
    active = [ActiveResponse("000000", "national-2016", 4),
              ActiveResponse("000000", "national-2024", 2),
              ActiveResponse("140000", "a", 4),
              ActiveResponse("140000", "b", 2),
              ActiveResponse("650000", "c", 3)]
    assert _flags(active) == [("650000", "below_parent", 3, 2, "000000")]


def test_jurisdictions_without_a_response():
    active = [ActiveResponse("140000", "shanxi-provincial-sample", 2),
              ActiveResponse("140105", "county-sample", 2)]
    should = ["140105", "140106", "140100", "650000", "140106"]
    assert _flags(active, should) == [
        ("140100", "no_response", None, 2, "140000"),
        ("140106", "no_response", None, 2, "140000"),
    ]
    flag = misaligned_responses(active, ancestors, ["140106"])[0]
    assert flag.message == ("140106 未启动响应，而上级 140000 已启动二级响应"
                            "（shanxi-provincial-sample）；按上下级衔接，应启动不低于二级的响应。")
    assert flag.plan_id is None


def test_national_itself_is_never_flagged():
    active = [ActiveResponse("000000", "national-2016", 4)]
    assert misaligned_responses(active, ancestors, ["000000", "140000"]) == [
        misaligned_responses(active, ancestors, ["140000"])[0]]
    assert _flags(active, ["000000", "140000"]) == [("140000", "no_response", None, 4, "000000")]


def test_ancestors_of_is_the_callers():
    # A caller's own hierarchy: "B" covers "A"; the national code still covers everything.
    tree = {"A": ["B"], "B": []}
    active = [ActiveResponse("B", "p", 1), ActiveResponse("A", "q", 2)]
    flags = misaligned_responses(active, lambda code: tree[code])
    assert [(f.jurisdiction_code, f.parent_jurisdiction_code) for f in flags] == [("A", "B")]


def test_to_dict_is_plain_json():
    active = [ActiveResponse("000000", "national-2024", 1), ActiveResponse("140000", "s", 2)]
    data = json.loads(json.dumps([m.to_dict() for m in misaligned_responses(active, ancestors)],
                                 ensure_ascii=False))
    assert data == [{
        "jurisdiction_code": "140000", "kind": "below_parent", "plan_id": "s", "rank": 2,
        "required_rank": 1, "parent_jurisdiction_code": "000000",
        "parent_plan_id": "national-2024",
        "message": ("140000 启动的是二级响应（s），低于上级 000000 的一级响应（national-2024）；"
                    "按上下级衔接，应不低于一级。"),
        "message_en": ("140000 responds at rank 2 (s), below rank 1 of covering jurisdiction "
                       "000000 (national-2024); it should respond at rank 1 or higher."),
    }]


@pytest.mark.parametrize(("rank", "text"), [(1, "一级"), (4, "四级"), (10, "十级"), (12, "12级")])
def test_rank_zh(rank, text):
    assert rank_zh(rank) == text
