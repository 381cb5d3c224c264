"""Helpers shared by the cycle tests (no tests here): households with valid identity numbers,
events, funds, the walk of a cycle up to disbursing, and the time machine's run-due."""
from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

from app import idcard

SH = ZoneInfo("Asia/Shanghai")
VILLAGE, VILLAGE2 = "140105001200", "140105001201"
_seq = itertools.count(101)


def at(text: str) -> datetime:
    """A Shanghai wall-clock time: ``at("2025-08-01 09:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def id_number(county: str = "140105", born: str = "19700101") -> str:
    return idcard.with_check_character(f"{county}{born}{next(_seq):03d}")


def make_household(app, **overrides) -> int:
    from app.cycles.models import Household
    from app.extensions import db

    with app.app_context():
        data = {"village_code": VILLAGE, "head_name": "王某", "id_number": id_number(), "members": 3,
                "damage_class": "none", "bank_account": "6217000011112222", "bank_name": "农信社", **overrides}
        household = Household(**data)
        db.session.add(household)
        db.session.commit()
        return household.id


def make_event(app, *, hazard="flood", regions=("140105",), started=None, stabilised=None) -> int:
    from app.extensions import db
    from app.regions.models import Region
    from app.reports.models import Event

    with app.app_context():
        event = Event(name="示例洪涝" if hazard != "drought" else "示例干旱", hazard=hazard,
                      started_at=started or at("2025-07-10 08:00"), stabilised_at=stabilised,
                      status="stable" if stabilised else "active")
        event.regions = [db.session.get(Region, code) for code in regions]
        db.session.add(event)
        db.session.commit()
        return event.id


def make_fund(app, kind: str, yuan: float, county: str = "140105", code: str | None = None) -> int:
    from app.cycles.service.funds import post_allocation
    from app.cycles.models import FundLine, FundSource
    from app.extensions import db

    with app.app_context():
        source = FundSource(code=code or f"F-{kind}-{county}-{next(_seq)}", name=f"测试资金 {kind}",
                            level="central", region_code=county, year=2025)
        db.session.add(source)
        db.session.flush()
        line = FundLine(source_id=source.id, relief_item=kind, budget_fen=0, spent_fen=0, balance_fen=0)
        db.session.add(line)
        db.session.flush()
        post_allocation(None, line, int(round(yuan * 100)), "测试下达")
        db.session.commit()
        return line.id


def post(client, headers, path, body=None, status=None):
    response = client.post(f"/api/v1{path}", json=body if body is not None else {}, headers=headers)
    if status is not None:
        assert response.status_code == status, (path, response.status_code, response.get_json())
    return response


def level_token(client, role: str, region: str) -> dict:
    """A bearer token for a user made on the fly in ``region`` (a village, township or county)."""
    from tests.conftest import AuthActions

    return AuthActions(client.application, client).token(role, region)


def township_of(village: str) -> str:
    return village[:9]


def _rows(client, headers, cycle_id) -> list[dict]:
    return client.get(f"/api/v1/cycles/{cycle_id}/beneficiaries", headers=headers).get_json()["items"]


def village_review(client, headers, cycle_id, decisions: list[dict], status=200):
    """民主评议: each village's decisions posted by an officer of that village (``decisions``
    name household ids; the village is read from the cycle's rows)."""
    villages = {r["household_id"]: r["village_code"] for r in _rows(client, headers, cycle_id)}
    response = None
    for village in sorted({villages[d["household_id"]] for d in decisions}):
        mine = [d for d in decisions if villages[d["household_id"]] == village]
        response = post(client, level_token(client, "officer", village), f"/cycles/{cycle_id}/reviews",
                        {"stage": "village", "decisions": mine}, status)
    return response


def township_review(client, headers, cycle_id, decisions: list[dict], status=200):
    """乡审: each township's decisions posted by an officer of that township."""
    villages = {r["household_id"]: r["village_code"] for r in _rows(client, headers, cycle_id)}
    response = None
    for township in sorted({township_of(villages[d["household_id"]]) for d in decisions}):
        mine = [d for d in decisions if township_of(villages[d["household_id"]]) == township]
        response = post(client, level_token(client, "officer", township), f"/cycles/{cycle_id}/reviews",
                        {"stage": "township", "decisions": mine}, status)
    return response


#: A one-pixel PNG: the photo of a house check.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5d8a1f50000000049454e44ae426082")


def check_houses(client, headers, cycle_id):
    """逐户核查 (reconstruction): each township confirms the registered class of its houses."""
    import io

    for row in _rows(client, headers, cycle_id):
        if row["checked_at"]:
            continue
        household = client.get(f"/api/v1/households/{row['household_id']}", headers=headers).get_json()
        response = client.post(f"/api/v1/cycles/{cycle_id}/checks", content_type="multipart/form-data",
                               headers=level_token(client, "officer", township_of(row["village_code"])),
                               data={"household_id": str(row["household_id"]), "checkers": "核查组",
                                     "found_class": household["damage_class"], "late_reason": "补查",
                                     "photos": [(io.BytesIO(PNG), "house.png")]})
        assert response.status_code == 201, response.get_json()


def walk_to_notice(client, headers, cycle_id, *, approve=None, propose=True, items=None):
    """draft → survey (申请; reconstruction: the townships check each house) → village_review
    (民主评议 by the villages) → notice. Returns the household ids the villages approved."""
    post(client, headers, f"/cycles/{cycle_id}/transitions", {"action": "open_survey"}, 200)
    if items is not None:
        post(client, headers, f"/cycles/{cycle_id}/beneficiaries", {"items": items}, 201)
    if propose:
        post(client, headers, f"/cycles/{cycle_id}/beneficiaries/propose", {}, 201)
    cycle = client.get(f"/api/v1/cycles/{cycle_id}", headers=headers).get_json()
    if cycle["kind"] == "reconstruction":
        check_houses(client, headers, cycle_id)
    rows = _rows(client, headers, cycle_id)
    eligible = [r["household_id"] for r in rows if r["eligible"]]
    chosen = eligible if approve is None else [h for h in eligible if h in approve]
    post(client, headers, f"/cycles/{cycle_id}/transitions", {"action": "submit_review"}, 200)
    decisions = [{"household_id": h, "decision": "approve"} for h in chosen]
    decisions += [{"household_id": r["household_id"], "decision": "reject"} for r in rows
                  if r["household_id"] not in chosen]
    village_review(client, headers, cycle_id, decisions)
    post(client, headers, f"/cycles/{cycle_id}/transitions", {"action": "start_notice", "location": "村务公开栏"}, 200)
    return chosen


def approve_cycle(client, headers, cycle_id, status=200, *, reject_township=()):
    """After the notice: the township ends it and does its 乡审 (every household noticed is
    approved but ``reject_township``), then the county (``headers``) approves (县批). Returns the
    first response that is not a success (the notice still running: 409), else the approval's."""
    cycle = client.get(f"/api/v1/cycles/{cycle_id}", headers=headers).get_json()
    rows = _rows(client, headers, cycle_id)
    if cycle["status"] == "notice":
        township = township_of(rows[0]["village_code"]) if rows else "140105001"
        ended = post(client, level_token(client, "officer", township), f"/cycles/{cycle_id}/transitions",
                     {"action": "end_notice"})
        if ended.status_code != 200:
            if status is not None:
                assert ended.status_code == status, ended.get_json()
            return ended
    decisions = [{"household_id": r["household_id"],
                  "decision": "reject" if r["household_id"] in reject_township else "approve"}
                 for r in rows if r["village_decision"] == "approve" and r["township_decision"] is None]
    if decisions:
        township_review(client, headers, cycle_id, decisions)
    return post(client, headers, f"/cycles/{cycle_id}/transitions", {"action": "approve"}, status)


def walk_roll(client, headers, roll_id, *, until="frozen", status=200):
    """A supplementary roll's way: each village approves (民主评议), the notice is posted; then
    (the notice having run: the caller travels in time) each township approves, the county
    freezes it. ``until``: ``"notice"`` stops after the villages."""
    roll = client.get(f"/api/v1/rolls/{roll_id}", headers=headers).get_json()
    if roll["status"] == "village":
        for village in roll["waiting"]["village"]:
            post(client, level_token(client, "officer", village), f"/rolls/{roll_id}/steps",
                 {"stage": "village", "decision": "approve", "location": "村务公开栏"}, 200)
        if until == "notice":
            return client.get(f"/api/v1/rolls/{roll_id}", headers=headers).get_json()
        roll = client.get(f"/api/v1/rolls/{roll_id}", headers=headers).get_json()
    if roll["status"] in ("notice", "township"):
        for township in roll["waiting"]["township"]:
            response = post(client, level_token(client, "officer", township), f"/rolls/{roll_id}/steps",
                            {"stage": "township", "decision": "approve"})
            if response.status_code != 200:
                if status is not None:
                    assert response.status_code == status, response.get_json()
                return response
    return post(client, headers, f"/rolls/{roll_id}/approve", {}, status)


def run_due(runner, when: datetime, *jobs: str):
    args = ["scheduler", "run-due", "--now", when.isoformat()]
    for job in jobs:
        args += ["--job", job]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.output


def paid_total(app, cycle_id: int) -> float:
    from sqlalchemy import func, select

    from app.cycles.models import Payment
    from app.extensions import db

    with app.app_context():
        return int(db.session.scalar(select(func.coalesce(func.sum(Payment.amount_fen), 0))
                                     .where(Payment.cycle_id == cycle_id))) / 100
