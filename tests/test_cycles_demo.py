"""The demo step ``app.cycles.demo:load_cycles``: idempotent, and graceful without a demo event."""
from __future__ import annotations

from sqlalchemy import func, select

from app import idcard
from tests.test_cycles_support import make_event


def _load(app):
    from app.cycles.demo import load_cycles

    said = []
    with app.app_context():
        load_cycles(said.append)
    return said


def _counts(app):
    from app.cycles.models import Beneficiary, Cycle, FundLine, Household
    from app.extensions import db

    with app.app_context():
        return tuple(db.session.scalar(select(func.count(model.id))) for model in (Household, Cycle, Beneficiary, FundLine))


def test_demo_without_an_event_loads_households_and_funds_only(app):
    said = _load(app)
    assert "没有演示灾害过程，跳过过渡期生活救助周期。" in said
    assert _counts(app) == (6, 0, 0, 1)
    assert "受灾户：新增 0 户（示例一村）。" in _load(app)
    assert _counts(app) == (6, 0, 0, 1)


def test_demo_with_the_event_opens_a_transitional_survey(app, client, auth):
    from app.cycles.models import Household
    from app.extensions import db

    make_event(app)
    said = _load(app)
    assert any(line.startswith("过渡期生活救助周期 #") and "列入 4 户" in line for line in said)
    assert _counts(app) == (6, 1, 4, 1)
    assert any("已存在" in line for line in _load(app))
    assert _counts(app) == (6, 1, 4, 1)
    with app.app_context():
        assert all(idcard.is_valid(n) for n in db.session.scalars(select(Household.id_number)))
    body = client.get("/api/v1/cycles", headers=auth.token("coordinator", "140105")).get_json()
    assert body["items"][0]["status"] == "survey" and body["items"][0]["fund_line_id"]
