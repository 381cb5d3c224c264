"""The relief-work services (救灾工作情况统计快报表): the table of an event for a unit, its Excel
export, what a unit types in, and the events to choose from. Each checks permission first."""
from __future__ import annotations

from ...extensions import db
from ...permissions import can, require
from ...reports import visible_events
from .. import excel
from ..models import TYPED, TYPED_FIELDS
from . import sources
from .entries import ENTRY_FIELDS, file_entry, latest_entries
from .table import relief_table

__all__ = ["ENTRY_FIELDS", "export_table", "file_entry", "index_page", "latest_entries", "relief_table",
           "table_json", "table_page"]


def index_page(user) -> dict:
    require(user, "relief_work.view")
    return {"events": db.session.scalars(visible_events(user).limit(100)).all()}


def table_json(user, event_id: int, region_code=None) -> dict:
    """The table as the API gives it (the event as its id and name)."""
    table = relief_table(user, event_id, region_code)
    event = table.pop("event")
    table["event_name"] = event.name
    return table


def table_page(user, event_id: int, region_code=None) -> dict:
    """The table with what its page needs: the unit's standing filing for the form, and which
    units the user may file for."""
    table = relief_table(user, event_id, region_code)
    standing = latest_entries(table["event_id"], table["region_code"])
    editable = [row for row in table["rows"] if row["may_edit"]]
    return {**table, "fund_levels": sources.FUND_LEVELS, "typed": TYPED, "typed_fields": TYPED_FIELDS, "editable": editable,
            "standing": {row["region_code"]: standing[row["region_code"]].figures
                         for row in editable if row["region_code"] in standing},
            "standing_note": standing[editable[0]["region_code"]].note
            if editable and editable[0]["region_code"] in standing else "",
            "may_edit": bool(editable) and can(user, "relief_work.edit")}


def export_table(user, event_id: int, region_code=None) -> tuple[bytes, str]:
    table = relief_table(user, event_id, region_code)
    data = excel.write_table(table["event"], table["rows"], exported_by=user.username)
    return data, f"{excel.TITLE}-{table['event_id']}-{table['region_code']}.xlsx"
