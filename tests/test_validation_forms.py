"""A posted page form goes through the same ``Field`` checks as a JSON body
(:func:`app.validation.validate` with a ``MultiDict``): the page and the API refuse the same
input with the same messages, and a blank input is absent, never 0."""
from __future__ import annotations

from werkzeug.datastructures import MultiDict

from app.validation import Field, validate

FIELDS = {"name": Field("str", max_length=5), "count": Field("int", required=False, min=1),
          "share": Field("number", required=False), "ticked": Field("bool", required=False),
          "codes": Field("list", items="code", required=False), "on": Field("date", required=False)}


def test_a_form_reads_as_the_json_body_would():
    values, errors = validate(FIELDS, MultiDict([("name", " 甲 "), ("count", "12"), ("share", "0.5"),
                                                 ("ticked", "on"), ("codes", "140105"), ("codes", "140106000"),
                                                 ("on", "2026-01-02")]))
    assert errors == []
    assert values["name"] == "甲" and values["count"] == 12 and values["share"] == 0.5
    assert values["ticked"] is True and values["codes"] == ["140105", "140106"]
    assert values["on"].isoformat() == "2026-01-02"


def test_blank_is_absent_never_zero_and_unticked_is_false():
    values, errors = validate(FIELDS, MultiDict([("name", "甲"), ("count", "  "), ("share", "")]))
    assert errors == []
    assert values["count"] is None and values["share"] is None and values["ticked"] is False
    assert values["codes"] is None


def test_one_error_per_field_with_the_api_messages():
    form_values, form_errors = validate(FIELDS, MultiDict([("count", "x"), ("codes", "14"), ("name", "")]))
    assert {e["field"] for e in form_errors} == {"count", "codes[0]", "name"}
    assert len(form_errors) == 3
    _, json_errors = validate(FIELDS, {"name": "甲乙丙丁戊己", "count": 0})
    _, same_on_form = validate(FIELDS, MultiDict([("name", "甲乙丙丁戊己"), ("count", "0")]))
    assert json_errors == same_on_form == [{"field": "name", "message": "长度不能超过 5"},
                                           {"field": "count", "message": "不能小于 1"}]


def test_a_control_character_in_a_form_is_refused_by_the_field():
    _, errors = validate(FIELDS, MultiDict([("name", "a\x07b")]))
    assert errors == [{"field": "name", "message": "不能包含控制字符（U+0007）"}]
