"""Helpers shared by the cycle tests (no tests here): households with valid identity numbers,
events, funds, the walk of a cycle up to disbursing, and the time machine's run-due."""
from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

from app.cycles import idcard

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


def walk_to_notice(client, headers, cycle_id, *, approve=None, reject_township=(), propose=True, items=None):
    """draft → survey → (beneficiaries) → review (村评 + 乡审) → notice. Returns household ids approved."""
    post(client, headers, f"/cycles/{cycle_id}/transitions", {"action": "open_survey"}, 200)
    if items is not None:
        post(client, headers, f"/cycles/{cycle_id}/beneficiaries", {"items": items}, 201)
    if propose:
        post(client, headers, f"/cycles/{cycle_id}/beneficiaries/propose", {}, 201)
    rows = client.get(f"/api/v1/cycles/{cycle_id}/beneficiaries", headers=headers).get_json()["items"]
    eligible = [r["household_id"] for r in rows if r["eligible"]]
    chosen = eligible if approve is None else [h for h in eligible if h in approve]
    post(client, headers, f"/cycles/{cycle_id}/transitions", {"action": "submit_review"}, 200)
    decisions = [{"household_id": h, "decision": "approve"} for h in chosen]
    decisions += [{"household_id": r["household_id"], "decision": "reject"} for r in rows
                  if r["household_id"] not in chosen]
    post(client, headers, f"/cycles/{cycle_id}/reviews", {"stage": "village", "decisions": decisions}, 200)
    township = [{"household_id": h, "decision": "reject" if h in reject_township else "approve"} for h in chosen]
    if township:
        post(client, headers, f"/cycles/{cycle_id}/reviews", {"stage": "township", "decisions": township}, 200)
    post(client, headers, f"/cycles/{cycle_id}/transitions", {"action": "start_notice", "location": "村务公开栏"}, 200)
    return [h for h in chosen if h not in reject_township]


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
