"""Report ingest under load and retries: one transaction per submission (claim, report, audit
line and stored answer commit together or not at all), concurrent duplicates of one
Idempotency-Key, the cached region lookup, the direct-report check only when deaths or missing
rise, and the one-query token check. Runs on SQLite, and on PostgreSQL with
``JIUZAI_TEST_DB=postgresql``."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.models_common import AuditEntry, IdempotencyRecord
from app.reports.models import Event, LossReport

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 7, 6, 10, 0, tzinfo=SH)
STARTED = "2026-07-06T06:00:00+08:00"
REPORTS = lambda eid: f"/api/v1/events/{eid}/reports"  # noqa: E731


@pytest.fixture
def clock(app):
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def event_id(client, auth, clock):
    headers = auth.token("coordinator", "140000", username="co")
    response = client.post("/api/v1/events", headers=headers, json={
        "name": "小店区暴雨洪涝", "hazard": "flood", "started_at": STARTED, "region_codes": ["140105"]})
    assert response.status_code == 201
    return response.get_json()["id"]


def body(region_code="140105001200", kind="initial", as_of="2026-07-06T08:00:00+08:00", note=None,
         **figures):
    payload = {"region_code": region_code, "kind": kind, "as_of": as_of,
               "figures": figures or {"affected_population": 100, "deaths": 1}}
    if note:
        payload["note"] = note
    return payload


def counts(app) -> dict:
    with app.app_context():
        return {
            "reports": db.session.scalar(select(func.count()).select_from(LossReport)),
            "audit": db.session.scalar(select(func.count()).select_from(AuditEntry)
                                       .filter_by(action="report.submit")),
            "keys": db.session.scalar(select(func.count()).select_from(IdempotencyRecord)),
        }


def at_once(app, requests: list[tuple[str, dict, dict]]) -> list:
    """Send the requests from one thread each, released together; the responses in order."""
    barrier = threading.Barrier(len(requests))
    responses: list = [None] * len(requests)

    def send(index, path, headers, payload):
        client = app.test_client()
        barrier.wait()
        responses[index] = client.post(path, headers=headers, json=payload)

    threads = [threading.Thread(target=send, args=(i, *request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return responses


# --- Idempotency-Key under concurrency ---------------------------------------------------------

def test_simultaneous_posts_with_one_key_create_one_report(app, auth, event_id):
    headers = {**auth.token("coordinator", "140000", username="co"), "Idempotency-Key": "burst-1"}
    responses = at_once(app, [(REPORTS(event_id), headers, body())] * 4)
    assert [r.status_code for r in responses] == [201] * 4
    assert len({r.get_json()["id"] for r in responses}) == 1
    # one request did the work; the others waited for it and replayed its answer
    assert sorted(r.headers.get("Idempotent-Replayed", "false") for r in responses) == \
        ["false", "true", "true", "true"]
    assert counts(app) == {"reports": 1, "audit": 1, "keys": 1}


def test_simultaneous_posts_with_one_key_and_different_bodies(app, auth, event_id):
    headers = {**auth.token("coordinator", "140000", username="co"), "Idempotency-Key": "burst-2"}
    responses = at_once(app, [(REPORTS(event_id), headers, body("140105001200")),
                              (REPORTS(event_id), headers, body("140105001201"))])
    assert sorted(r.status_code for r in responses) == [201, 409]
    conflict = next(r for r in responses if r.status_code == 409).get_json()
    assert conflict["errors"] == [{"field": "Idempotency-Key", "message": "与首次请求的内容不同"}]
    assert counts(app) == {"reports": 1, "audit": 1, "keys": 1}


def test_simultaneous_event_creation_with_one_key_creates_one_event(app, auth, clock):
    """The default mode (claim committed before the work) still lets only one request create."""
    headers = {**auth.token("coordinator", "140000", username="co"), "Idempotency-Key": "ev-burst"}
    payload = {"name": "x", "hazard": "flood", "started_at": STARTED, "region_codes": ["140105"]}
    responses = at_once(app, [("/api/v1/events", headers, payload)] * 3)
    statuses = [r.status_code for r in responses]
    assert 201 in statuses and set(statuses) <= {201, 409}
    assert len({r.get_json()["id"] for r in responses if r.status_code == 201}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == 1


# --- One transaction: all or nothing -------------------------------------------------------------

def test_rejected_report_is_replayed_and_creates_nothing(app, client, auth, event_id):
    headers = {**auth.token("coordinator", "140000", username="co"), "Idempotency-Key": "bad-1"}
    bad = body(affected_population=-5)
    first = client.post(REPORTS(event_id), headers=headers, json=bad)
    assert first.status_code == 422
    again = client.post(REPORTS(event_id), headers=headers, json=bad)
    assert again.status_code == 422 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert client.post(REPORTS(event_id), headers=headers, json=body()).status_code == 409
    assert counts(app) == {"reports": 0, "audit": 0, "keys": 1}


def test_failure_before_the_commit_writes_nothing_and_frees_the_key(app, client, auth, event_id,
                                                                    monkeypatch):
    """The answer is stored just before the commit; a failure there leaves no report, no audit
    line and no key behind, and the retry with the same key files the report once."""
    from app.reports import api as reports_api

    def broken(status, payload):
        raise RuntimeError("storage failed")

    headers = {**auth.token("coordinator", "140000", username="co"), "Idempotency-Key": "retry-1"}
    monkeypatch.setattr(reports_api, "idempotency_response", broken)
    assert client.post(REPORTS(event_id), headers=headers, json=body()).status_code == 500
    assert counts(app) == {"reports": 0, "audit": 0, "keys": 0}
    monkeypatch.undo()
    retry = client.post(REPORTS(event_id), headers=headers, json=body())
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    assert counts(app) == {"reports": 1, "audit": 1, "keys": 1}


def test_failure_after_the_commit_keeps_the_answer_for_the_retry(app, client, auth, event_id):
    """A receiver that fails after the report is committed: the report stands, and the retry
    with the same key replays its answer instead of filing it again."""
    from app.reports.signals import report_submitted

    def failing(_sender, report=None, **_extra):
        raise RuntimeError("receiver failed")

    headers = {**auth.token("coordinator", "140000", username="co"), "Idempotency-Key": "retry-2"}
    report_submitted.connect(failing)
    try:
        assert client.post(REPORTS(event_id), headers=headers, json=body()).status_code == 500
    finally:
        report_submitted.disconnect(failing)
    assert counts(app) == {"reports": 1, "audit": 1, "keys": 1}
    retry = client.post(REPORTS(event_id), headers=headers, json=body())
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        assert retry.get_json()["id"] == db.session.scalar(select(LossReport.id))
    assert counts(app)["reports"] == 1


def test_stored_answer_is_the_response(app, client, auth, event_id):
    headers = {**auth.token("coordinator", "140000", username="co"), "Idempotency-Key": "same-1"}
    first = client.post(REPORTS(event_id), headers=headers, json=body())
    with app.app_context():
        record = db.session.scalar(select(IdempotencyRecord).filter_by(key="same-1"))
        assert record.status == 201 and record.response == first.get_json()
        assert record.scope == f"POST {REPORTS(event_id)}"


@pytest.mark.parametrize("kind", ["initial", "final"])
def test_retry_of_a_request_that_succeeded_is_replayed_not_refused(app, client, auth, event_id, kind):
    """The answer was lost on the way back: the retry would now be refused by what the first
    request did (an initial report already filed, the region closed by its verified report),
    but the key says it is the same request, so its answer is replayed."""
    headers = {**auth.token("coordinator", "140000", username="co")}
    if kind == "final":
        assert client.post(REPORTS(event_id), headers=headers, json=body()).status_code == 201
    payload = body(kind=kind, as_of="2026-07-06T09:00:00+08:00")
    keyed = {**headers, "Idempotency-Key": f"lost-{kind}"}
    first = client.post(REPORTS(event_id), headers=keyed, json=payload)
    assert first.status_code == 201
    retry = client.post(REPORTS(event_id), headers=keyed, json=payload)
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json() == first.get_json()
    assert counts(app)["reports"] == (2 if kind == "final" else 1)
    # the same key with another body is still a conflict, not a replay
    other = client.post(REPORTS(event_id), headers=keyed, json={**payload, "note": "另一份"})
    assert other.status_code == 409 and "Idempotent-Replayed" not in other.headers


# --- Regions, alerts, tokens ---------------------------------------------------------------------

def test_region_added_after_a_miss_is_found(app, client, auth, event_id):
    """Only regions found are remembered: a code unknown at first is looked up again."""
    from app.regions.models import Region

    headers = auth.token("coordinator", "140000", username="co")
    missing = client.post(REPORTS(event_id), headers=headers, json=body("140105001202"))
    assert missing.status_code == 422
    assert missing.get_json()["errors"] == [{"field": "region_code", "message": "区划 140105001202 不存在"}]
    with app.app_context():
        db.session.add(Region(code="140105001202", name="示例三村", level="village",
                              parent_code="140105001", population=500))
        db.session.commit()
    assert client.post(REPORTS(event_id), headers=headers, json=body("140105001202")).status_code == 201
    again = client.post(REPORTS(event_id), headers=headers,
                        json=body("140105001202", kind="update", as_of="2026-07-06T09:00:00+08:00"))
    assert again.status_code == 201 and again.get_json()["sequence"] == 2


def test_direct_report_check_runs_only_when_deaths_or_missing_rise(app, client, auth, event_id,
                                                                  monkeypatch):
    from app.reports.service import alerts

    checked = []
    real = alerts.direct_report_alert

    def spy(event, county):
        checked.append(county)
        return real(event, county)

    monkeypatch.setattr(alerts, "direct_report_alert", spy)
    headers = auth.token("coordinator", "140000", username="co")

    def post(kind, minute, **figures):
        response = client.post(REPORTS(event_id), headers=headers, json=body(
            kind=kind, as_of=f"2026-07-06T09:{minute:02d}:00+08:00", note="核实", **figures))
        assert response.status_code == 201, response.get_json()
        return list(checked)

    assert post("initial", 0, affected_population=100) == []  # nobody dead or missing
    assert post("update", 1, affected_population=110, deaths=1) == ["140105"]
    assert post("update", 2, affected_population=120, deaths=1) == ["140105"]  # unchanged
    assert post("update", 3, affected_population=120, deaths=1, missing=1) == ["140105"] * 2
    assert post("update", 4, affected_population=120, deaths=1) == ["140105"] * 2  # went down


@pytest.mark.parametrize("change", ["revoked", "expired", "inactive"])
def test_token_of_revoked_expired_or_inactive_is_401(app, client, auth, clock, change):
    from app.auth.models import ApiToken, User

    headers = auth.token("officer", "140105", username="field")
    assert client.get("/api/v1/events", headers=headers).status_code == 200
    if change == "expired":
        clock.shift(timedelta(hours=app.config["API_TOKEN_HOURS"], seconds=1))
    else:
        with app.app_context():
            if change == "revoked":
                db.session.scalar(select(ApiToken)).revoked = True
            else:
                db.session.scalar(select(User).filter_by(username="field")).active = False
            db.session.commit()
    assert client.get("/api/v1/events", headers=headers).status_code == 401
