"""Every input is a 4xx naming the field, never a 500 (issue 12, item 4): the one validation
path (``Field``), the input guard before every request, bounded ids and list arguments, and each
server error the attack report listed."""
from __future__ import annotations

import math
from datetime import date

import pytest

from app.validation import INT_BOUNDS, Field, control_character
from tests.test_cycles_support import make_event as make_cycle_event
from tests.test_cycles_support import make_household
from tests.test_depots_api import make_depot

API = "/api/v1"


def convert(spec: Field, value, name: str = "f"):
    errors: list[dict] = []
    return spec.convert(name, value, errors), errors


# --- Field: the one place that knows types, bounds and control characters ----------------------

@pytest.mark.parametrize("text, multiline, found", [
    ("王某", False, None), ("a\u0000b", False, "U+0000"), ("a\u000bb", True, "U+000B"),
    ("line\nnext\ttab\r", True, None), ("line\nnext", False, "U+000A"), ("\u007f", True, "U+007F"),
    ("\u0085", True, "U+0085"), ("\ud800", True, "U+D800"), ("全角（）", False, None),
])
def test_control_characters(text, multiline, found):
    assert control_character(text, multiline) == found


def test_text_refuses_control_characters_and_allows_line_breaks_only_where_multiline():
    assert convert(Field("str"), "a\u0000")[1] == [{"field": "f", "message": "不能包含控制字符（U+0000）"}]
    assert convert(Field("str"), "two\nlines")[1][0]["message"] == "不能包含控制字符（U+000A）"
    assert convert(Field("str", multiline=True), " two\nlines ") == ("two\nlines", [])
    assert convert(Field("str", max_length=3), "abcd")[1][0]["message"] == "长度不能超过 3"
    assert convert(Field("str"), "x" * 10_001)[1][0]["message"] == "长度不能超过 10000"  # a default bound
    assert convert(Field("str"), "   ")[1][0]["message"] == "不能为空"


@pytest.mark.parametrize("value", [{}, [], [None], 7, True, None])
def test_a_value_of_the_wrong_json_type_is_named_never_used(value):
    for kind in ("str", "code", "date", "datetime"):
        result, errors = convert(Field(kind), value, "damage_class")
        assert result is None and errors[0]["field"] == "damage_class"
    _, errors = convert(Field("str", choices=("a", "b")), {}, "tier")
    assert errors == [{"field": "tier", "message": "必须是字符串"}]


def test_integers_are_bounded_by_their_column():
    low32, high32 = INT_BOUNDS[32]
    assert convert(Field("int"), high32) == (high32, [])
    assert convert(Field("int"), high32 + 1)[1][0]["message"] == f"不能大于 {high32}"
    assert convert(Field("int"), low32 - 1)[1][0]["message"] == f"不能小于 {low32}"
    assert convert(Field("int", bits=64), 2**40) == (2**40, [])
    assert convert(Field("int", bits=64), 2**63)[1]
    assert convert(Field("int", min=1, max=99), 100)[1][0]["message"] == "不能大于 99"
    assert convert(Field("int"), 10**30)[1] and convert(Field("int"), 2.5)[1] and convert(Field("int"), True)[1]
    assert convert(Field("int"), 3.0) == (3, [])


def test_numbers_are_finite_and_bounded():
    assert convert(Field("number"), 1.5) == (1.5, [])
    assert convert(Field("number"), math.inf)[1][0]["message"].startswith("必须是有限的数字")
    assert convert(Field("number"), 1e300)[1][0]["message"] == "不能大于 1000000000000000"
    assert convert(Field("number", min=-180, max=180), -181)[1][0]["message"] == "不能小于 -180"


def test_dates_and_times_within_sensible_years():
    assert convert(Field("date"), "2026-07-06") == (date(2026, 7, 6), [])
    assert convert(Field("date"), "0001-01-01")[1][0]["message"] == "年份必须在 1900–2199 之间"
    assert convert(Field("datetime"), "0001-01-01T00:00:00")[1]  # would underflow converting to UTC
    assert convert(Field("datetime"), "tomorrow")[1][0]["field"] == "f"


def test_list_elements_are_checked_and_named():
    spec = Field("list", items="code")
    assert convert(spec, ["140105", "140105000000"]) == (["140105", "140105"], [])
    result, errors = convert(spec, [None, {}, "12"], "region_codes")
    assert result is None
    assert [e["field"] for e in errors] == ["region_codes[0]", "region_codes[1]", "region_codes[2]"]
    assert convert(Field("list", max_items=2), [1, 2, 3])[1][0]["message"] == "最多 2 项"


def test_field_documents_what_it_accepts():
    schema = Field("int", min=1).openapi()
    assert schema == {"type": "integer", "minimum": 1, "maximum": INT_BOUNDS[32][1]}
    text = Field("str", max_length=60).openapi()
    assert text["maxLength"] == 60 and "\\u0000" in text["pattern"]
    assert Field("code").openapi()["pattern"] == r"^\d{6}(\d{3}){0,2}$"


# --- the attack report's server errors, each a 4xx naming the field ---------------------------

def test_nul_in_the_token_request_before_login(client, auth):
    auth.user("admin", "000000", "alice")
    response = client.post(f"{API}/auth/token", json={"username": "alice\u0000", "password": "x"})
    assert response.status_code == 422
    assert response.get_json()["errors"] == [{"field": "username", "message": "不能包含控制字符（U+0000）"}]


@pytest.mark.parametrize("path", [
    "/events/1099511627776", "/events/2147483648/reports", "/events/" + "9" * 40,
    "/dispatches/99999999999", "/households/1099511627776", "/cycles/2147483648",
])
def test_ids_beyond_their_column_are_404(client, auth, path):
    response = client.get(API + path, headers=auth.token("admin", "000000"))
    assert response.status_code == 404, response.get_json()
    assert response.content_type == "application/problem+json"


def test_page_ids_beyond_their_column_are_404(client, auth):
    auth.login("admin", "000000")
    assert client.get("/events/1099511627776").status_code == 404


@pytest.mark.parametrize("query, field", [
    ("offset=1000000000000000000000", "offset"), ("limit=1000000000000000000000", "limit"),
    ("limit=-1", "limit"), ("offset=abc", "offset"), ("status=%00", "status"),
])
def test_list_arguments_are_bounded(client, auth, query, field):
    response = client.get(f"{API}/events?{query}", headers=auth.token("admin", "000000"))
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == [field]


def test_a_control_character_in_a_region_code_argument_is_named(client, auth):
    headers = auth.token("admin", "000000")
    for path in ("/depots?region_code=%0B", "/households?region_code=%0B", "/audit?region_code=%0B",
                 "/demand-norms?region_code=001544308068"):
        response = client.get(API + path, headers=headers)
        assert response.status_code == 422, path
        assert response.get_json()["errors"][0]["field"] == "region_code"


def test_the_guard_answers_in_the_users_language(client, auth):
    response = client.get(f"{API}/depots?lang=en&region_code=%0B", headers=auth.token("admin", "000000"))
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {"field": "region_code", "message": "must not contain a control character (U+000B)"}]


def test_event_id_beyond_its_column_in_a_dispatch(app, client, auth):
    make_depot(app, stock={"tent": 10})
    response = client.post(f"{API}/dispatches", headers=auth.token("admin", "000000"), json={
        "event_id": 10**20, "from_depot": "XD-140105", "to_region_code": "140105",
        "lines": [{"item": "tent", "quantity": 1}], "to_depot": [None]})
    assert response.status_code == 422
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert fields == {"event_id", "to_depot"}


@pytest.mark.parametrize("method, path, body, field", [
    ("post", "/households", {"village_code": "140105001200", "head_name": "王某", "id_number": "x",
                             "members": 3, "damage_class": {}}, "damage_class"),
    ("patch", "/households/{household}", {"damage_class": {}}, "damage_class"),
    ("patch", "/households/{household}", {"members": 10**12}, "members"),
    ("post", "/depots", {"code": "D1", "name": "库", "tier": {}, "region_code": "140105", "lon": 112.5,
                         "lat": 37.7}, "tier"),
    ("post", "/depots", {"code": "D1", "name": "库", "tier": "county", "region_code": "140105", "lon": 1e300,
                         "lat": 37.7}, "lon"),
    ("post", "/events", {"name": "x", "hazard": "flood", "started_at": "2026-07-06T08:00:00+08:00",
                         "region_codes": [None]}, "region_codes[0]"),
    ("post", "/funds", {"code": "F", "name": "资金", "level": {}, "region_code": "140105", "year": 2025},
     "level"),
    ("post", "/funds", {"code": "F", "name": "资金", "level": "central", "region_code": "140105", "year": 2025,
                        "lines": [{"relief_item": {}, "amount": 1}]}, "lines[0].relief_item"),
    ("post", "/funds", {"code": "F", "name": "资金", "level": "central", "region_code": "140105", "year": 2025,
                        "lines": [{"relief_item": "transitional", "amount": 1e300}]}, "lines[0].amount"),
    ("post", "/supply-requests", {"from_region_code": "140105", "reason": "缺帐篷", "to_depot": 10**30,
                                  "lines": [{"item": "tent", "quantity": 1}]}, "to_depot"),
])
def test_wrong_types_in_bodies_are_named(app, client, auth, method, path, body, field):
    make_depot(app, stock={"tent": 10})
    household = make_household(app)
    response = getattr(client, method)(API + path.format(household=household), json=body,
                                       headers=auth.token("admin", "000000"))
    assert response.status_code == 422, response.get_json()
    assert field in {e["field"] for e in response.get_json()["errors"]}


def test_winter_spring_year_zero(client, auth):
    headers = auth.token("admin", "000000")
    for path in ("/winter-spring/0/deadlines", "/winter-spring/0/needs", "/winter-spring/57343/deadlines"):
        response = client.get(API + path, headers=headers)
        assert response.status_code == 422, path
        assert response.get_json()["errors"][0]["field"] == "year"
    assert client.get(f"{API}/winter-spring/2025/deadlines", headers=headers).status_code == 200


def test_report_figures_are_bounded_by_the_configured_ceiling(app, client, auth):
    event_id = make_cycle_event(app)
    headers = auth.token("admin", "000000")
    body = {"region_code": "140105001200", "kind": "initial", "as_of": "2025-07-10T09:00:00+08:00",
            "figures": {"affected_population": 10**30, "direct_loss_10k_cny": 1e30}}
    response = client.post(f"{API}/events/{event_id}/reports", json=body, headers=headers)
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.get_json()["errors"]}
    assert errors["figures.affected_population"] == "受灾人口不能超过 1000000000（上限 REPORT_FIGURE_MAX）"
    assert "figures.direct_loss_10k_cny" in errors
    app.config["REPORT_FIGURE_MAX"] = 100
    body["figures"] = {"affected_population": 101}
    assert client.post(f"{API}/events/{event_id}/reports", json=body, headers=headers).status_code == 422
    body["figures"] = {"affected_population": 100}
    assert client.post(f"{API}/events/{event_id}/reports", json=body, headers=headers).status_code == 201


def test_json_nested_too_deep(client, auth):
    body = "[" * 100_000 + "]" * 100_000
    response = client.post(f"{API}/events", data=body, content_type="application/json",
                           headers=auth.token("admin", "000000"))
    assert response.status_code == 422
    shallow_enough = "[" * 70 + "]" * 70
    response = client.post(f"{API}/events", data=shallow_enough, content_type="application/json",
                           headers=auth.token("admin", "000000"))
    assert response.status_code == 422  # refused by the guard's depth, not a RecursionError


def test_a_plan_text_with_nul(client, auth):
    response = client.post(f"{API}/plans", data="id: x\u0000", content_type="text/yaml",
                           headers=auth.token("admin", "000000"))
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "text"


# --- pages: a 4xx or a flashed message, never a 500 ----------------------------------------------

def test_a_nul_in_a_page_form_field(client, auth):
    auth.user("admin", "000000", "bob")
    response = client.post("/login", data={"username": "bob\u0000", "password": "x"})
    assert response.status_code == 422
    assert "不能包含控制字符" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/events?status=%00", "/cycles/households?q=%00", "/depots/?tier=%00",
                                  "/cycles/funds?year=99999999999999999999999"])
def test_a_nul_or_a_huge_number_in_a_page_query(client, auth, path):
    auth.login("admin", "000000")
    response = client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code)
