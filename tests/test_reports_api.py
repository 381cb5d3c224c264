"""Loss reporting API (API.md: disaster events, loss reports, totals): rules, errors, history."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.models_common import AuditEntry
from app.reports.indicators import CONSISTENCY_RULES
from app.reports.models import Event, LossReport

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 7, 6, 10, 0, tzinfo=SH)  # a Monday
STARTED = "2026-07-06T06:00:00+08:00"


@pytest.fixture
def clock(app):
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def new_event(client, headers, **overrides):
    body = {"name": "小店区暴雨洪涝", "hazard": "flood", "started_at": STARTED, "region_codes": ["140105"]}
    body.update(overrides)
    response = client.post("/api/v1/events", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def post_report(client, headers, event_id, **overrides):
    body = {"region_code": "140105001200", "kind": "initial", "as_of": "2026-07-06T08:00:00+08:00",
            "figures": {"affected_population": 100, "deaths": 1}}
    body.update(overrides)
    return client.post(f"/api/v1/events/{event_id}/reports", json=body, headers=headers)


def count_reports():
    return db.session.scalar(select(func.count()).select_from(LossReport))


# --- Events ----------------------------------------------------------------------------------

def test_create_event_exactly_as_api_md(client, auth, clock):
    headers = auth.token("officer", "140105")
    body = new_event(client, headers)
    assert body["status"] == "active" and body["hazard"] == "flood"
    assert body["region_codes"] == ["140105"] and body["name"] == "小店区暴雨洪涝"
    assert body["started_at"] == "2026-07-05T22:00:00+00:00"
    got = client.get(f"/api/v1/events/{body['id']}", headers=headers).get_json()
    assert got["id"] == body["id"] and got["status"] == "active"
    listed = client.get("/api/v1/events?status=active", headers=headers).get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == body["id"]
    assert client.get("/api/v1/events?status=stable", headers=headers).get_json()["total"] == 0


def test_naive_started_at_is_shanghai(client, auth, clock):
    body = new_event(client, auth.token("coordinator", "140000"), started_at="2026-07-06T06:00:00")
    assert body["started_at"] == "2026-07-05T22:00:00+00:00"


def test_create_event_names_every_bad_field(app, client, auth, clock):
    headers = auth.token("coordinator", "140000")
    response = client.post("/api/v1/events", json={
        "name": "", "hazard": "volcano", "started_at": "yesterday", "region_codes": ["140105", "12", "149999"]},
        headers=headers)
    assert response.status_code == 422
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert fields == {"name", "hazard", "started_at", "region_codes[1]", "region_codes[2]"}
    response = client.post("/api/v1/events", json={"name": "x", "hazard": "flood",
                                                   "started_at": "2026-07-07T06:00:00+08:00",
                                                   "region_codes": []}, headers=headers)
    assert {e["field"] for e in response.get_json()["errors"]} == {"started_at", "region_codes"}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == 0


@pytest.mark.parametrize("role, region, status", [
    ("officer", "140105", 201), ("coordinator", "140000", 201), ("admin", "000000", 201),
    ("officer", "140106", 403), ("coordinator", "650000", 403),
    ("depot_manager", "140000", 403), ("auditor", "140000", 403),
])
def test_create_event_roles_and_jurisdiction(client, auth, clock, role, region, status):
    body = {"name": "x", "hazard": "flood", "started_at": STARTED, "region_codes": ["140105"]}
    response = client.post("/api/v1/events", json=body, headers=auth.token(role, region))
    assert response.status_code == status


def test_events_need_token_and_unknown_is_404(client, auth, clock):
    assert client.get("/api/v1/events").status_code == 401
    assert client.post("/api/v1/events", json={}).status_code == 401
    headers = auth.token("coordinator", "140000")
    assert client.get("/api/v1/events/999", headers=headers).status_code == 404
    assert client.post("/api/v1/events/999/reports", json={}, headers=headers).status_code == 404
    assert client.get("/api/v1/events?status=bogus", headers=headers).status_code == 422


def test_event_visibility_follows_jurisdiction(client, auth, clock):
    event = new_event(client, auth.token("coordinator", "140000"), region_codes=["140100"])
    # inside the event (county below it) and above it (the province) see it; elsewhere does not
    for role, region, status in (("officer", "140105", 200), ("coordinator", "140000", 200),
                                 ("auditor", "140000", 200), ("officer", "140212", 403),
                                 ("coordinator", "650000", 403)):
        headers = auth.token(role, region)
        assert client.get(f"/api/v1/events/{event['id']}", headers=headers).status_code == status
        total = client.get("/api/v1/events", headers=headers).get_json()["total"]
        assert total == (1 if status == 200 else 0)


def test_stabilise_and_close(client, auth, clock):
    officer = auth.token("officer", "140105")
    coordinator = auth.token("coordinator", "140000")
    event = new_event(client, officer)
    url = f"/api/v1/events/{event['id']}"
    assert client.post(url + "/stabilise", json={"at": "2026-07-06T09:00:00+08:00"},
                       headers=officer).status_code == 403
    bad = client.post(url + "/stabilise", json={"at": "2026-07-06T11:00:00+08:00"}, headers=coordinator)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "at"
    early = client.post(url + "/stabilise", json={"at": "2026-07-06T05:00:00+08:00"}, headers=coordinator)
    assert early.status_code == 422
    done = client.post(url + "/stabilise", json={"at": "2026-07-06T09:00:00+08:00"}, headers=coordinator)
    assert done.status_code == 200
    assert done.get_json()["status"] == "stable"
    assert done.get_json()["stabilised_at"] == "2026-07-06T01:00:00+00:00"
    assert client.post(url + "/stabilise", json={}, headers=coordinator).status_code == 409
    assert client.post(url + "/close", json={}, headers=coordinator).get_json()["status"] == "closed"
    assert client.post(url + "/close", json={}, headers=coordinator).status_code == 409
    late = post_report(client, officer, event["id"])
    assert late.status_code == 409


def test_event_create_is_idempotent(client, auth, clock):
    headers = {**auth.token("coordinator", "140000"), "Idempotency-Key": "ev-1"}
    body = {"name": "x", "hazard": "flood", "started_at": STARTED, "region_codes": ["140105"]}
    first = client.post("/api/v1/events", json=body, headers=headers)
    again = client.post("/api/v1/events", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    assert client.post("/api/v1/events", json={**body, "name": "y"}, headers=headers).status_code == 409


# --- Reports ---------------------------------------------------------------------------------

def test_report_exactly_as_api_md(app, client, auth, clock):
    headers = auth.token("officer", "140105", username="li")
    event = new_event(client, headers)
    response = post_report(client, headers, event["id"], figures={"affected_population": 120, "deaths": 2,
                                                                  "crop_affected_ha": 10.5})
    assert response.status_code == 201
    body = response.get_json()
    assert {"id", "event_id", "region_code", "kind", "as_of", "figures", "submitted_by", "submitted_at"} <= set(body)
    assert body["event_id"] == event["id"] and body["region_code"] == "140105001200"
    assert body["kind"] == "initial" and body["submitted_by"] == "li"
    assert body["as_of"] == "2026-07-06T00:00:00+00:00"
    assert body["figures"]["affected_population"] == 120 and body["figures"]["crop_affected_ha"] == 10.5
    assert body["figures"]["missing"] == 0 and len(body["figures"]) == 21  # omitted fields are 0
    assert body["submitted_at"].startswith("2026-07-06T02:00:00")
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).filter_by(action="report.submit"))
        assert entry.entity_id == str(body["id"]) and entry.region_code == "140105001200"


@pytest.mark.parametrize("rule, larger, smaller", CONSISTENCY_RULES)
def test_each_consistency_rule_is_named(client, auth, clock, rule, larger, smaller):
    headers = auth.token("officer", "140105")
    event = new_event(client, headers)
    figures = {"affected_population": 1000, larger: 5, smaller: 6}
    response = post_report(client, headers, event["id"], figures=figures)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert any(e.get("rule") == rule and e["field"] == f"figures.{smaller}" for e in errors), errors


def test_every_violation_named_at_once(app, client, auth, clock):
    headers = auth.token("officer", "140105")
    event = new_event(client, headers)
    response = post_report(client, headers, event["id"], figures={
        "affected_population": 10, "deaths": 11, "missing": 12, "needing_aid_population": 5,
        "needing_transitional_aid": 6, "crop_affected_ha": 1, "crop_disaster_ha": 2, "crop_failed_ha": 3,
        "collapsed_rooms": 1, "collapsed_households": 2})
    rules = {e["rule"] for e in response.get_json()["errors"]}
    assert rules == {"affected_ge_deaths", "affected_ge_missing", "needing_aid_ge_transitional",
                     "crop_affected_ge_disaster", "crop_disaster_ge_failed", "collapsed_rooms_ge_households"}
    with app.app_context():
        assert count_reports() == 0


def test_bad_types_and_fields_all_named(client, auth, clock):
    headers = auth.token("officer", "140105")
    event = new_event(client, headers)
    response = client.post(f"/api/v1/events/{event['id']}/reports", headers=headers, json={
        "region_code": "abc", "kind": "draft", "as_of": "not a time",
        "figures": {"deaths": 1.5, "missing": -1, "injured": "3", "bogus": 1}})
    assert response.status_code == 422
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert fields == {"region_code", "kind", "as_of", "figures.deaths", "figures.missing", "figures.injured",
                      "figures.bogus"}
    missing = client.post(f"/api/v1/events/{event['id']}/reports", headers=headers, json={})
    assert {e["field"] for e in missing.get_json()["errors"]} == {"region_code", "kind", "as_of", "figures"}


def test_as_of_not_in_future_nor_before_start(client, auth, clock):
    headers = auth.token("officer", "140105")
    event = new_event(client, headers)
    future = post_report(client, headers, event["id"], as_of="2026-07-06T10:00:01+08:00")
    assert future.status_code == 422 and future.get_json()["errors"][0]["field"] == "as_of"
    before = post_report(client, headers, event["id"], as_of="2026-07-06T05:59:00+08:00")
    assert before.status_code == 422
    assert post_report(client, headers, event["id"], as_of="2026-07-06T10:00:00+08:00").status_code == 201


def test_kind_transitions(app, client, auth, clock):
    headers = auth.token("officer", "140105")
    event = new_event(client, headers)
    eid = event["id"]
    first_update = post_report(client, headers, eid, kind="update")
    assert first_update.status_code == 409 and first_update.get_json()["errors"][0]["field"] == "kind"
    assert post_report(client, headers, eid, kind="final").status_code == 409
    assert post_report(client, headers, eid, kind="initial").status_code == 201
    assert post_report(client, headers, eid, kind="initial").status_code == 409
    assert post_report(client, headers, eid, kind="update", as_of="2026-07-06T09:00:00+08:00").status_code == 201
    assert post_report(client, headers, eid, kind="update", as_of="2026-07-06T09:30:00+08:00").status_code == 201
    final = post_report(client, headers, eid, kind="final", as_of="2026-07-06T09:45:00+08:00")
    assert final.status_code == 201
    for kind in ("update", "final", "initial"):
        closed = post_report(client, headers, eid, kind=kind, as_of="2026-07-06T09:50:00+08:00")
        assert closed.status_code == 409
    history = client.get(f"/api/v1/events/{eid}/reports?region_code=140105001200", headers=headers).get_json()
    assert [r["kind"] for r in history["items"]] == ["initial", "update", "update", "final"]
    assert [r["sequence"] for r in history["items"]] == [1, 2, 3, 4]
    assert history["total"] == 4
    # another region starts its own sequence
    assert post_report(client, headers, eid, region_code="140105001201").status_code == 201


def test_initial_then_final_directly(client, auth, clock):
    headers = auth.token("officer", "140105")
    eid = new_event(client, headers)["id"]
    assert post_report(client, headers, eid).status_code == 201
    assert post_report(client, headers, eid, kind="final").status_code == 201


def test_as_of_may_not_go_back(client, auth, clock):
    headers = auth.token("officer", "140105")
    eid = new_event(client, headers)["id"]
    assert post_report(client, headers, eid, as_of="2026-07-06T09:00:00+08:00").status_code == 201
    back = post_report(client, headers, eid, kind="update", as_of="2026-07-06T08:00:00+08:00")
    assert back.status_code == 422 and back.get_json()["errors"][0]["field"] == "as_of"


@pytest.mark.parametrize("role, region, code, status", [
    ("officer", "140105", "140105001200", 201),
    ("officer", "140105001", "140105001201", 201),
    ("officer", "140106", "140105001200", 403),
    ("officer", "140105001200", "140105001201", 403),
    ("coordinator", "650000", "140105", 403),
    ("auditor", "140000", "140105", 403),
    ("depot_manager", "140000", "140105", 403),
    ("admin", "000000", "140105", 201),
])
def test_report_roles_and_jurisdiction(app, client, auth, clock, role, region, code, status):
    eid = new_event(client, auth.token("coordinator", "140000"))["id"]
    response = post_report(client, auth.token(role, region), eid, region_code=code)
    assert response.status_code == status, response.get_json()
    with app.app_context():
        assert count_reports() == (1 if status == 201 else 0)


def test_report_outside_event_regions_is_422(client, auth, clock):
    headers = auth.token("coordinator", "140000")
    eid = new_event(client, headers)["id"]
    response = post_report(client, headers, eid, region_code="140106")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "region_code"
    unknown = post_report(client, headers, eid, region_code="140105001299")
    assert unknown.status_code == 422 and "不存在" in unknown.get_json()["errors"][0]["message"]
    # the affected county itself and the province above it: the county yes, the province no
    assert post_report(client, headers, eid, region_code="140105").status_code == 201
    assert post_report(client, headers, eid, region_code="140000").status_code == 422


def test_jump_check_needs_a_note(app, client, auth, clock):
    headers = auth.token("officer", "140105")
    eid = new_event(client, headers)["id"]
    post_report(client, headers, eid, figures={"affected_population": 100, "deaths": 2, "injured": 10})
    jumped = post_report(client, headers, eid, kind="update", as_of="2026-07-06T09:00:00+08:00",
                         figures={"affected_population": 301, "deaths": 2, "injured": 4})
    assert jumped.status_code == 422
    errors = jumped.get_json()["errors"]
    by_field = {e["field"]: e for e in errors}
    assert by_field["figures.affected_population"]["rule"] == "jump_up"
    assert by_field["figures.injured"]["rule"] == "jump_down"
    assert "figures.deaths" not in by_field
    assert "受灾人口" in by_field["note"]["message"] and "因灾伤病人口" in by_field["note"]["message"]
    # exactly ×3 and exactly half are not jumps
    ok = post_report(client, headers, eid, kind="update", as_of="2026-07-06T09:00:00+08:00",
                     figures={"affected_population": 300, "deaths": 2, "injured": 5})
    assert ok.status_code == 201
    noted = post_report(client, headers, eid, kind="update", as_of="2026-07-06T09:30:00+08:00",
                        figures={"affected_population": 1000, "deaths": 2, "injured": 5},
                        note="新发现两个受灾村组")
    assert noted.status_code == 201 and noted.get_json()["note"] == "新发现两个受灾村组"


def test_jump_factors_are_configurable(app, client, auth, clock):
    app.config.update(REPORT_JUMP_UP_FACTOR=10.0, REPORT_JUMP_DOWN_FACTOR=0.1)
    headers = auth.token("officer", "140105")
    eid = new_event(client, headers)["id"]
    post_report(client, headers, eid, figures={"affected_population": 100})
    assert post_report(client, headers, eid, kind="update", as_of="2026-07-06T09:00:00+08:00",
                       figures={"affected_population": 900}).status_code == 201
    assert post_report(client, headers, eid, kind="update", as_of="2026-07-06T09:10:00+08:00",
                       figures={"affected_population": 9001}).status_code == 422


def test_report_idempotency_key(app, client, auth, clock):
    headers = {**auth.token("officer", "140105"), "Idempotency-Key": "field-7"}
    eid = new_event(client, auth.token("coordinator", "140000"))["id"]
    first = post_report(client, headers, eid)
    again = post_report(client, headers, eid)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = post_report(client, headers, eid, figures={"affected_population": 5})
    assert other.status_code == 409
    with app.app_context():
        assert count_reports() == 1


def test_history_is_never_overwritten_and_filtered(app, client, auth, clock):
    coordinator = auth.token("coordinator", "140000")
    eid = new_event(client, coordinator, region_codes=["140100"])["id"]
    post_report(client, coordinator, eid, region_code="140105001200")
    post_report(client, coordinator, eid, region_code="140106", figures={"affected_population": 7})
    post_report(client, coordinator, eid, region_code="140105001200", kind="update",
                as_of="2026-07-06T09:00:00+08:00", figures={"affected_population": 110, "deaths": 1})
    all_reports = client.get(f"/api/v1/events/{eid}/reports", headers=coordinator).get_json()
    assert all_reports["total"] == 3
    assert [r["region_code"] for r in all_reports["items"]] == ["140105001200", "140106", "140105001200"]
    within = client.get(f"/api/v1/events/{eid}/reports?within=140105", headers=coordinator).get_json()
    assert within["total"] == 2
    # an officer of 140106 sees only their own reports, and may not ask for another county's history
    officer = auth.token("officer", "140106")
    assert client.get(f"/api/v1/events/{eid}/reports", headers=officer).get_json()["total"] == 1
    assert client.get(f"/api/v1/events/{eid}/reports?region_code=140105001200",
                      headers=officer).status_code == 403
    assert client.get(f"/api/v1/events/{eid}/reports?kind=x", headers=officer).status_code == 422
    with app.app_context():
        from app.models_common import AppendOnlyError

        report = db.session.scalar(select(LossReport).limit(1))
        report.note = "changed"
        with pytest.raises(AppendOnlyError):
            db.session.commit()
        db.session.rollback()


def _competitor(app, first_id, kind):
    """Insert sequence 2 behind the service's back, as a concurrent request would."""
    with app.app_context():
        first = db.session.get(LossReport, first_id)
        db.session.add(LossReport(event_id=first.event_id, region_code=first.region_code, kind=kind, sequence=2,
                                  as_of=first.as_of, figures=first.figures, submitted_by="other",
                                  submitted_by_id=first.submitted_by_id))
        db.session.commit()


def test_lost_sequence_race_is_checked_again(app, client, auth, clock, monkeypatch):
    """Our check saw sequence 1; a verified report took sequence 2 meanwhile. The insert
    collides, the report is checked again against the winner, and the region is closed: 409."""
    from app.reports.service import reports as filing

    headers = auth.token("officer", "140105")
    eid = new_event(client, headers)["id"]
    first_id = post_report(client, headers, eid).get_json()["id"]
    _competitor(app, first_id, "final")
    real = filing.latest_with_regions
    stale = iter([True])
    calls = []

    def latest(event_id, code):
        calls.append(code)
        if next(stale, False):
            return filing.Previous.of(db.session.get(LossReport, first_id)), filing.plausibility.region_rows(code)
        return real(event_id, code)

    monkeypatch.setattr(filing, "latest_with_regions", latest)
    response = post_report(client, headers, eid, kind="update", as_of="2026-07-06T09:30:00+08:00")
    assert response.status_code == 409
    assert "已核报" in response.get_json()["detail"]
    assert len(calls) == 2  # the stale read, then the check again against the winner
    with app.app_context():
        assert count_reports() == 2


def test_retries_exhausted_gives_retryable_409(app, client, auth, clock, monkeypatch):
    from app.reports.service import reports as filing

    headers = auth.token("officer", "140105")
    eid = new_event(client, headers)["id"]
    first_id = post_report(client, headers, eid).get_json()["id"]
    _competitor(app, first_id, "update")
    # every attempt sees the stale sequence 1, so every insert collides with sequence 2
    monkeypatch.setattr(filing, "latest_with_regions", lambda event_id, code: (
        filing.Previous.of(db.session.get(LossReport, first_id)), filing.plausibility.region_rows(code)))
    response = post_report(client, headers, eid, kind="update", as_of="2026-07-06T09:30:00+08:00")
    assert response.status_code == 409
    assert "重试" in response.get_json()["detail"]
    assert response.get_json()["errors"] == [{"field": "region_code", "message": "并发冲突，可重试"}]
    with app.app_context():
        assert count_reports() == 2


@pytest.fixture
def race_db(pg_url):
    """A database of its own on the PostgreSQL server of ``pg_url`` (so that the shared test
    database keeps its migrated schema), dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"jiuzai_race_{uuid.uuid4().hex[:8]}"
    server = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_url.rsplit("/", 1)[0] + f"/{name}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    engine.dispose()
    yield url
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.mark.postgres
def test_concurrent_finals_on_postgres_only_one_wins(race_db, tmp_path):
    """Four threads file a verified report for one region at once on PostgreSQL: one 201, three 409."""
    from app import create_app
    from tests.conftest import PASSWORD
    from tests.factories import make_user, seed_geography

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": race_db, "RATELIMIT_ENABLED": False,
                      "WTF_CSRF_ENABLED": False, "REPORT_PHOTO_DIR": str(tmp_path)})
    with app.app_context():
        db.create_all()
        seed_geography()
        make_user("coordinator", "140000", "pgco")
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "pgco", "password": PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    started = (datetime.now(timezone.utc) - timedelta(hours=3)).isoformat()
    eid = client.post("/api/v1/events", json={"name": "pg", "hazard": "flood", "started_at": started,
                                              "region_codes": ["140105"]}, headers=headers).get_json()["id"]
    as_of = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat()
    assert client.post(f"/api/v1/events/{eid}/reports", headers=headers, json={
        "region_code": "140105", "kind": "initial", "as_of": as_of, "figures": {}}).status_code == 201
    assert client.post(f"/api/v1/events/{eid}/reports", headers=headers, json={
        "region_code": "140105", "kind": "update", "as_of": as_of, "figures": {"affected_population": 7,
                                                                            "deaths": 1}}).status_code == 201
    statuses = []
    barrier = threading.Barrier(4)

    def file_final():
        local = app.test_client()
        barrier.wait()
        statuses.append(local.post(f"/api/v1/events/{eid}/reports", headers=headers, json={
            "region_code": "140105", "kind": "final", "as_of": as_of,
            "figures": {"affected_population": 7, "deaths": 1}}).status_code)

    threads = [threading.Thread(target=file_final) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201, 409, 409, 409]
    # totals on PostgreSQL (JSONB read path) agree with the report
    total = client.get(f"/api/v1/events/{eid}/totals?region_code=140100", headers=headers).get_json()
    assert total["reporting_units"] == 1 and total["figures"]["affected_population"] == 7
    assert total["figures"]["deaths"] == 1 and total["figures"]["missing"] == 0
    with app.app_context():
        kinds = db.session.scalars(select(LossReport.kind).where(LossReport.event_id == eid)
                                   .order_by(LossReport.sequence)).all()
        db.session.remove()
        db.engine.dispose()
    assert kinds == ["initial", "update", "final"]


# --- Totals ----------------------------------------------------------------------------------

def test_totals_roll_up_and_direct_precedence(client, auth, clock):
    headers = auth.token("coordinator", "140000")
    eid = new_event(client, headers, region_codes=["140100"])["id"]
    post_report(client, headers, eid, region_code="140105001200",
                figures={"affected_population": 100, "deaths": 1}, as_of="2026-07-06T07:00:00+08:00")
    post_report(client, headers, eid, region_code="140105001201",
                figures={"affected_population": 50, "deaths": 2}, as_of="2026-07-06T08:00:00+08:00")
    post_report(client, headers, eid, region_code="140106",
                figures={"affected_population": 1000, "deaths": 3}, as_of="2026-07-06T07:30:00+08:00")

    def total(code):
        response = client.get(f"/api/v1/events/{eid}/totals?region_code={code}", headers=headers)
        assert response.status_code == 200
        return response.get_json()

    township = total("140105001")
    assert township["figures"]["deaths"] == 3 and township["reporting_units"] == 2
    assert township["as_of"] == "2026-07-06T00:00:00+00:00"
    city = total("140100")
    assert city["region_code"] == "140100" and city["figures"]["affected_population"] == 1150
    assert city["figures"]["deaths"] == 6 and city["reporting_units"] == 3
    # the county files its own report: it takes precedence over its villages
    post_report(client, headers, eid, region_code="140105", figures={"affected_population": 400, "deaths": 5},
                as_of="2026-07-06T09:00:00+08:00")
    assert total("140105")["figures"]["deaths"] == 5 and total("140105")["reporting_units"] == 1
    assert total("140100")["figures"]["deaths"] == 8 and total("140000")["figures"]["affected_population"] == 1400
    # a later update of a village changes the township, not the county
    post_report(client, headers, eid, region_code="140105001200", kind="update",
                figures={"affected_population": 120, "deaths": 2}, as_of="2026-07-06T09:30:00+08:00")
    assert total("140105001")["figures"]["deaths"] == 4
    assert total("140105")["figures"]["deaths"] == 5
    nothing = total("140212")
    assert nothing["reporting_units"] == 0 and nothing["as_of"] is None and nothing["figures"]["deaths"] == 0


def test_totals_errors(client, auth, clock):
    headers = auth.token("coordinator", "140000")
    eid = new_event(client, headers)["id"]
    assert client.get(f"/api/v1/events/{eid}/totals", headers=headers).status_code == 422
    assert client.get(f"/api/v1/events/{eid}/totals?region_code=1", headers=headers).status_code == 422
    assert client.get(f"/api/v1/events/{eid}/totals?region_code=140199", headers=headers).status_code == 404
    officer = auth.token("officer", "140105")
    assert client.get(f"/api/v1/events/{eid}/totals?region_code=140000", headers=officer).status_code == 403
    assert client.get(f"/api/v1/events/{eid}/totals?region_code=140105", headers=officer).status_code == 200


def test_signal_sent_after_commit(app, client, auth, clock):
    from app.reports.signals import report_submitted

    seen = []

    def receiver(sender, report):
        # committed: a fresh query sees it
        seen.append((report.id, db.session.scalar(select(func.count()).select_from(LossReport)
                                                  .where(LossReport.id == report.id))))

    report_submitted.connect(receiver)
    try:
        headers = auth.token("officer", "140105")
        eid = new_event(client, headers)["id"]
        body = post_report(client, headers, eid).get_json()
        post_report(client, headers, eid, kind="update", figures={"deaths": 5})  # 422: not sent
    finally:
        report_submitted.disconnect(receiver)
    assert seen == [(body["id"], 1)]


def test_openapi_documents_report_routes(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/events", "/events/{event_id}", "/events/{event_id}/stabilise", "/events/{event_id}/reports",
                 "/events/{event_id}/deadlines", "/events/{event_id}/totals", "/events/{event_id}/timeliness",
                 "/events/{event_id}/reports/{report_id}/photos"):
        assert path in paths, path
    schema = paths["/events/{event_id}/reports"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["required"]) == {"region_code", "kind", "as_of", "figures"}
