"""公安核查: the police department checks the missing persons of the roster; the outcome moves
the person's status (and the counts) or is kept in the audit log; nobody else may do it."""
from __future__ import annotations

import pytest

from tests.test_rosters_casualties import add, person, world  # noqa: F401  (fixture)


@pytest.fixture
def missing(client, world):  # noqa: F811
    ids = []
    for n in (1, 2, 3):
        response = add(client, world, person(n, status="missing"))
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    return ids


def _check(client, casualty_id, outcome, reference="公核 2026-07", **extra):
    return client.post(f"/departments/missing/{casualty_id}/check",
                       data={"outcome": outcome, "reference": reference, **extra}, follow_redirects=True)


def test_the_police_see_the_missing_with_full_id_numbers_and_record_outcomes(client, auth, world, missing):  # noqa: F811
    from tests.test_rosters_casualties import id_number

    auth.login("dept_police", "140105", username="police")
    page = client.get("/departments/").get_data(as_text=True)
    assert "失踪人员核查" in page and id_number(1) in page and "张3" in page

    assert "已记录核查结果：张1，已找到，生还" in _check(client, missing[0], "found_alive", note="在亲戚家").get_data(as_text=True)
    assert "已记录核查结果：张2" in _check(client, missing[1], "found_dead").get_data(as_text=True)
    _check(client, missing[2], "still_missing")

    body = client.get(f"/api/v1/events/{world['event']}/casualties", headers=world["county"]).get_json()
    statuses = {row["id"]: row["status"] for row in body["items"]}
    assert statuses == {missing[0]: "found_alive", missing[1]: "dead", missing[2]: "missing"}


def test_each_check_is_audited_with_its_reference_and_a_person_is_checked_once(app, client, auth, world, missing):  # noqa: F811
    from app.models_common import AuditEntry as Entry
    from app.extensions import db

    auth.login("dept_police", "140105", username="police")
    _check(client, missing[2], "still_missing", reference="公核 9")
    _check(client, missing[0], "found_dead", reference="公核 10")
    again = _check(client, missing[0], "found_alive", reference="公核 11").get_data(as_text=True)

    assert "已不是失踪状态" in again
    with app.app_context():
        notes = [e.note for e in db.session.query(Entry).filter_by(action="casualty.police_check").order_by(Entry.id)]
    assert notes == ["公安核查（公核 9）：仍未找到", "公安核查（公核 10）：已找到，确认遇难"]


@pytest.mark.parametrize("role, region, allowed", [
    ("dept_police", "140105", True),
    ("dept_police", "140100", True),
    ("dept_police", "140200", False),  # another prefecture's missing persons
    ("dept_housing", "140105", False),
    ("officer", "140105", False),
    ("coordinator", "140000", False),
])
def test_only_the_police_inside_the_jurisdiction_may_check(client, auth, world, missing, role, region, allowed):  # noqa: F811
    auth.login(role, region, username=f"{role}-{region}")
    response = client.post(f"/departments/missing/{missing[0]}/check",
                           data={"outcome": "found_alive", "reference": "公核 1"}, follow_redirects=True)
    body = client.get(f"/api/v1/events/{world['event']}/casualties", headers=world["county"]).get_json()
    status = {row["id"]: row["status"] for row in body["items"]}[missing[0]]
    assert (status == "found_alive") is allowed
    assert response.status_code in (200, 403)


def test_a_check_needs_an_outcome_and_a_reference(client, auth, world, missing):  # noqa: F811
    auth.login("dept_police", "140105", username="police")
    page = client.post(f"/departments/missing/{missing[0]}/check", data={"outcome": "flew_away"},
                       follow_redirects=True).get_data(as_text=True)
    assert "核查结果有 2 处错误" in page
