"""Decisions on responses (启动 / 调整 / 终止响应): the record of every decision, the responses in
force, and taking a decision.

A decision names the plan, the unit the plan evaluates, the plan's own level label and a reason;
it records the plan version in force and what the latest figures recommended. The record is
append-only and numbered per (event, plan, unit): two concurrent decisions on one response cannot
both succeed. A response moves only through :data:`~app.responses.models.RESPONSE_MACHINE`.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import response_levels as rl

from ... import audit
from ...api import Field, validate
from ...database import lock_for_update
from ...errors import Conflict, Invalid, RetryableConflict
from ...extensions import db
from ...models_common import utcnow
from ...permissions import require
from ...reports import Event
from ..models import ACTIONS, RESPONSE_MACHINE, ContingencyPlan, ResponseAction
from .access import get_event
from .evaluation import evaluate_event
from .plans import UNIT_LABELS, plan_of

RESPONSE_FIELDS = {
    "plan_id": Field("str", max_length=80, description="预案编号，如 national-2016"),
    "region_code": Field("code", description="预案评估的单元（国家预案：受灾省份）"),
    "level": Field("str", required=False, max_length=20,
                   description="预案自己的等级名称（Ⅳ、四级）；终止时可省略"),
    "action": Field("str", choices=("start", "adjust", "end")),
    "reason": Field("str", required=False, default="", max_length=4000, multiline=True,
                    description="理由：调整、终止必填；未达到启动条件（预测启动）时必填"),
}


# --- The record -------------------------------------------------------------------------------

def latest_actions(event_id: int) -> dict[tuple[str, str], ResponseAction]:
    """The last decision on each (plan, unit) of the event."""
    rows = db.session.scalars(select(ResponseAction).filter_by(event_id=event_id)
                              .order_by(ResponseAction.sequence, ResponseAction.id))
    latest: dict[tuple[str, str], ResponseAction] = {}
    for row in rows:
        latest[(row.plan_id, row.region_code)] = row
    return latest


def active_responses(event_id: int) -> dict[tuple[str, str], ResponseAction]:
    """Responses in force: the (plan, unit) pairs whose last decision is not an end."""
    return {key: row for key, row in latest_actions(event_id).items() if row.action != "end"}


def responses_in_force(user, event_id: int) -> list[ResponseAction]:
    """``GET /events/{id}/responses/active``: :func:`active_responses` by plan and unit."""
    event = get_event(user, event_id)
    return sorted(active_responses(event.id).values(), key=lambda r: (r.plan_id, r.region_code))


def history_query(user, event_id: int, plan_id: str | None = None, region_code: str | None = None):
    """A ``select`` of the event's decisions in the order they were taken."""
    event = get_event(user, event_id)
    stmt = select(ResponseAction).filter_by(event_id=event.id)
    if plan_id:
        stmt = stmt.filter_by(plan_id=plan_id)
    if region_code:
        stmt = stmt.filter_by(region_code=region_code)
    return stmt.order_by(ResponseAction.at, ResponseAction.id)


def event_record(user, event_id: int) -> dict:
    """The event's response page: the event, every decision, the action names."""
    stmt = history_query(user, event_id)
    history = db.session.scalars(stmt).all()
    names = dict(db.session.execute(select(ContingencyPlan.plan_id, ContingencyPlan.name)
                                    .where(ContingencyPlan.plan_id.in_({h.plan_id for h in history}))).all())
    return {"event": get_event(user, event_id), "history": history, "actions": ACTIONS, "plan_names": names}


# --- Taking a decision ------------------------------------------------------------------------

@dataclass
class _Proposal:
    """A decision as asked for, once every check passed."""

    action: str
    row: ContingencyPlan  # the plan version in force
    region_code: str
    level: rl.Level | None
    reason: str
    recommended: int | None  # the rank the latest figures recommend for the unit
    forecast: bool  # no threshold of the level met: started on a forecast (经会商研判)


def _read(data) -> tuple[dict, list[dict]]:
    """The fields of the request, ``None`` where a field is itself bad (so that no rule reads
    it), and the field errors."""
    fields, errors = validate(RESPONSE_FIELDS, data)
    bad = {error["field"] for error in errors}
    wanted = {"action": fields["action"], "plan_id": fields["plan_id"],
              "region_code": fields["region_code"], "reason": fields["reason"] or "",
              "level": fields["level"] or None}
    return {name: None if name in bad else value for name, value in wanted.items()}, errors


def _active_plan(user, plan_id: str | None, errors: list[dict]) -> ContingencyPlan | None:
    """The version in force of the plan, once the user may manage responses under it."""
    if plan_id is None:
        return None
    row = db.session.scalar(select(ContingencyPlan).filter_by(plan_id=plan_id, active=True))
    if row is None:
        errors.append({"field": "plan_id", "message": "预案不存在或未启用"})
        return None
    require(user, "response.manage", row.jurisdiction_code)
    return row


def _unit_evaluation(event: Event, row: ContingencyPlan, region_code: str,
                     errors: list[dict]) -> dict | None:
    """The plan's evaluation of the unit, or an error when the plan does not evaluate it."""
    evaluation = next((e for e in evaluate_event(event, [row]) if e["region_code"] == region_code),
                      None)
    if evaluation is None:
        errors.append({"field": "region_code",
                       "message": f"预案 {row.plan_id} 不评估此区划：应为本次灾害过程中该预案评估的单元"
                                  f"（{UNIT_LABELS.get(row.unit_level, row.unit_level)}，"
                                  f"在 {row.jurisdiction_code} 辖区内）"})
    return evaluation


def _level_by_label(plan: rl.Plan, label: str | None) -> rl.Level | None:
    if label is None:
        return None
    for level in plan.levels:
        if level.label == label.strip():
            return level
    return None


def _chosen_level(plan: rl.Plan | None, asked: dict, level_bad: bool, errors: list[dict]) -> rl.Level | None:
    """The plan's level named by the request; a start or an adjustment must name one."""
    label, action = asked["level"], asked["action"]
    labels = "、".join(level.label for level in plan.levels) if plan is not None else ""
    level = _level_by_label(plan, label) if plan is not None else None
    if label is not None and plan is not None and level is None:
        errors.append({"field": "level", "message": f"必须是该预案的等级之一：{labels}"})
    elif label is None and not level_bad and action in ("start", "adjust"):
        errors.append({"field": "level",
                       "message": f"必填，为该预案的等级之一：{labels}" if labels else "必填"})
    return level


def _check_reason(asked: dict, evaluated: bool, forecast: bool, errors: list[dict]) -> None:
    """An adjustment and an end always need a reason; a start on a forecast does too."""
    action, reason = asked["action"], asked["reason"]
    if action in ("adjust", "end") and reason == "":
        errors.append({"field": "reason", "message": f"{ACTIONS[action]}响应必须说明理由"})
    elif action == "start" and evaluated and forecast and reason == "":
        errors.append({"field": "reason",
                       "message": "当前灾情未达到该等级的启动条件：按预测或会商研判启动必须说明理由"})


def _proposal(user, event: Event, data) -> _Proposal:
    """Check the request in one pass: the field errors and the rule errors in one 422, a rule
    being skipped when a field it needs is itself bad. Permission on the plan and the unit is
    checked (403) before any rule reads their figures."""
    asked, errors = _read(data)
    level_bad = any(error["field"] == "level" for error in errors)
    row = _active_plan(user, asked["plan_id"], errors)
    if asked["region_code"] is not None:
        require(user, "response.manage", asked["region_code"])
    plan = plan_of(row) if row is not None else None
    evaluated = plan is not None and asked["region_code"] is not None
    evaluation = _unit_evaluation(event, row, asked["region_code"], errors) if evaluated else None
    level = _chosen_level(plan, asked, level_bad, errors)
    recommended = evaluation["rank"] if evaluation else None
    forecast = bool(level is not None and asked["action"] != "end"
                    and (recommended is None or recommended > level.rank))
    _check_reason(asked, evaluated, forecast, errors)
    if errors:
        raise Invalid("请求有 %d 处错误。" % len(errors), errors)
    return _Proposal(asked["action"], row, asked["region_code"], level, asked["reason"],
                     recommended, forecast)


def _check_transition(event: Event, latest: ResponseAction | None, state: str, asked: _Proposal) -> None:
    """The move is one the response's state allows (409 otherwise)."""
    RESPONSE_MACHINE.next_state(state, asked.action)
    if asked.action in ("start", "adjust") and event.status == "closed":
        raise Conflict("灾害过程已结束，不能启动或调整响应。")
    if asked.action == "adjust" and latest.rank == asked.level.rank:
        raise Conflict(f"当前已是{latest.level}响应，无需调整。",
                       [{"field": "level", "message": "与当前响应等级相同"}])


def _decision(user, event: Event, latest: ResponseAction | None, asked: _Proposal) -> ResponseAction:
    # an end closes the response at the level it was in
    level = None if asked.action == "end" else asked.level
    row = asked.row
    return ResponseAction(
        event_id=event.id, plan_id=row.plan_id, plan_version=row.version, contingency_plan_id=row.id,
        jurisdiction_code=row.jurisdiction_code, region_code=asked.region_code,
        sequence=(latest.sequence + 1) if latest else 1, action=asked.action,
        level=level.label if level else latest.level, rank=level.rank if level else latest.rank,
        recommended_rank=asked.recommended, forecast=asked.forecast, reason=asked.reason,
        user_id=getattr(user, "id", None), username=user.username, at=utcnow())


def record_action(user, event_id: int, data) -> ResponseAction:
    """Start, adjust or end a response (启动 / 调整 / 终止响应).

    ``data`` (the API's JSON body or a page's posted form, :data:`RESPONSE_FIELDS`) has
    ``plan_id``, ``region_code`` (the unit the plan evaluates), ``level`` (the plan's own label;
    optional for ``end``), ``action`` and ``reason``. A start with no threshold of that level met
    (a forecast, 经会商研判可能出现) needs a reason; an adjustment and an end always do. The
    decision records the plan version in force. Every problem is named in one 422
    (:func:`_proposal`).
    """
    event = get_event(user, event_id, "response.manage")
    asked = _proposal(user, event, data)
    plan_id, region_code = asked.row.plan_id, asked.region_code
    latest = db.session.scalar(lock_for_update(
        select(ResponseAction).filter_by(event_id=event.id, plan_id=plan_id, region_code=region_code)
        .order_by(ResponseAction.sequence.desc()).limit(1)))
    state = "none" if latest is None else ("ended" if latest.action == "end" else "active")
    _check_transition(event, latest, state, asked)
    decision = _decision(user, event, latest, asked)
    db.session.add(decision)
    audit.record(user, f"response.{asked.action}", "response", f"{event.id}:{plan_id}:{region_code}",
                 before={"level": latest.level, "state": state} if latest else {"state": state},
                 after={"level": decision.level, "plan_version": asked.row.version,
                        "forecast": asked.forecast, "reason": asked.reason},
                 region_code=region_code)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise RetryableConflict("该响应刚被他人更新，请刷新后重试。") from None
    return decision
