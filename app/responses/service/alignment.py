"""上下级衔接: a unit's response must not be below the response of a government above it.

Responses are grouped by the unit they concern: a response for a unit is compared with the
responses for that unit and for the regions containing it, by the plans' jurisdictions, with
:func:`response_levels.misaligned_responses` and :func:`gis.codes.ancestors`. A unit is also
flagged when a covering government responds and a plan of the unit's own government covers it
but no response of its own is in force. Each flag is put in words with region and plan names.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

import response_levels as rl
from gis import codes

from ...extensions import db
from ...regions import Region
from ...reports import Event
from ..models import ContingencyPlan, ResponseAction
from .access import get_event, unit_visible
from .decisions import active_responses
from .evaluation import evaluate_event
from .plans import active_plan_rows, level_name, plan_of


def _expectations(evaluations: list[dict], active: list[ResponseAction]
                  ) -> tuple[dict[str, set[str]], dict[tuple[str, str], str]]:
    """For each unit, the jurisdictions expected to respond for it (a plan of theirs evaluates
    it, or they already do), and the plan that evaluates it for each of them."""
    expected: dict[str, set[str]] = defaultdict(set)
    scope_plan: dict[tuple[str, str], str] = {}
    for ev in evaluations:
        expected[ev["region_code"]].add(ev["jurisdiction_code"])
        scope_plan.setdefault((ev["region_code"], ev["jurisdiction_code"]), ev["plan_id"])
    for row in active:
        expected[row.region_code].add(row.jurisdiction_code)
    return expected, scope_plan


def _plans_and_names(active: list[ResponseAction], wanted: set[str]
                     ) -> tuple[dict[str, rl.Plan], dict[str, str]]:
    """The plans in force and those the active responses were decided under, and the names of
    the ``wanted`` regions (the nation too)."""
    plans = {row.plan_id: plan_of(row) for row in active_plan_rows()}
    plans.update({row.plan_id: plan_of(db.session.get(ContingencyPlan, row.contingency_plan_id))
                  for row in active})
    names = dict(db.session.execute(select(Region.code, Region.name)
                                    .where(Region.code.in_(list(wanted)))).all())
    names[codes.NATIONAL] = "国家"
    return plans, names


def _flag_dict(flag, scope: str, chain: list[ResponseAction], own_plan_id: str | None,
               plans: dict[str, rl.Plan], names: dict[str, str]) -> dict:
    """One flag of the library with the unit's name, the levels in the plans' own labels, the
    covering response it falls below and its message."""
    parent = next((row for row in chain
                   if row.jurisdiction_code == flag.parent_jurisdiction_code
                   and row.plan_id == flag.parent_plan_id
                   and row.rank == flag.required_rank), None)
    own_plan = plans.get(own_plan_id) if own_plan_id else None
    data = flag.to_dict()
    data.update(
        expected_plan_id=own_plan_id, region_code=scope, region_name=names.get(scope, scope),
        level=_label(own_plan, flag.rank) if flag.rank else None,
        required_level=_label(own_plan, flag.required_rank),
        parent_region_code=parent.region_code if parent else None,
        parent_level=parent.level if parent else rl.rank_zh(flag.required_rank))
    data["message"] = _flag_message(data, names, plans)
    return data


def alignment_flags(event: Event, evaluations: list[dict] | None = None) -> list[dict]:
    """Every unit whose response is below a covering response (or missing while a covering
    government responds and a plan of its own covers it)."""
    active = list(active_responses(event.id).values())
    if not active:
        return []
    evaluations = evaluate_event(event) if evaluations is None else evaluations
    expected, scope_plan = _expectations(evaluations, active)
    plans, names = _plans_and_names(active, set(expected) | {row.jurisdiction_code for row in active})
    flags = []
    for scope in sorted(expected):
        chain = [row for row in active if codes.is_within(scope, row.region_code)]
        if not chain:
            continue
        responses = [rl.ActiveResponse(row.jurisdiction_code, row.plan_id, row.rank) for row in chain]
        for flag in rl.misaligned_responses(responses, codes.ancestors, sorted(expected[scope])):
            if flag.jurisdiction_code not in expected[scope]:
                continue
            own_plan_id = flag.plan_id or scope_plan.get((scope, flag.jurisdiction_code))
            flags.append(_flag_dict(flag, scope, chain, own_plan_id, plans, names))
    return flags


def _flag_message(flag: dict, names: dict[str, str], plans: dict[str, rl.Plan]) -> str:
    """The flag in words, with region and plan names (the library's text names codes)."""
    def plan_name(plan_id):
        plan = plans.get(plan_id)
        return f"《{plan.name}》" if plan else plan_id

    unit = f"{flag['region_name']}（{flag['region_code']}）"
    parent = (f"上级{names.get(flag['parent_jurisdiction_code'], flag['parent_jurisdiction_code'])}"
              f"已按{plan_name(flag['parent_plan_id'])}启动{level_name(flag['parent_level'])}")
    required = level_name(flag["required_level"])
    if flag["kind"] == "below_parent":
        return (f"{unit}按{plan_name(flag['plan_id'])}启动的{level_name(flag['level'])}低于上级："
                f"{parent}；按上下级衔接，应不低于{required}。")
    return (f"{unit}尚未按{plan_name(flag['expected_plan_id'])}启动响应，而{parent}；"
            f"按上下级衔接，应启动不低于{required}的响应。")


def _label(plan: rl.Plan | None, rank: int) -> str:
    if plan is not None:
        for level in plan.levels:
            if level.rank == rank:
                return level.label
    return rl.rank_zh(rank)


def alignment(user, event_id: int) -> dict:
    """``GET /events/{id}/alignment``: the flags of the units the user may see."""
    event = get_event(user, event_id)
    return {"event_id": event.id,
            "flags": [f for f in alignment_flags(event) if unit_visible(user, f["region_code"])]}
