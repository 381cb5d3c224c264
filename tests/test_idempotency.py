"""``Idempotency-Key`` (API.md conventions): the same key with the same JSON body replays the
first answer, whatever the key order or whitespace of the body; a different body is a 409. Both
modes of ``@idempotent``: the claim committed on its own (``POST /events``) and the claim in the
view's own transaction (``POST /events/{id}/reports``, ``one_transaction=True``)."""
from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from app.idempotency import request_fingerprint
from app.extensions import db
from app.models_common import IdempotencyRecord
from app.reports.models import Event, LossReport

SH = ZoneInfo("Asia/Shanghai")
STARTED = "2026-07-06T06:00:00+08:00"
EVENT = {"name": "小店区暴雨洪涝", "hazard": "flood", "started_at": STARTED, "region_codes": ["140105"]}
# the same object as EVENT, keys reversed, with other whitespace
EVENT_REORDERED = ('{ "region_codes" : [ "140105" ],\n  "started_at": "2026-07-06T06:00:00+08:00",'
                   '\t"hazard":"flood", "name":"小店区暴雨洪涝" }')


@pytest.fixture
def clock(app):
    with time_machine.travel(datetime(2026, 7, 6, 10, 0, tzinfo=SH), tick=False) as traveller:
        yield traveller


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def post_raw(client, path, headers, text):
    return client.post(path, data=text.encode(), headers={**headers, "Content-Type": "application/json"})


def test_reordered_json_replays_the_first_answer(app, client, auth, clock):
    headers = {**auth.token("coordinator", "140000"), "Idempotency-Key": "ev-order"}
    first = client.post("/api/v1/events", json=EVENT, headers=headers)
    again = post_raw(client, "/api/v1/events", headers, EVENT_REORDERED)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert count(app, Event) == 1 and count(app, IdempotencyRecord) == 1


def test_same_key_different_value_is_409(app, client, auth, clock):
    headers = {**auth.token("coordinator", "140000"), "Idempotency-Key": "ev-value"}
    assert client.post("/api/v1/events", json=EVENT, headers=headers).status_code == 201
    other = post_raw(client, "/api/v1/events", headers, EVENT_REORDERED.replace("flood", "drought"))
    assert other.status_code == 409
    assert other.get_json()["errors"] == [{"field": "Idempotency-Key", "message": "与首次请求的内容不同"}]
    assert count(app, Event) == 1


def test_reordered_report_replays_in_the_one_transaction_path(app, client, auth, clock):
    event = client.post("/api/v1/events", json=EVENT, headers=auth.token("coordinator", "140000"))
    path = f"/api/v1/events/{event.get_json()['id']}/reports"
    headers = {**auth.token("officer", "140105"), "Idempotency-Key": "field-order"}
    report = {"region_code": "140105001200", "kind": "initial", "as_of": "2026-07-06T08:00:00+08:00",
              "figures": {"affected_population": 100, "deaths": 1}}
    first = client.post(path, json=report, headers=headers)
    reordered = json.dumps(dict(reversed(list({**report, "figures": {"deaths": 1, "affected_population": 100}}
                                              .items()))), indent=2, ensure_ascii=False)
    again = post_raw(client, path, headers, reordered)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(app, LossReport) == 1
    changed = post_raw(client, path, headers, reordered.replace('"deaths": 1', '"deaths": 2'))
    assert changed.status_code == 409 and count(app, LossReport) == 1


def fingerprint(app, path="/api/v1/events", method="POST", **request) -> str:
    with app.test_request_context(path, method=method, **request):
        return request_fingerprint(f"{method} {path}")


def test_fingerprint_is_canonical_json_with_method_and_path(app):
    canonical = fingerprint(app, data=EVENT_REORDERED, content_type="application/json")
    assert canonical == fingerprint(app, json=EVENT)
    assert canonical != fingerprint(app, json={**EVENT, "name": "x"})
    assert canonical != fingerprint(app, path="/api/v1/depots", json=EVENT)
    assert canonical != fingerprint(app, method="PUT", json=EVENT)


def test_non_json_bodies_count_by_their_bytes(app):
    text = fingerprint(app, data='{"a": 1}', content_type="text/plain")
    assert text != fingerprint(app, data='{"a":1}', content_type="text/plain")  # not parsed
    assert text == fingerprint(app, data='{"a": 1}', content_type="text/plain")
    broken = fingerprint(app, data='{"a": 1,', content_type="application/json")
    assert broken != fingerprint(app, data='{"a":1,', content_type="application/json")


def test_multipart_counts_by_fields_and_file_contents_not_boundary(app):
    import io

    def upload(content: bytes, mode="create", name="ledger.xlsx"):
        return fingerprint(app, path="/api/v1/households/import", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(content), name), "mode": mode})

    first = upload(b"PK\x03\x04 ledger")
    assert first == upload(b"PK\x03\x04 ledger")  # a new boundary each time
    assert first != upload(b"PK\x03\x04 other")
    assert first != upload(b"PK\x03\x04 ledger", mode="upsert")


def test_ledger_upload_with_a_key_is_replayed(app, client, auth):
    """The household ledger import (multipart) honours Idempotency-Key: the same file again
    replays the first answer instead of reporting every row as already imported."""
    from pathlib import Path
    import io

    from app.cycles.models import Household

    ledger = (Path(__file__).parent / "data" / "cycles_ledger.xlsx").read_bytes()
    headers = {**auth.token("coordinator", "140105"), "Idempotency-Key": "ledger-1"}

    def upload(content):
        return client.post("/api/v1/households/import", headers=headers,
                           data={"file": (io.BytesIO(content), "ledger.xlsx"), "mode": "create"},
                           content_type="multipart/form-data")

    first = upload(ledger)
    assert first.status_code == 200, first.get_json()
    again = upload(ledger)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert count(app, Household) == first.get_json()["created"]
    assert upload(ledger + b"\0").status_code == 409


# --- only final answers are stored ------------------------------------------------------------

def test_finality_of_answers():
    from app.idempotency import is_final
    from app.errors import Conflict, Invalid, RetryableConflict

    assert is_final(201) and is_final(200) and is_final(422, Invalid()) and is_final(409, Conflict())
    assert is_final(403) and is_final(404)
    assert not is_final(409, RetryableConflict()) and not is_final(429) and not is_final(500)
    assert not is_final(503) and not is_final(408)


def _events_failing_once(monkeypatch, failure: BaseException):
    """``service.create_event`` fails once with ``failure``, then works."""
    from app.reports import service

    real, calls = service.create_event, []

    def flaky(user, data):
        calls.append(1)
        if len(calls) == 1:
            raise failure
        return real(user, data)

    monkeypatch.setattr(service, "create_event", flaky)
    return calls


@pytest.mark.parametrize("failure, status", [
    ("retryable", 409),
    ("rate_limited", 429),
    ("server_error", 500),
])
def test_a_retryable_answer_releases_the_key_so_the_retry_runs(app, client, auth, clock, monkeypatch,
                                                               failure, status):
    from werkzeug.exceptions import TooManyRequests

    from app.errors import RetryableConflict

    app.config["PROPAGATE_EXCEPTIONS"] = False  # the 500 as a client sees it
    raised = {"retryable": RetryableConflict("并发冲突，请稍后重试。"), "rate_limited": TooManyRequests(),
              "server_error": RuntimeError("database restarted")}[failure]
    calls = _events_failing_once(monkeypatch, raised)
    headers = {**auth.token("coordinator", "140000"), "Idempotency-Key": f"retry-{failure}"}
    first = client.post("/api/v1/events", json=EVENT, headers=headers)
    assert first.status_code == status
    assert count(app, IdempotencyRecord) == 0  # nothing stored under the key
    retry = client.post("/api/v1/events", json=EVENT, headers=headers)
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    assert len(calls) == 2 and count(app, Event) == 1
    again = client.post("/api/v1/events", json=EVENT, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == retry.get_json()


def test_a_request_that_died_releases_the_key(app, client, auth, clock, monkeypatch):
    """A worker killed mid-request (gunicorn's timeout raises SystemExit in it) leaves no answer."""
    _events_failing_once(monkeypatch, SystemExit(1))
    headers = {**auth.token("coordinator", "140000"), "Idempotency-Key": "died"}
    with pytest.raises(SystemExit):
        client.post("/api/v1/events", json=EVENT, headers=headers)
    assert count(app, IdempotencyRecord) == 0
    assert client.post("/api/v1/events", json=EVENT, headers=headers).status_code == 201


def test_a_final_refusal_is_stored_and_replayed(app, client, auth, clock):
    headers = {**auth.token("coordinator", "140000"), "Idempotency-Key": "refused"}
    bad = {**EVENT, "hazard": "volcano"}
    first = client.post("/api/v1/events", json=bad, headers=headers)
    again = client.post("/api/v1/events", json=bad, headers=headers)
    assert first.status_code == again.status_code == 422
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()


def test_report_lost_race_409_is_not_replayed_in_the_one_transaction_path(app, client, auth, clock, monkeypatch):
    """"Submitted concurrently, retry" (every sequence number taken) is retryable: the retry
    with the same key files the report instead of replaying the 409 for ever."""
    from app.reports.service import reports as filing

    event = client.post("/api/v1/events", json=EVENT, headers=auth.token("coordinator", "140000"))
    path = f"/api/v1/events/{event.get_json()['id']}/reports"
    headers = {**auth.token("officer", "140105"), "Idempotency-Key": "lost-race"}
    report = {"region_code": "140105001200", "kind": "initial", "as_of": "2026-07-06T08:00:00+08:00",
              "figures": {"affected_population": 100}}
    with monkeypatch.context() as patched:
        patched.setattr(filing, "insert_unless_taken", lambda report: False)
        lost = client.post(path, json=report, headers=headers)
    assert lost.status_code == 409 and lost.get_json()["errors"][0]["message"] == "并发冲突，可重试"
    assert count(app, IdempotencyRecord) == 0
    retry = client.post(path, json=report, headers=headers)
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    assert count(app, LossReport) == 1


@pytest.mark.parametrize("key", ["a\u0000b", "x" * 201, "tab\there"])
def test_an_idempotency_key_must_be_printable_and_short(app, client, auth, clock, key):
    response = client.post("/api/v1/events", json=EVENT,
                           headers={**auth.token("coordinator", "140000"), "Idempotency-Key": key})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "Idempotency-Key"
    assert count(app, Event) == 0
