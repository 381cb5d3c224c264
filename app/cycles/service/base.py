"""What every subject of the cycle services shares: local time, jurisdiction, the cycle (or row) a
request names, masking of identity numbers, and checking the objects of a list by their fields.

Every service function takes the user first and checks permission first (a cycle's users below
the county see it and put their households forward, deciding stays with the county). Then it
checks the request by its ``Field`` s and its own rules, every error gathered into one
:class:`~app.errors.Invalid`; then the cycle's state (409); rules that compare the request with
the cycle's rows (who is registered, who is on a frozen roll) come last, gathered again.
"""
from __future__ import annotations

from datetime import date
from typing import Mapping
from zoneinfo import ZoneInfo

from flask import current_app

from gis import codes

from ...errors import Invalid, NotFound
from ...extensions import db
from ...models_common import utcnow
from ...permissions import can, require
from ...regions import region_names, subtree_condition
from ...validation import YEAR_RANGE, Field, merged, validate
from ..models import Cycle

#: The years a cycle, a fund or a needs table may name (``/winter-spring/<year>/…``); beyond them a
#: date overflows.
YEAR_FIELD = Field("int", min=YEAR_RANGE[0], max=YEAR_RANGE[1], description="冬春救助年度（当年冬季至次年春季）")
#: A row id in a body (``household_id``, ``event_id``): a positive 32-bit integer.
ID = Field("int", min=1)

#: Actions that users of a township or village inside a cycle's county may take on the cycle
#: (seeing it, putting their own households forward, their step of the official order: 民主评议,
#: 逐户核查, 乡审); approving stays with the county.
BELOW_COUNTY = ("cycle.view", "household.edit", "cycle.village_review", "cycle.township_review",
                "reconstruction.check")


def tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def local_today() -> date:
    return utcnow().astimezone(tz()).date()


def show_id(user, region_code: str) -> bool:
    """May ``user`` see whole identity numbers and accounts in ``region_code``?"""
    return can(user, "household.view_id_number", region_code)


#: ``column`` (a region code) inside ``region_code`` (everything for the national code).
within_clause = subtree_condition


def may_act_on_cycle(user, cycle: Cycle, action: str) -> bool:
    """``can``, plus the users of a township or village inside the cycle's county for the
    actions in :data:`BELOW_COUNTY`."""
    if can(user, action, cycle.region_code):
        return True
    return (action in BELOW_COUNTY and can(user, action, user.region_code)
            and codes.level_of(user.region_code) in ("township", "village")
            and codes.is_within(user.region_code, cycle.region_code))


def get_cycle(user, cycle_id: int, action: str = "cycle.view") -> Cycle:
    """The cycle, once ``user`` may take ``action`` on it (404, then 403)."""
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound(f"救助周期 {cycle_id} 不存在。")
    if not may_act_on_cycle(user, cycle, action):
        require(user, action, cycle.region_code)
    return cycle


def check_item(fields: dict[str, Field], item: Mapping, where: str, errors: list[dict]) -> dict | None:
    """One object of a list (``items[3]``) checked by ``fields``, each error named ``where`` +
    field (``items[3].persons``); ``None`` when any field was refused."""
    values, item_errors = validate(fields, item)
    errors.extend({**error, "field": where + error["field"]} for error in item_errors)
    return None if item_errors else values


def refuse(errors: list[dict], detail: str, rule_errors: list[dict] | None = None) -> None:
    """Raise one 422 with ``errors`` and the rule errors of fields not already refused."""
    errors = merged(errors, rule_errors or [])
    if errors:
        raise Invalid(detail.format(n=len(errors)), errors)


def blank_only(errors: list[dict]) -> bool:
    """Every error says a required field was left blank (the page then asks for it by name)."""
    return all(error["message"] in ("必填", "不能为空") for error in errors)
