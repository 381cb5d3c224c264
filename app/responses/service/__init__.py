"""Response levels in the app (应急响应): plan versions, assessments on the latest totals, the
decisions of coordinators, 上下级衔接 and the notifications of a new or higher tier.

Every public function that acts for a user checks permission first, validates everything and
gathers every error, then runs one transaction that it commits, with an audit line. The pure
evaluation is :mod:`response_levels`; this package only feeds it the event's figures. By subject:
:mod:`.plans` (plan versions, upload, activation), :mod:`.access` (who sees an event and its
units), :mod:`.evaluation` (the assessment), :mod:`.decisions` (启动 / 调整 / 终止 and the
record), :mod:`.alignment` (上下级衔接), :mod:`.assessments` (the stored snapshot, recomputed on
every report, coalesced and swept, and the tier notifications) and :mod:`.panel` (the event
page's panel). This module names what the pages, the API, the job and ``app.responses`` use.
"""
from __future__ import annotations

from .access import event_visible, get_event, unit_visible
from .alignment import alignment, alignment_flags
from .assessments import (NOTIFICATION_KIND, event_link, on_report_submitted, refresh_assessment,
                          refresh_stale_assessments)
from .decisions import (RESPONSE_FIELDS, active_responses, event_record, history_query, latest_actions,
                        record_action, responses_in_force)
from .evaluation import assessment, evaluate_event
from .panel import event_panel
from .plans import (ACTIVATION_FIELDS, STATUS_LABELS, UNIT_LABELS, UPLOAD_FIELDS, active_plan_rows,
                    get_plan, level_name, list_plans, plan_json, plan_of, plan_page, plan_to_dict,
                    plan_versions, plan_yaml, plans_page, set_plan_activation, upload_plan)

__all__ = [
    "ACTIVATION_FIELDS", "NOTIFICATION_KIND", "RESPONSE_FIELDS", "STATUS_LABELS", "UNIT_LABELS",
    "UPLOAD_FIELDS", "active_plan_rows", "active_responses", "alignment", "alignment_flags",
    "assessment", "evaluate_event", "event_link", "event_panel", "event_record", "event_visible",
    "get_event", "get_plan", "history_query", "latest_actions", "level_name", "list_plans",
    "on_report_submitted", "plan_json", "plan_of", "plan_page", "plan_to_dict", "plan_versions",
    "plan_yaml", "plans_page", "record_action", "refresh_assessment", "refresh_stale_assessments",
    "responses_in_force", "set_plan_activation", "unit_visible", "upload_plan",
]
