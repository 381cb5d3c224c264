"""Forecast (预判): footprint upload, the exposure estimate, plans on it, never mixed with reports."""
from __future__ import annotations

import io
import json

import pytest

from tests.test_responses_support import create_event, load_plans

#: A 2.5 m deep flood over 示例一村 (112.571, 37.701) and not over 示例二村 (112.60, 37.72).
DEEP_FLOOD = {"type": "FeatureCollection", "features": [{
    "type": "Feature", "properties": {"depth": 2.5},
    "geometry": {"type": "Polygon", "coordinates": [[[112.56, 37.69], [112.58, 37.69], [112.58, 37.71],
                                                     [112.56, 37.71], [112.56, 37.69]]]}}]}


def _file(payload: dict, name: str = "flood.geojson"):
    return (io.BytesIO(json.dumps(payload).encode()), name)


@pytest.fixture
def event_id(client, auth):
    load_plans(client.application)
    return create_event(client, auth.token("coordinator", "140000"), ["140105"])


def _upload(client, headers, event_id, payload=DEEP_FLOOD, **form):
    data = {"file": _file(payload), "intensity_field": "depth", **form}
    return client.post(f"/api/v1/events/{event_id}/footprints", headers=headers, data=data,
                       content_type="multipart/form-data")


def test_estimate_by_county_and_township_from_the_footprint(client, auth, event_id):
    headers = auth.token("coordinator", "140000")
    made = _upload(client, headers, event_id, note="水利部门 7 月 20 日 08 时淹没范围")
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["hazard"] == "flood" and made.get_json()["polygons"] == 1

    body = client.get(f"/api/v1/events/{event_id}/forecast", headers=headers).get_json()

    assert body["forecast"] is True and body["villages"] == 1
    county = {c["code"]: c for c in body["counties"]}["140105"]
    assert county["name"] == "小店区" and county["population"] == 1200 and county["households"] == 400
    assert county["affected_est"] == 1200 and county["relocated_est"] == 720  # ≥2 m: 100 %, 60 %
    assert county["collapsed_est"] == round(400 * 3 * 0.05)
    assert [t["code"] for t in body["townships"]] == ["140105001"]


def test_plans_are_evaluated_on_the_estimate_and_marked_forecast(client, auth, event_id):
    headers = auth.token("coordinator", "140000")
    _upload(client, headers, event_id)

    body = client.get(f"/api/v1/events/{event_id}/forecast", headers=headers).get_json()

    assert body["evaluations"], "the Shanxi plans cover 小店区"
    assert all(e["forecast"] is True for e in body["evaluations"])
    county = [e for e in body["evaluations"] if e["region_code"] == "140105"]
    values = {c["indicator"]: c["value"] for e in county for c in e["criteria"] if "+" not in c["indicator"]}
    assert values.get("relocated_population") == 720 or values.get("needing_aid_population") == 720


def test_the_forecast_never_touches_the_reported_figures(client, auth, event_id):
    headers = auth.token("coordinator", "140000")
    _upload(client, headers, event_id)

    totals = client.get(f"/api/v1/events/{event_id}/totals?region_code=140105", headers=headers).get_json()
    assessment = client.get(f"/api/v1/events/{event_id}/assessment", headers=headers).get_json()

    assert totals["reporting_units"] == 0 and not any(totals["figures"].values())
    assert not any(e.get("level") for e in assessment["evaluations"])


def test_a_newer_footprint_replaces_the_older_one(client, auth, event_id):
    headers = auth.token("coordinator", "140000")
    _upload(client, headers, event_id)
    shallow = json.loads(json.dumps(DEEP_FLOOD))
    shallow["features"][0]["properties"]["depth"] = 0.2
    _upload(client, headers, event_id, payload=shallow)

    body = client.get(f"/api/v1/events/{event_id}/forecast", headers=headers).get_json()
    history = client.get(f"/api/v1/events/{event_id}/footprints", headers=headers).get_json()

    assert body["counties"][0]["affected_est"] == 600  # <0.5 m: 50 %
    assert len(history) == 2 and history[0]["id"] > history[1]["id"]


@pytest.mark.parametrize("payload, form, field", [
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
      "geometry": {"type": "LineString", "coordinates": [[112.5, 37.6], [112.6, 37.7]]}}]}, {}, "file"),
    (DEEP_FLOOD, {"hazard": "meteor"}, "hazard"),
    (DEEP_FLOOD, {"datum": "bd09"}, "datum"),
    (DEEP_FLOOD, {"intensity_field": "height"}, "file"),
])
def test_bad_footprints_are_refused_naming_the_field(client, auth, event_id, payload, form, field):
    response = _upload(client, auth.token("coordinator", "140000"), event_id, payload=payload, **form)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.get_json()["errors"]]


def test_a_missing_file_is_refused_and_no_footprint_means_404(client, auth, event_id):
    headers = auth.token("coordinator", "140000")
    response = client.post(f"/api/v1/events/{event_id}/footprints", headers=headers, data={"hazard": "flood"},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "file"
    assert client.get(f"/api/v1/events/{event_id}/forecast", headers=headers).status_code == 404


@pytest.mark.parametrize("role, region, upload, view", [
    ("admin", "000000", 201, 200),
    ("coordinator", "140000", 201, 200),
    ("coordinator", "140100", 201, 200),
    ("auditor", "140000", 403, 200),
    ("officer", "140105", 403, 403),
    ("depot_manager", "140000", 403, 403),
    ("coordinator", "650000", 403, 403),
])
def test_permission_matrix(client, auth, event_id, role, region, upload, view):
    headers = auth.token(role, region, username=f"{role}-{region}")
    assert _upload(client, headers, event_id).status_code == upload
    if upload != 201:
        _upload(client, auth.token("coordinator", "140000", username="uploader"), event_id)
    assert client.get(f"/api/v1/events/{event_id}/forecast", headers=headers).status_code == view


def test_prepositioning_proposal_is_marked_forecast_and_moves_nothing(client, auth, event_id):
    headers = auth.token("coordinator", "140000")
    _upload(client, headers, event_id)

    body = client.post(f"/api/v1/events/{event_id}/forecast/prepositioning", headers=headers, json={}).get_json()

    assert body["forecast"] is True and body["event_id"] == event_id
    assert {line["region_code"] for line in body["demand"]} <= {"140105"}
    assert all(line["needed"] == line["quantity"] for line in body["demand"])


def test_map_layer_has_the_footprint_and_the_exposed_villages(client, auth, event_id):
    headers = auth.token("coordinator", "140000")
    _upload(client, headers, event_id)

    layer = client.get(f"/api/v1/events/{event_id}/forecast/features.geojson", headers=headers)

    kinds = [f["properties"]["kind"] for f in layer.get_json()["features"]]
    assert layer.mimetype == "application/geo+json" and kinds == ["footprint", "village"]
    assert layer.get_json()["features"][1]["properties"]["name"] == "示例一村"


def test_pages_upload_and_show_the_estimate(client, auth, event_id):
    auth.login("coordinator", "140000")
    index = client.get("/forecast/")
    assert index.status_code == 200 and "打开预判" in index.get_data(as_text=True)

    response = client.post(f"/forecast/events/{event_id}/footprints", data={
        "file": _file(DEEP_FLOOD), "intensity_field": "depth", "hazard": "flood", "datum": "wgs84"},
        content_type="multipart/form-data", follow_redirects=True)

    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "已上传影响范围" in page
    assert "小店区" in page and "1,200" in page and "预判" in page
    refused = client.post(f"/forecast/events/{event_id}/footprints", data={"hazard": "flood"},
                          content_type="multipart/form-data", follow_redirects=True)
    assert "请选择影响范围文件" in refused.get_data(as_text=True)


def test_the_map_draws_the_footprint_layer_only_when_there_is_one(client, auth, event_id):
    auth.login("coordinator", "140000")
    before = client.get(f"/dashboard/events/{event_id}/map.js").get_data(as_text=True)
    _upload(client, auth.token("coordinator", "140000"), event_id)
    after = client.get(f"/dashboard/events/{event_id}/map.js").get_data(as_text=True)

    layer = f"/api/v1/events/{event_id}/forecast/features.geojson"
    assert layer not in before and layer in after
