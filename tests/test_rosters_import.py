"""The rosters in Excel: a round trip through the national layout (write, import, export, read),
an import naming every bad row, and the roster of damaged houses against the house figures of
核报 (its consistency rule)."""
from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest

from app import idcard
from app.rosters import excel
from tests.test_responses_support import Reporter, create_event
from tests.test_rosters_casualties import id_number, person


@pytest.fixture
def world(app, client, auth):
    admin = auth.token("admin", "000000")
    event_id = create_event(client, admin, ["140105"])
    return {"admin": admin, "event": event_id, "coordinator": auth.token("coordinator", "140105"),
            "clerk": auth.token("officer", "140105001")}


def workbook(app, roster: str, rows: list[dict]) -> bytes:
    from app.reports import Event
    from app.extensions import db

    with app.test_request_context():
        event = db.session.get(Event, 1)
        return excel.write_roster(roster, event, rows, {}, exported_by="test")


def upload(client, world, kind: str, content: bytes, who="coordinator"):
    return client.post(f"/api/v1/events/{world['event']}/{kind}/import", headers=world[who],
                       data={"file": (io.BytesIO(content), "roster.xlsx")}, content_type="multipart/form-data")


def people(n: int) -> list[dict]:
    return [{**person(i, status="missing" if i % 3 == 0 else "dead", age=None), "hazard": "flood"}
            for i in range(1, n + 1)]


def test_casualty_roster_round_trip(app, client, world):
    rows = people(12)
    response = upload(client, world, "casualties", workbook(app, "casualty", rows))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["imported"] == 12
    exported = client.get(f"/api/v1/events/{world['event']}/casualties.xlsx", headers=world["coordinator"])
    assert exported.status_code == 200
    with app.app_context():
        back = excel.read_roster("casualty", exported.data)
    fields = ("region_code", "name", "sex", "id_number", "address", "occurred_on", "place", "cause", "hazard", "status")
    assert [{f: r[f] for f in fields} for r in back] == [{f: r[f] for f in fields} for r in rows]
    # an officer's export masks the numbers, so it cannot be imported as it is
    masked = client.get(f"/api/v1/events/{world['event']}/casualties.xlsx", headers=world["clerk"])
    with app.app_context():
        assert all("*" in r["id_number"] for r in excel.read_roster("casualty", masked.data))


def test_import_names_every_bad_row_and_writes_nothing(app, client, world):
    assert client.post(f"/api/v1/events/{world['event']}/casualties", headers=world["admin"],
                       json=person(50)).status_code == 201
    rows = people(6)
    rows[1]["id_number"] = rows[1]["id_number"][:-1] + ("1" if rows[1]["id_number"][-1] != "1" else "2")
    rows[2]["region_code"] = "140212"
    rows[3]["id_number"] = rows[0]["id_number"]  # duplicate within the file
    rows[4]["id_number"] = id_number(50)  # already on the roster
    rows[5]["sex"] = "不详"
    response = upload(client, world, "casualties", workbook(app, "casualty", rows))
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    # rows are spreadsheet rows: the data start on row 4
    assert {(e["row"], e["field"].split(".")[1]) for e in errors} == {
        (5, "id_number"), (6, "region_code"), (7, "id_number"), (8, "id_number"), (9, "sex")}
    listed = client.get(f"/api/v1/events/{world['event']}/casualties", headers=world["admin"]).get_json()
    assert listed["total"] == 1


def test_import_refuses_what_is_not_a_roster(client, world):
    response = upload(client, world, "casualties", b"not a workbook")
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "file"
    response = client.post(f"/api/v1/events/{world['event']}/casualties/import", headers=world["coordinator"])
    assert response.status_code == 422


def house(n: int, damage_class: str = "collapsed", rooms: int = 3, region: str = "140105001200") -> dict:
    return {"region_code": region, "head_name": f"李{n}", "id_number": id_number(n, born="19700505"),
            "address": "示例一村", "rooms": rooms, "damage_class": damage_class}


def house_check(client, world, region="140105"):
    response = client.get(f"/api/v1/events/{world['event']}/damaged-houses/consistency?region_code={region}",
                          headers=world["coordinator"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()["unit"]


def test_house_roster_agrees_with_the_verified_report_or_says_why(client, world):
    url = f"/api/v1/events/{world['event']}/damaged-houses"
    for body in (house(1, rooms=3), house(2, rooms=2), house(1, "severe", rooms=1)):
        assert client.post(url, headers=world["clerk"], json=body).status_code == 201
    again = client.post(url, headers=world["clerk"], json=house(1, rooms=5))
    assert again.status_code == 422 and again.get_json()["errors"][0]["field"] == "id_number"
    unit = house_check(client, world)
    assert unit["roster"]["collapsed_households"] == 2 and unit["roster"]["collapsed_rooms"] == 5
    assert unit["roster"]["severely_damaged_households"] == 1
    assert unit["status"] == "no_report"
    reporter = Reporter(client, world["admin"], world["event"])
    reporter("140105", collapsed_households=2, collapsed_rooms=5)
    assert house_check(client, world)["status"] == "not_due"  # differs, but no 核报 yet
    final = client.post(f"/api/v1/events/{world['event']}/reports", headers=world["admin"], json={
        "region_code": "140105", "kind": "final", "as_of": datetime.now(timezone.utc).isoformat(),
        "figures": {"affected_population": 1_000_000, "collapsed_households": 2, "collapsed_rooms": 5},
        "note": "核报"})
    assert final.status_code == 201, final.get_json()
    assert house_check(client, world)["status"] == "unexplained"
    note = client.post(f"/api/v1/events/{world['event']}/roster-notes", headers=world["coordinator"], json={
        "region_code": "140105", "roster": "housing", "text": "一户严重损坏经复核为一般损坏，报表已按复核数填报"})
    assert note.status_code == 201
    assert house_check(client, world)["status"] == "explained"


def test_house_roster_round_trip(app, client, world):
    rows = [house(1), house(2, "general", 4), house(1, "severe", 1)]
    response = upload(client, world, "damaged-houses", workbook(app, "housing", rows))
    assert response.status_code == 201, response.get_json()
    exported = client.get(f"/api/v1/events/{world['event']}/damaged-houses.xlsx", headers=world["coordinator"])
    with app.app_context():
        back = excel.read_roster("housing", exported.data)
    key = lambda r: (r["id_number"], r["damage_class"])  # noqa: E731
    assert sorted(({k: r[k] for k in rows[0]} for r in back), key=key) == sorted(rows, key=key)
    assert idcard.mask_id(rows[0]["id_number"]).startswith("1401")


def test_township_breakdown_round_trip(app, client, world, auth):
    reporter = Reporter(client, world["admin"], world["event"])
    reporter("140105001200", affected_population=300, deaths=1)
    reporter("140105001201", affected_population=200, missing=1)
    prefecture = auth.token("officer", "140100")
    exported = client.get(f"/api/v1/events/{world['event']}/breakdown.xlsx?region_code=140100", headers=prefecture)
    assert exported.status_code == 200
    with app.app_context():
        rows = excel.read_breakdown(exported.data)
    assert [(r["region_code"], r["level"]) for r in rows] == [("140105", "县"), ("140105001", "乡镇")]
    for row in rows:
        totals = client.get(f"/api/v1/events/{world['event']}/totals?region_code={row['region_code']}",
                            headers=prefecture).get_json()
        assert row["figures"] == totals["figures"]
    assert rows[1]["figures"]["affected_population"] == 500 and rows[1]["figures"]["deaths"] == 1
    # outside the jurisdiction: refused
    other = auth.token("officer", "140200")
    assert client.get(f"/api/v1/events/{world['event']}/breakdown.xlsx?region_code=140100",
                      headers=other).status_code == 403


def test_exchange_file_round_trip(client, world, auth):
    reporter = Reporter(client, world["admin"], world["event"])
    reporter("140105001200", affected_population=300, deaths=1)
    reporter("140105", affected_population=900, deaths=2)
    reporter("140105", affected_population=1200, deaths=3)
    prefecture = auth.token("officer", "140100")
    assert client.post(f"/api/v1/events/{world['event']}/reviews", headers=prefecture,
                       json={"region_code": "140105", "decision": "accept"}).status_code == 201
    exported = client.get(f"/api/v1/events/{world['event']}/exchange", headers=world["admin"]).get_json()
    assert exported["format"] == "jiuzai-event-exchange" and len(exported["reports"]) == 3
    # by region, oldest first; the county's latest report carries its acceptance
    assert [(r["region_code"], r["sequence"], r["kind"]) for r in exported["reports"]] == [
        ("140105", 1, "initial"), ("140105", 2, "update"), ("140105001200", 1, "initial")]
    assert exported["reports"][0]["review"] is None
    assert exported["reports"][1]["review"]["decision"] == "accept"
    assert exported["reports"][1]["figures"]["deaths"] == 3
    # another system: an event over the same regions takes the file
    other = create_event(client, world["admin"], ["140105"], name="接收方的同一灾害过程")
    url = f"/api/v1/events/{other}/exchange"
    assert client.post(url, headers=world["admin"], json={**exported, "version": 2}).status_code == 422
    imported = client.post(url, headers=world["admin"], json=exported)
    assert imported.status_code == 201, imported.get_json()
    assert imported.get_json()["imported"] == 3
    again = client.get(f"/api/v1/events/{other}/exchange", headers=world["admin"]).get_json()
    keep = ("region_code", "kind", "sequence", "as_of", "figures", "note")
    assert [{k: r[k] for k in keep} for r in again["reports"]] == [{k: r[k] for k in keep} for r in exported["reports"]]
    # the same file again breaks the sequence (a second initial report): nothing is filed
    refused = client.post(url, headers=world["admin"], json=exported)
    assert refused.status_code in (409, 422)
    assert len(client.get(f"/api/v1/events/{other}/exchange", headers=world["admin"]).get_json()["reports"]) == 3
