"""The response panel of the event page (应急响应面板): one card per plan × unit the user may
see, with the recommended tier, every criterion of every level against its threshold, the gaps to
the next tier, the response in force, the 衔接 warnings, and whether the user may decide.

The panel is a read for whoever may view the event's responses (``response.view``); the actions
a card offers come from the permission function here, so the template decides nothing.
"""
from __future__ import annotations

import response_levels as rl

from ...permissions import can
from ...reports import Event
from ..models import ResponseAction
from .access import unit_visible
from .alignment import alignment_flags
from .decisions import active_responses
from .evaluation import evaluate_event
from .plans import STATUS_LABELS, active_plan_rows, plan_of


def _bar(term: dict) -> dict:
    threshold = term["threshold"] or 0
    share = 100.0 if threshold <= 0 else min(100.0, 100.0 * term["value"] / threshold)
    return {**term, "percent": round(share, 1)}


def _levels(plan: rl.Plan, ev: dict, current: ResponseAction | None) -> list[dict]:
    """Each level of the plan with its criteria as bars; the levels in question are open."""
    focus = {ev["rank"], ev["next_rank"], current.rank if current else None}
    levels = []
    for level in plan.levels:
        terms = [_bar(t) for t in ev["criteria"] if t["rank"] == level.rank]
        levels.append({"label": level.label, "rank": level.rank, "status": level.status,
                       "status_label": STATUS_LABELS.get(level.status, level.status),
                       "terms": terms, "open": level.rank in focus})
    return levels


def _card(user, ev: dict, plan: rl.Plan, current: ResponseAction | None, flags: list[dict]) -> dict:
    return {
        "evaluation": ev, "levels": _levels(plan, ev, current), "gaps": list(ev["gaps"])[:4],
        "options": [(lv.label, lv.rank) for lv in plan.levels],
        "active": current.to_dict() if current else None,
        "can_manage": (can(user, "response.manage", ev["jurisdiction_code"])
                       and can(user, "response.manage", ev["region_code"])),
        "flags": [f for f in flags if f["region_code"] == ev["region_code"]
                  and f["jurisdiction_code"] == ev["jurisdiction_code"]],
        "anchor": f"resp-{ev['plan_id']}-{ev['region_code']}",
    }


def event_panel(user, event: Event) -> dict:
    """What the event page's response panel shows: one card per plan × unit with the tier,
    every criterion against its threshold, the gaps to the next tier, the response in force,
    whether the user may act, and the 衔接 warnings."""
    if not can(user, "response.view"):
        return {"cards": [], "flags": [], "visible": False}
    evaluations = evaluate_event(event)
    active = active_responses(event.id)
    flags = alignment_flags(event, evaluations) if active else []
    evaluations = [e for e in evaluations if unit_visible(user, e["region_code"])]
    flags = [f for f in flags if unit_visible(user, f["region_code"])]
    rows = {row.plan_id: row for row in active_plan_rows()}
    cards = [_card(user, ev, plan_of(rows[ev["plan_id"]]), active.get((ev["plan_id"], ev["region_code"])),
                   flags)
             for ev in evaluations]
    return {"cards": cards, "flags": flags, "visible": True, "event_id": event.id}
