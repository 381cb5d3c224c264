"""Review upward (审核/退回): the level above accepts or returns each unit's latest report with a
reason, a returned unit files a corrected report which is pending again, and the totals show what
is accepted and what is pending."""
from __future__ import annotations

import pytest

from tests.test_responses_support import Reporter, create_event


@pytest.fixture
def world(app, client, auth):
    admin = auth.token("admin", "000000")
    event_id = create_event(client, admin, ["140105", "140106"])
    return {"admin": admin, "event": event_id, "reporter": Reporter(client, admin, event_id),
            "prefecture": auth.token("officer", "140100"), "county": auth.token("officer", "140105"),
            "other": auth.token("coordinator", "140200")}


def state(client, world, region="140100", who="prefecture"):
    response = client.get(f"/api/v1/events/{world['event']}/reviews?region_code={region}", headers=world[who])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def review(client, world, who="prefecture", **body):
    return client.post(f"/api/v1/events/{world['event']}/reviews", headers=world[who], json=body)


def unit(result, code):
    return next(u for u in result["units"] if u["region_code"] == code)


def test_return_with_reason_then_corrected_and_accepted(client, world):
    world["reporter"]("140105", deaths=2)
    world["reporter"]("140106", deaths=1, affected_population=500)
    assert unit(state(client, world), "140105")["status"] == "pending"
    no_reason = review(client, world, region_code="140105", decision="return")
    assert no_reason.status_code == 422 and no_reason.get_json()["errors"][0]["field"] == "reason"
    returned = review(client, world, region_code="140105", decision="return", reason="死亡人数与名册不符，请核实")
    assert returned.status_code == 201, returned.get_json()
    result = state(client, world)
    assert unit(result, "140105")["status"] == "returned"
    assert unit(result, "140105")["review"]["reason"] == "死亡人数与名册不符，请核实"
    # the returned report cannot be accepted: the unit must correct and resend
    assert review(client, world, region_code="140105", decision="accept").status_code == 409
    # the county sees why
    own = state(client, world, region="140105", who="county")["own"]
    assert own["status"] == "returned" and own["last_review"]["reason"].startswith("死亡人数")
    world["reporter"]("140105", deaths=3)
    assert unit(state(client, world), "140105")["status"] == "pending"
    accepted = review(client, world, region_code="140105", decision="accept")
    assert accepted.status_code == 201
    result = state(client, world)
    assert unit(result, "140105")["status"] == "accepted"
    assert result["accepted"]["units"] == 1 and result["accepted"]["figures"]["deaths"] == 3
    assert result["pending"]["units"] == 1 and result["pending"]["figures"]["deaths"] == 1
    assert state(client, world, region="140105", who="county")["own"]["status"] == "accepted"


def test_only_the_level_above_reviews(client, world):
    world["reporter"]("140105", deaths=1)
    assert review(client, world, who="county", region_code="140105", decision="accept").status_code == 403
    assert review(client, world, who="other", region_code="140105", decision="accept").status_code == 403
    assert review(client, world, region_code="140106", decision="accept").status_code == 404
    bad = review(client, world, region_code="1401", decision="maybe")
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"region_code", "decision"}


def test_a_review_of_a_superseded_report_is_refused(client, world):
    first = world["reporter"]("140105", deaths=1)
    world["reporter"]("140105", deaths=2)
    stale = review(client, world, region_code="140105", decision="accept", report_id=first["id"])
    assert stale.status_code == 409


def test_the_units_are_the_top_reporting_regions(client, world):
    world["reporter"]("140105001200", deaths=1)
    world["reporter"]("140106", missing=1)
    assert [u["region_code"] for u in state(client, world)["units"]] == ["140105001200", "140106"]
    world["reporter"]("140105", deaths=1)
    assert [u["region_code"] for u in state(client, world)["units"]] == ["140105", "140106"]
    # the county reviews its village
    assert [u["region_code"] for u in state(client, world, "140105", "county")["units"]] == ["140105001200"]
    assert review(client, world, who="county", region_code="140105001200", decision="accept").status_code == 201


def test_a_returned_verified_report_reopens_the_unit_for_a_corrected_one(client, world):
    world["reporter"]("140105", deaths=1)
    final = {"region_code": "140105", "kind": "final", "figures": {"affected_population": 1_000_000, "deaths": 1},
             "note": "核报"}
    url = f"/api/v1/events/{world['event']}/reports"
    from datetime import datetime, timezone

    now = lambda: datetime.now(timezone.utc).isoformat()  # noqa: E731
    assert client.post(url, headers=world["admin"], json={**final, "as_of": now()}).status_code == 201
    # closed by its 核报
    assert client.post(url, headers=world["admin"], json={**final, "as_of": now()}).status_code == 409
    assert review(client, world, region_code="140105", decision="return", reason="核报死亡人数有误").status_code == 201
    corrected = client.post(url, headers=world["admin"], json={
        **final, "as_of": now(), "figures": {"affected_population": 1_000_000, "deaths": 2}})
    assert corrected.status_code == 201, corrected.get_json()
    # the corrected 核报 closes the unit again, and is pending review
    assert client.post(url, headers=world["admin"], json={**final, "as_of": now()}).status_code == 409
    assert unit(state(client, world), "140105")["status"] == "pending"


def test_text_descriptions_and_the_photo_rule_are_tracked_per_unit(app, client, world, auth):
    from tests.test_reports_photos import png
    from tests.test_responses_support import load_plans

    report = world["reporter"]("140105", deaths=1)
    needs = unit(state(client, world), "140105")["requirements"]
    assert needs["descriptions"] == {"disaster": None, "relief": None}
    assert needs["photos"] == {"count": 0, "required": 0, "met": True} and needs["met"] is False
    url = f"/api/v1/events/{world['event']}/texts"
    bad = client.post(url, headers=world["county"], json={"region_code": "140106", "kind": "other", "text": " "})
    assert bad.status_code == 403
    bad = client.post(url, headers=world["county"], json={"region_code": "140105", "kind": "other", "text": " "})
    assert bad.status_code == 422 and {e["field"] for e in bad.get_json()["errors"]} == {"kind", "text"}
    for kind, text in (("disaster", "7月20日夜突降暴雨，山洪冲毁河堤"), ("relief", "转移安置群众200人，调拨帐篷50顶")):
        assert client.post(url, headers=world["county"], json={"region_code": "140105", "kind": kind,
                                                               "text": text}).status_code == 201
    assert client.post(url, headers=world["county"], json={"region_code": "140105", "kind": "disaster",
                                                           "text": "更正：7月20日夜暴雨"}).status_code == 201
    needs = unit(state(client, world), "140105")["requirements"]
    assert needs["descriptions"]["disaster"] == "更正：7月20日夜暴雨" and needs["met"] is True
    # once a response is in force, each unit needs at least 3 photos
    load_plans(app)
    started = client.post(f"/api/v1/events/{world['event']}/responses", headers=auth.token("coordinator", "140000"),
                          json={"plan_id": "shanxi-provincial-sample", "region_code": "140000", "level": "四级",
                                "action": "start", "reason": "会商研判（测试）"})
    assert started.status_code == 201, started.get_json()
    needs = unit(state(client, world), "140105")["requirements"]
    assert needs["photos"] == {"count": 0, "required": 3, "met": False} and needs["met"] is False
    for seed in range(3):
        import io

        uploaded = client.post(f"/api/v1/events/{world['event']}/reports/{report['id']}/photos",
                               headers=world["county"], data={"file": (io.BytesIO(png(seed)), f"{seed}.png")},
                               content_type="multipart/form-data")
        assert uploaded.status_code == 201, uploaded.get_json()
    assert unit(state(client, world), "140105")["requirements"]["met"] is True
