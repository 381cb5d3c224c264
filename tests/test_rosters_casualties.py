"""The roster of the dead and missing (因灾死亡失踪人口一览表) through the API: every check of a
row, duplicates across units and events, status changes with their reason, masking, and the
consistency of the roster with the reported deaths and missing (with explanations)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from app import idcard
from tests.test_responses_support import Reporter, create_event


def id_number(n: int, born: str = "19800101", area: str = "140105") -> str:
    return idcard.with_check_character(f"{area}{born}{n:03d}")


def person(n: int, region: str = "140105001200", status: str = "dead", **extra) -> dict:
    body = {"region_code": region, "name": f"张{n}", "sex": "male", "id_number": id_number(n), "age": None,
            "address": "示例一村", "occurred_on": date.today().isoformat(), "place": "河道", "cause": "洪水冲走",
            "status": status}
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def world(app, client, auth):
    admin = auth.token("admin", "000000")
    event_id = create_event(client, admin, ["140105"])
    return {"admin": admin, "event": event_id,
            "clerk": auth.token("officer", "140105001"), "county": auth.token("officer", "140105"),
            "coordinator": auth.token("coordinator", "140100")}


def add(client, world, body, who="clerk", event=None):
    return client.post(f"/api/v1/events/{event or world['event']}/casualties", headers=world[who], json=body)


def check(client, world, region="140105", who="county"):
    response = client.get(f"/api/v1/events/{world['event']}/casualties/consistency?region_code={region}",
                          headers=world[who])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_counts_follow_the_roster_and_agree_once_reported(client, world):
    for n, status in ((1, "dead"), (2, "dead"), (3, "missing")):
        assert add(client, world, person(n, status=status)).status_code == 201
    unit = check(client, world)["unit"]
    assert unit["roster"] == {"deaths": 2, "missing": 1}
    assert unit["report"] == {"deaths": 0, "missing": 0}
    assert unit["status"] == "no_report"  # nothing reported at or below the county yet
    reporter = Reporter(client, world["admin"], world["event"])
    reporter("140105", deaths=1)
    assert check(client, world)["unit"]["status"] == "unexplained"
    reporter("140105", deaths=2, missing=1)
    result = check(client, world)
    assert result["unit"]["status"] == "agrees"
    township = next(c for c in result["children"] if c["region_code"] == "140105001")
    assert township["roster"] == {"deaths": 2, "missing": 1}
    assert township["status"] == "no_report"  # its people are in the county's report


def test_every_bad_field_is_named_at_once(client, world):
    body = person(1, region="140106", id_number=id_number(1)[:-1] + ("0" if id_number(1)[-1] != "0" else "1"),
                  age=12, occurred_on=(date.today() + timedelta(days=2)).isoformat(), sex="x")
    response = add(client, world, body, who="admin")
    assert response.status_code == 422
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert {"region_code", "id_number", "occurred_on", "sex"} <= fields
    # a good number whose birth date disagrees with the age
    response = add(client, world, person(2, age=12), who="admin")
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["age"]
    # a region inside the event that does not exist, and one that only contains the event's
    for region in ("140105001999", "140100"):
        response = add(client, world, person(4, region=region), who="admin")
        assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "region_code"
    # blank is absent, never accepted
    response = add(client, world, {**person(3), "name": "  "}, who="admin")
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "name"


def test_a_clerk_acts_only_inside_the_jurisdiction(client, world, auth):
    other = auth.token("officer", "140106")
    response = client.post(f"/api/v1/events/{world['event']}/casualties", headers=other, json=person(1))
    assert response.status_code == 403
    auditor = auth.token("auditor", "140105")
    assert client.post(f"/api/v1/events/{world['event']}/casualties", headers=auditor,
                       json=person(1)).status_code == 403


def test_duplicates_across_units_and_events_are_caught(client, world):
    assert add(client, world, person(1)).status_code == 201
    same = add(client, world, person(1, region="140105001201"))
    assert same.status_code == 422
    assert same.get_json()["errors"][0]["field"] == "id_number"
    assert "已登记" in same.get_json()["errors"][0]["message"]
    other_event = create_event(client, world["admin"], ["140105"], name="另一次过程")
    again = add(client, world, person(1), who="admin", event=other_event)
    assert again.status_code == 422
    # a lower-case x is the same number
    number = next(idcard.with_check_character(f"14010519800101{n:03d}") for n in range(100, 999)
                  if idcard.with_check_character(f"14010519800101{n:03d}").endswith("X"))
    assert add(client, world, person(9, id_number=number)).status_code == 201
    assert add(client, world, person(10, id_number=number.lower())).status_code == 422


def test_missing_found_alive_or_dead_changes_counts_with_a_reason(client, world):
    first = add(client, world, person(1, status="missing")).get_json()
    second = add(client, world, person(2, status="missing")).get_json()
    url = f"/api/v1/events/{world['event']}/casualties/{{}}/status"
    no_reason = client.post(url.format(first["id"]), headers=world["clerk"], json={"action": "found_alive"})
    assert no_reason.status_code == 422 and no_reason.get_json()["errors"][0]["field"] == "reason"
    alive = client.post(url.format(first["id"]), headers=world["clerk"],
                        json={"action": "found_alive", "reason": "在邻村亲戚家找到"})
    assert alive.status_code == 200
    assert alive.get_json()["status"] == "found_alive"
    assert alive.get_json()["changes"][0]["reason"] == "在邻村亲戚家找到"
    dead = client.post(url.format(second["id"]), headers=world["clerk"],
                       json={"action": "found_dead", "reason": "下游发现遗体，经DNA比对确认"})
    assert dead.get_json()["status"] == "dead"
    assert check(client, world)["unit"]["roster"] == {"deaths": 1, "missing": 0}
    # only a missing person changes status
    again = client.post(url.format(second["id"]), headers=world["clerk"], json={"action": "found_alive", "reason": "x"})
    assert again.status_code == 409


def test_identity_numbers_are_masked_for_roles_that_need_not_see_them(client, world):
    number = add(client, world, person(1)).get_json()
    assert number["id_number_masked"] is True and "*" in number["id_number"]
    clerk = client.get(f"/api/v1/events/{world['event']}/casualties", headers=world["clerk"]).get_json()
    assert clerk["items"][0]["id_number"] == idcard.mask_id(id_number(1))
    staff = client.get(f"/api/v1/events/{world['event']}/casualties", headers=world["coordinator"]).get_json()
    assert staff["items"][0]["id_number"] == id_number(1)
    assert staff["total"] == 1


def test_an_explanation_covers_only_the_counts_it_explains(client, world):
    reporter = Reporter(client, world["admin"], world["event"])
    reporter("140105", deaths=2)
    add(client, world, person(1))
    assert check(client, world)["unit"]["status"] == "unexplained"
    url = f"/api/v1/events/{world['event']}/roster-notes"
    blank = client.post(url, headers=world["county"], json={"region_code": "140105", "roster": "casualty", "text": " "})
    assert blank.status_code == 422
    note = client.post(url, headers=world["county"], json={
        "region_code": "140105", "roster": "casualty", "text": "一名遇难者为外地游客，由其户籍地登记"})
    assert note.status_code == 201, note.get_json()
    unit = check(client, world)["unit"]
    assert unit["status"] == "explained" and unit["explanation"]["text"].startswith("一名遇难者")
    add(client, world, person(2, status="missing"))
    assert check(client, world)["unit"]["status"] == "unexplained"
    # nothing to explain when they agree
    reporter("140105", deaths=1, missing=1)
    same = client.post(url, headers=world["county"], json={"region_code": "140105", "roster": "casualty", "text": "x"})
    assert same.status_code == 422


def test_roster_counts_for_other_areas(app, client, world):
    add(client, world, person(1))
    add(client, world, person(2, status="missing"))
    from app.rosters import roster_counts

    with app.app_context():
        assert roster_counts(world["event"], "140100") == {"deaths": 1, "missing": 1, "found_alive": 0}
