"""Response levels through the API: plans and their versions, and the assessment of a
multi-county event under every plan that covers it."""
from __future__ import annotations

import pytest
import yaml

import response_levels as rl
from app.extensions import db
from app.models_common import AuditEntry
from app.regions.models import Region
from app.responses.models import ContingencyPlan
from tests.test_responses_support import Reporter, by_plan, create_event, load_plans

BUILTIN = ("county-sample", "national-2016", "national-2024", "shanxi-provincial-sample",
           "xinjiang-provincial-sample")


@pytest.fixture
def plans(app):
    load_plans(app)


@pytest.fixture
def shanxi_event(client, auth, plans):
    """A flood over three Shanxi counties in two prefectures, reported county by county."""
    headers = auth.token("coordinator", "140000")
    event_id = create_event(client, headers, ["140105", "140106", "140212"])
    report = Reporter(client, headers, event_id)
    report("140105", deaths=9, missing=3, relocated_population=1500, needing_aid_population=800,
           collapsed_rooms=300, collapsed_households=100, severely_damaged_rooms=250,
           severely_damaged_households=90)
    report("140106", deaths=8, relocated_population=400)
    report("140212", deaths=4, missing=1, relocated_population=200)
    return event_id


# --- Plans ------------------------------------------------------------------------------------

def test_plans_list_is_a_plain_array_with_levels_and_criteria(client, auth, plans):
    response = client.get("/api/v1/plans", headers=auth.token("officer", "140105"))
    assert response.status_code == 200
    body = response.get_json()
    assert isinstance(body, list)
    assert [p["id"] for p in body] == sorted(BUILTIN)
    national = next(p for p in body if p["id"] == "national-2016")
    assert national["jurisdiction_code"] == "000000" and national["unit_level"] == "province"
    assert [(lv["level"], lv["rank"]) for lv in national["levels"]] == [
        ("Ⅰ", 1), ("Ⅱ", 2), ("Ⅲ", 3), ("Ⅳ", 4)]
    deaths = national["levels"][3]["criteria"][0]
    assert (deaths["kind"], deaths["indicator"], deaths["min"]) == ("threshold", "deaths", 20)
    shanxi = next(p for p in body if p["id"] == "shanxi-provincial-sample")
    assert shanxi["jurisdiction_code"] == "140000"


def test_plan_detail_has_versions_and_unknown_plan_is_404(client, auth, plans):
    headers = auth.token("auditor", "140000")
    body = client.get("/api/v1/plans/national-2024", headers=headers).get_json()
    assert body["version"] == "2024" and body["relocated_mode"] == "sum"
    assert [(v["version"], v["active"]) for v in body["versions"]] == [("2024", True)]
    assert client.get("/api/v1/plans/no-such-plan", headers=headers).status_code == 404
    assert client.get("/api/v1/plans/national-2024?version=1999", headers=headers).status_code == 404


def test_plans_need_a_token(client, plans):
    assert client.get("/api/v1/plans").status_code == 401


def _shanxi_v2(**changes) -> dict:
    data = rl.dump_plan(rl.builtin_plans()["shanxi-provincial-sample"])
    data["version"] = "sample-2"
    data["levels"][2]["criteria"][0]["min"] = 30  # 三级 deaths + missing from 20 to 30
    data.update(changes)
    return data


def test_upload_yaml_text_makes_a_new_active_version_and_keeps_the_old(app, client, auth, plans):
    headers = auth.token("admin", "000000")
    text = yaml.safe_dump(_shanxi_v2(), allow_unicode=True)
    response = client.post("/api/v1/plans", headers=headers, json={"text": text})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["version"] == "sample-2" and body["active"] is True
    assert body["levels"][2]["criteria"][0]["min"] == 30
    assert [(v["version"], v["active"]) for v in body["versions"]] == [
        ("sample-1", False), ("sample-2", True)]
    listed = client.get("/api/v1/plans", headers=headers).get_json()
    assert [p["version"] for p in listed if p["id"] == "shanxi-provincial-sample"] == ["sample-2"]
    old = client.get("/api/v1/plans/shanxi-provincial-sample?version=sample-1", headers=headers)
    assert old.get_json()["levels"][2]["criteria"][0]["min"] == 20
    with app.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="plan.upload").one()
        assert entry.entity_id == "shanxi-provincial-sample@sample-2"


def test_upload_raw_yaml_body_and_json_object(client, auth, plans):
    headers = auth.token("admin", "000000")
    raw = client.post("/api/v1/plans", headers={**headers, "Content-Type": "application/yaml"},
                      data=yaml.safe_dump(_shanxi_v2(), allow_unicode=True).encode())
    assert raw.status_code == 201, raw.get_json()
    as_json = client.post("/api/v1/plans", headers=headers, json=_shanxi_v2(version="sample-3"))
    assert as_json.status_code == 201
    assert [v["version"] for v in as_json.get_json()["versions"]] == ["sample-1", "sample-2", "sample-3"]


def test_upload_of_an_existing_version_is_409_and_changes_nothing(app, client, auth, plans):
    headers = auth.token("admin", "000000")
    data = rl.dump_plan(rl.builtin_plans()["national-2016"])
    response = client.post("/api/v1/plans", headers=headers, json={"plan": data})
    assert response.status_code == 409
    assert response.get_json()["errors"] == [{"field": "version", "message": "该版本已存在"}]
    with app.app_context():
        assert db.session.query(ContingencyPlan).filter_by(plan_id="national-2016").count() == 1


def test_upload_schema_errors_are_422_naming_every_path(app, client, auth, plans):
    bad = _shanxi_v2()
    bad["levels"][0]["criteria"][0]["min"] = -5
    bad["levels"][1]["criteria"][1]["kind"] = "guesswork"
    del bad["levels"][3]["rank"]
    bad["unit_level"] = "village"
    response = client.post("/api/v1/plans", headers=auth.token("admin", "000000"),
                           json={"text": yaml.safe_dump(bad, allow_unicode=True)})
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert {"unit_level", "levels[0].criteria[0].min", "levels[1].criteria[1].kind",
            "levels[3].rank"} <= fields
    with app.app_context():
        assert db.session.query(ContingencyPlan).filter_by(
            plan_id="shanxi-provincial-sample").count() == 1


@pytest.mark.parametrize("body, field", [
    ({"text": "levels: [unclosed"}, ""),
    ({"text": ""}, "text"),
])
def test_upload_of_unreadable_or_empty_text_is_422(client, auth, plans, body, field):
    response = client.post("/api/v1/plans", headers=auth.token("admin", "000000"), json=body)
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == [field]


def test_upload_checks_the_jurisdiction_against_the_regions(client, auth, plans):
    headers = auth.token("admin", "000000")
    unknown = client.post("/api/v1/plans", headers=headers,
                          json=_shanxi_v2(id="hebei-sample", jurisdiction_code="130000"))
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.get_json()["errors"]] == ["jurisdiction_code"]
    above = client.post("/api/v1/plans", headers=headers,
                        json=_shanxi_v2(id="xiaodian-wrong", jurisdiction_code="140105",
                                        unit_level="province"))
    assert above.status_code == 422
    assert [e["field"] for e in above.get_json()["errors"]] == ["unit_level"]


@pytest.mark.parametrize("role, region, plan_changes, status", [
    ("admin", "000000", {}, 201),
    ("admin", "140000", {}, 201),                                    # own province
    ("admin", "140000", {"id": "national-x", "jurisdiction_code": "000000"}, 403),
    ("admin", "650000", {}, 403),                                    # another province
    ("coordinator", "000000", {}, 403),
    ("officer", "140000", {}, 403),
    ("auditor", "000000", {}, 403),
])
def test_upload_permissions(client, auth, plans, role, region, plan_changes, status):
    response = client.post("/api/v1/plans", headers=auth.token(role, region),
                           json=_shanxi_v2(**plan_changes))
    assert response.status_code == status, response.get_json()


def test_upload_is_idempotent_by_key(client, auth, plans):
    headers = {**auth.token("admin", "000000"), "Idempotency-Key": "plan-upload-1"}
    first = client.post("/api/v1/plans", headers=headers, json=_shanxi_v2())
    again = client.post("/api/v1/plans", headers=headers, json=_shanxi_v2())
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/plans", headers=headers, json=_shanxi_v2(version="sample-9"))
    assert other.status_code == 409


def test_activation_rolls_back_to_an_old_version_and_retires(client, auth, plans):
    headers = auth.token("admin", "000000")
    client.post("/api/v1/plans", headers=headers, json=_shanxi_v2())
    back = client.post("/api/v1/plans/shanxi-provincial-sample/activation", headers=headers,
                       json={"active": True, "version": "sample-1"})
    assert back.status_code == 200
    assert [(v["version"], v["active"]) for v in back.get_json()["versions"]] == [
        ("sample-1", True), ("sample-2", False)]
    retired = client.post("/api/v1/plans/shanxi-provincial-sample/activation", headers=headers,
                          json={"active": False})
    assert retired.status_code == 200
    ids = [p["id"] for p in client.get("/api/v1/plans", headers=headers).get_json()]
    assert "shanxi-provincial-sample" not in ids
    every = client.get("/api/v1/plans?include_inactive=true", headers=headers).get_json()
    assert any(p["id"] == "shanxi-provincial-sample" and not p["active"] for p in every)
    bad = client.post("/api/v1/plans/shanxi-provincial-sample/activation", headers=headers,
                      json={"active": True, "version": "nope"})
    assert bad.status_code == 422
    assert client.post("/api/v1/plans/nope/activation", headers=headers,
                       json={"active": True}).status_code == 404
    coordinator = auth.token("coordinator", "000000")
    assert client.post("/api/v1/plans/shanxi-provincial-sample/activation", headers=coordinator,
                       json={"active": True}).status_code == 403


# --- Assessment -------------------------------------------------------------------------------

def test_multi_county_event_gets_the_expected_level_and_triggers_for_each_plan(
        client, auth, shanxi_event):
    response = client.get(f"/api/v1/events/{shanxi_event}/assessment",
                          headers=auth.token("officer", "140105"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["event_id"] == shanxi_event
    results = by_plan(body)
    # national plans evaluate the province; the Shanxi plan its province; the county plan its
    # county; the Xinjiang plan does not cover the event
    assert sorted(results) == [("county-sample", "140105"), ("national-2016", "140000"),
                               ("national-2024", "140000"), ("shanxi-provincial-sample", "140000")]

    n2016 = results[("national-2016", "140000")]  # deaths 9 + 8 + 4 = 21 ≥ 20
    assert (n2016["level"], n2016["rank"]) == ("Ⅳ", 4)
    assert [(t["indicator"], t["value"], t["threshold"], t["level"]) for t in n2016["triggers"]] == [
        ("deaths", 21, 20, "Ⅳ")]
    assert n2016["next_level"] == "Ⅲ"
    assert {"indicator": "deaths", "gap": 29} in [
        {"indicator": g["indicator"], "gap": g["gap"]} for g in n2016["gaps"]]

    n2024 = results[("national-2024", "140000")]  # deaths + missing 21 + 4 = 25
    assert (n2024["level"], n2024["rank"]) == ("四级", 4)
    assert [(t["indicator"], t["value"], t["threshold"]) for t in n2024["triggers"]] == [
        ("deaths+missing", 25, 20)]

    shanxi = results[("shanxi-provincial-sample", "140000")]  # sample 三级 at 20
    assert (shanxi["level"], shanxi["rank"]) == ("三级", 3)
    assert [(t["indicator"], t["value"]) for t in shanxi["triggers"]] == [("deaths+missing", 25)]

    county = results[("county-sample", "140105")]  # 小店区 alone: 9 + 3 = 12 ≥ 10
    assert (county["level"], county["rank"]) == ("一级", 1)
    assert [(t["indicator"], t["value"], t["threshold"]) for t in county["triggers"]] == [
        ("deaths+missing", 12, 10)]
    assert county["next_level"] is None and county["gaps"] == []
    # every criterion's value against its threshold is there for the bars
    houses = [c for c in county["criteria"] if c["rank"] == 2 and c["criterion_id"] == "houses"]
    assert [(c["indicator"], c["value"], c["threshold"], c["met"]) for c in houses] == [
        ("collapsed_rooms+severely_damaged_rooms", 550, 500, True),
        ("collapsed_households+severely_damaged_households", 190, 200, False)]


def test_no_reports_yet_means_no_level(client, auth, plans):
    headers = auth.token("coordinator", "140000")
    event_id = create_event(client, headers, ["140106"])
    results = by_plan(client.get(f"/api/v1/events/{event_id}/assessment", headers=headers).get_json())
    assert sorted(results) == [("national-2016", "140000"), ("national-2024", "140000"),
                               ("shanxi-provincial-sample", "140000")]
    assert all(e["level"] is None and e["triggers"] == [] for e in results.values())
    assert results[("national-2016", "140000")]["next_level"] == "Ⅳ"


def test_county_plan_covers_a_province_wide_event(client, auth, plans):
    headers = auth.token("coordinator", "140000")
    event_id = create_event(client, headers, ["140000"])
    results = by_plan(client.get(f"/api/v1/events/{event_id}/assessment", headers=headers).get_json())
    assert ("county-sample", "140105") in results


def test_drought_percentage_uses_the_provinces_agricultural_population(app, client, auth, plans):
    with app.app_context():
        db.session.get(Region, "140000").agricultural_population = 4_000_000
        db.session.commit()
    headers = auth.token("coordinator", "140000")
    event_id = create_event(client, headers, ["140212"], hazard="drought", name="晋北旱灾")
    report = Reporter(client, headers, event_id)
    report("140212", drought_needing_aid_population=650_000)  # 16.25 % of 4,000,000
    n2016 = by_plan(client.get(f"/api/v1/events/{event_id}/assessment",
                               headers=headers).get_json())[("national-2016", "140000")]
    assert (n2016["level"], n2016["agricultural_population"]) == ("Ⅳ", 4_000_000)
    assert [(t["indicator"], t["value"], t["threshold"]) for t in n2016["triggers"]] == [
        ("drought_needing_aid_population", 650_000, 600_000)]
    report("140212", drought_needing_aid_population=590_000)  # 14.75 %: below 15 %
    n2016 = by_plan(client.get(f"/api/v1/events/{event_id}/assessment",
                               headers=headers).get_json())[("national-2016", "140000")]
    assert n2016["level"] is None


def _add_hebei(app):
    with app.app_context():
        db.session.add(Region(code="130000", name="河北省", level="province", population=74_000_000,
                              agricultural_population=40_000_000, households=24_000_000))
        db.session.add(Region(code="130100", name="石家庄市", level="prefecture", parent_code="130000"))
        db.session.add(Region(code="130102", name="长安区", level="county", parent_code="130100"))
        db.session.commit()


def test_adjacent_province_linkage_through_the_api(app, client, auth, plans):
    _add_hebei(app)
    headers = auth.token("coordinator", "000000")
    event_id = create_event(client, headers, ["140105", "130102"], name="晋冀暴雨")
    report = Reporter(client, headers, event_id)
    report("130102", deaths=150, missing=55)  # 河北 205 ≥ 200: 一级 on its own
    report("140105", deaths=150, missing=20)  # 山西 170 in [160, 200): 一级 by linkage
    results = by_plan(client.get(f"/api/v1/events/{event_id}/assessment", headers=headers).get_json())
    hebei, shanxi = results[("national-2024", "130000")], results[("national-2024", "140000")]
    assert hebei["level"] == "一级"
    assert [t["indicator"] for t in hebei["triggers"]] == ["deaths+missing"]
    assert shanxi["level"] == "一级" and shanxi["adjacent_regions"] == ["130000"]
    assert [(t["indicator"], t["value"], t["threshold"]) for t in shanxi["triggers"]] == [
        ("deaths+missing", 170, 160), ("adjacent:deaths+missing", 205, 200)]
    # the 2016 plan has no linkage: Shanxi's 150 deaths are Ⅱ
    assert results[("national-2016", "140000")]["level"] == "Ⅱ"


def test_no_linkage_with_a_province_that_is_not_adjacent(client, auth, plans):
    headers = auth.token("coordinator", "000000")
    event_id = create_event(client, headers, ["140105", "650100"], name="跨区域寒潮",
                            hazard="low_temperature")
    report = Reporter(client, headers, event_id)
    report("650100", deaths=150, missing=55)
    report("140105", deaths=150, missing=20)
    results = by_plan(client.get(f"/api/v1/events/{event_id}/assessment", headers=headers).get_json())
    assert results[("national-2024", "650000")]["level"] == "一级"
    assert results[("national-2024", "140000")]["level"] == "二级"
    assert results[("national-2024", "140000")]["adjacent_regions"] == []
    assert results[("xinjiang-provincial-sample", "650000")]["level"] == "一级"


def test_assessment_errors(client, auth, shanxi_event):
    assert client.get(f"/api/v1/events/{shanxi_event}/assessment").status_code == 401
    outside = client.get(f"/api/v1/events/{shanxi_event}/assessment",
                         headers=auth.token("coordinator", "650000"))
    assert outside.status_code == 403
    assert client.get("/api/v1/events/9999/assessment",
                      headers=auth.token("admin", "000000")).status_code == 404


def test_openapi_documents_the_response_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/plans", "/plans/{plan_id}", "/events/{event_id}/assessment",
                 "/events/{event_id}/responses", "/events/{event_id}/alignment", "/notifications"):
        assert path in paths
    body = paths["/events/{event_id}/responses"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema["properties"]["action"]["enum"] == ["start", "adjust", "end"]


def test_assessment_shows_no_other_province(app, client, auth):
    """An event over two provinces: each province's users see their own units only."""
    from tests.test_responses_support import Reporter, create_event, load_plans

    load_plans(app)
    national = auth.token("coordinator", "000000")
    event_id = create_event(client, national, ["140000", "650000"])
    Reporter(client, auth.token("officer", "140105"), event_id)("140105001200", deaths=3)
    xinjiang = auth.token("officer", "650000")
    shown = client.get(f"/api/v1/events/{event_id}/assessment", headers=xinjiang).get_json()["evaluations"]
    assert shown and all(e["region_code"].startswith("65") or e["region_code"] == "000000" for e in shown)
    shanxi = client.get(f"/api/v1/events/{event_id}/assessment",
                        headers=auth.token("officer", "140105")).get_json()["evaluations"]
    assert any(e["region_code"] == "140000" for e in shanxi)  # the county sees its province's tier
    everything = client.get(f"/api/v1/events/{event_id}/assessment", headers=national).get_json()["evaluations"]
    assert {"140000", "650000"} <= {e["region_code"] for e in everything}
