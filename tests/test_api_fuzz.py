"""Every operation of the OpenAPI document, fuzzed with schemathesis over a small seeded world:
no input may cause a server error, and every answer must be documented (status code, content
type, body schema). Runs on SQLite and on PostgreSQL (the ``app`` fixture marks it ``db``).

Bounded: ``FUZZ_EXAMPLES`` valid cases per operation, as many invalid ones, and as many valid
ones at the rows of the seeded world where the operation has path parameters; derandomised
(the same cases every run), no shrinking, a deadline per case. Destructive operations are fine: the
test has a database of its own. The number of cases tried is printed (with or without ``-s``) and must exceed a
floor, so the run can never silently test nothing.
"""
from __future__ import annotations

import os
import time
import traceback
from collections import Counter
from datetime import timedelta

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from tests.factories import make_user

#: Valid and invalid cases per operation (each); ``JIUZAI_FUZZ_EXAMPLES`` overrides.
FUZZ_EXAMPLES = int(os.environ.get("JIUZAI_FUZZ_EXAMPLES", "12"))
#: One case (a request in-process) taking longer than this is a failure of its own.
CASE_DEADLINE = timedelta(seconds=10)
#: Fewer cases than this over the whole document means the run did not really happen.
MIN_CASES = 800
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def seed_world(app, client, auth) -> dict:
    """A national admin's token over a small world: the shipped plans, an event with reports from
    villages and a county, two depots with stock and a dispatch request, a depot manager,
    households, a fund and a transitional cycle open for survey."""
    from tests.test_cycles_support import make_fund, make_household
    from tests.test_depots_api import make_depot
    from tests.test_responses_support import Reporter, create_event, load_plans

    load_plans(app)
    headers = auth.token("admin", "000000")
    with app.app_context():
        make_user("depot_manager", "140105", "fuzz-manager")
    make_depot(app, "XD-140105", "140105", stock={"tent": 500, "quilt": 800})
    make_depot(app, "SJ-140000", "140000", tier="provincial", lon=112.55, lat=37.87, stock={"tent": 2000})
    event_id = create_event(client, headers, ["140105", "140106"])
    report = Reporter(client, headers, event_id)
    report("140105001200", deaths=1, collapsed_rooms=10, collapsed_households=5)
    report("140105001201", missing=1)
    report("140106", relocated_population=500)
    dispatch = client.post("/api/v1/dispatches", headers=headers, json={
        "from_depot": "XD-140105", "to_region_code": "140105", "event_id": event_id,
        "note": "先行调拨（无安置人口，超出需求）", "lines": [{"item": "tent", "quantity": 5}]})
    assert dispatch.status_code == 201, dispatch.get_json()
    for damage in ("collapsed", "severely_damaged", "none"):
        make_household(app, damage_class=damage)
    fund = make_fund(app, "transitional", 100_000)
    cycle = client.post("/api/v1/cycles", headers=headers, json={
        "kind": "transitional", "region_code": "140105", "event_id": event_id, "fund_line_id": fund})
    assert cycle.status_code == 201, cycle.get_json()
    cycle_id = cycle.get_json()["id"]
    assert client.post(f"/api/v1/cycles/{cycle_id}/transitions", headers=headers,
                       json={"action": "open_survey"}).status_code == 200
    return headers


#: Path parameters of the seeded world, so that valid cases reach real rows (ids are the first
#: of each table: the world is seeded into a fresh database).
KNOWN = {"event_id": 1, "report_id": 1, "photo_id": 1, "dispatch_id": 1, "request_id": 1, "cycle_id": 1,
         "household_id": 1, "roll_id": 1, "notice_id": 1, "complaint_id": 1, "project_id": 1,
         "source_id": 1, "line_id": 1, "notification_id": 1, "year": 2025, "plan_id": "county-sample",
         "item": "tent", "username": "fuzz-manager", "region_code": "140105"}


#: Operations that can end the credentials they are called with (revoke my token, change my
#: password, deactivate or reset a user): each case gets a throwaway national admin of its own, so
#: that the shared token stays valid for the operations after them.
ACCOUNT_PATHS = ("/me/", "/users")


def ends_credentials(operation) -> bool:
    return operation.path.startswith(ACCOUNT_PATHS)


def known_path(operation) -> dict:
    names = [p.name for p in operation.path_parameters]
    fixed = {name: KNOWN[name] for name in names if name in KNOWN}
    if "code" in names:
        fixed["code"] = "140105" if operation.path.startswith("/regions/") else "XD-140105"
    return fixed


def test_every_operation_answers_without_server_error_and_as_documented(app, client, auth, capsys):
    # identity: the map layers are gzipped for clients that accept it, and the checks read the body
    headers = {**seed_world(app, client, auth), "Accept-Encoding": "identity"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 80  # the whole API is documented
    only = os.environ.get("JIUZAI_FUZZ_ONLY")  # e.g. "GET /events" while debugging one operation
    if only:
        operations = [op for op in operations if only in op.label]

    tried = 0
    statuses: Counter = Counter()
    failures: list[str] = []
    started = time.monotonic()
    for operation in operations:
        fixed = known_path(operation)
        strategies = [operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE)]
        if fixed:  # valid input at rows that exist, beside the free-for-all
            strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed))
        for strategy in strategies:
            @settings(max_examples=FUZZ_EXAMPLES, derandomize=True, database=None, deadline=CASE_DEADLINE,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def run(case):
                nonlocal tried
                tried += 1
                own = {**headers, **auth.token("admin", "000000")} if ends_credentials(operation) else headers
                try:
                    # TESTING propagates an unhandled exception: the server error itself
                    response = case.call(headers=own)
                except Exception as exc:
                    where = traceback.extract_tb(exc.__traceback__)[-1]
                    failures.append(f"{operation.label}: server error {exc!r} at {where.filename}:{where.lineno}"
                                    f"\n    {case.as_curl_command()}")
                    return
                statuses[f"{response.status_code // 100}xx"] += 1
                try:
                    case.validate_response(response, checks=CHECKS)
                except (Exception, BaseExceptionGroup) as exc:  # gathered: one run names every failure
                    failures.append(f"{operation.label}: {str(exc)[:1500]}")

            run()
    elapsed = time.monotonic() - started
    with capsys.disabled():  # shown in every run, -s or not
        print(f"\nschemathesis: {tried} cases over {len(operations)} operations in {elapsed:.0f} s "
              f"({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}), {len(failures)} failures")
    assert not failures, "\n\n".join(failures[:30])
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # the shared token lived on
    if not only:
        assert tried >= MIN_CASES
        assert statuses["2xx"] >= MIN_CASES // 10  # valid input did reach the work, not only the refusals
