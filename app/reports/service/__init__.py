"""Services of loss reporting (灾情报送), one module per subject: events (:mod:`.events`),
filing a report and its checks (:mod:`.reports`), reading reports (:mod:`.history`), totals
(:mod:`.totals`), deadlines (:mod:`.deadlines`), forwarding (:mod:`.forwarding`), photos
(:mod:`.photos`), the Excel import and export (:mod:`.import_export`), the direct-report alert
(:mod:`.alerts`), and what each page shows (:mod:`.pages`, :mod:`.field_form`).

Each public function takes the user first and checks permission first, validates everything
through the area's ``Field`` s (a JSON body or a posted page form alike) gathering every error,
then runs one transaction ending in a commit and an audit line. Pages, the JSON API, the Excel
import, the scheduled jobs and the demo all call the names re-exported here.
"""
from __future__ import annotations

from .alerts import direct_report_alert, region_name
from .deadlines import (compute_deadlines, concerns, deadline_panel, event_deadlines, reporting_tree,
                        timeliness)
from .events import (AT_FIELDS, EVENT_FIELDS, EVENT_STATUSES, affected_counties, close, create_event,
                     event_covers, event_unit, event_visible, get_event, overlaps, stabilise, top_regions, visible_events)
from .field_form import FORM_REGION_LIMIT, field_form_page, form_regions
from .forwarding import FORWARD_FIELDS, forward, forwarding_panel, forwards_query
from .history import get_report, photos_of, report_body, report_dicts, report_page, reports_query
from .import_export import export_event, import_event, import_reports, import_upload
from .pages import event_page, events_page, home_panel
from .photos import add_photo, import_disk_photos, photo_dir, photo_file, sniff_image, store_key
from .reports import (REPORT_FIELDS, SEQUENCE_RETRIES, photos_required, reopen_final_when,
                      submit_report, submit_report_with_body)
from .totals import children_totals, totals_of, trend
from .units import (ADD_REGION_FIELDS, REGION_PATH, UNIT_AT_FIELDS, WITHDRAW_FIELDS, add_region, event_units,
                    stabilise_unit, unit_clocks, unit_panel, withdraw_region)

__all__ = [
    "ADD_REGION_FIELDS", "REGION_PATH", "UNIT_AT_FIELDS", "WITHDRAW_FIELDS", "add_region", "event_units",
    "stabilise_unit", "unit_clocks", "unit_panel", "withdraw_region",
    "AT_FIELDS", "EVENT_FIELDS", "EVENT_STATUSES", "FORM_REGION_LIMIT", "FORWARD_FIELDS", "REPORT_FIELDS",
    "SEQUENCE_RETRIES", "add_photo", "affected_counties", "children_totals", "close", "compute_deadlines",
    "concerns", "create_event", "deadline_panel", "direct_report_alert", "event_deadlines", "event_page",
    "event_covers", "event_unit", "event_visible", "events_page", "export_event", "field_form_page", "form_regions", "forward",
    "forwarding_panel", "forwards_query", "get_event", "get_report", "home_panel", "import_event",
    "import_reports", "import_upload", "overlaps", "import_disk_photos", "photo_dir", "photo_file", "store_key", "photos_of",
    "photos_required", "region_name", "reopen_final_when", "report_body", "report_dicts", "report_page",
    "reporting_tree", "reports_query", "sniff_image", "stabilise", "submit_report",
    "submit_report_with_body", "timeliness", "top_regions", "totals_of", "trend", "visible_events",
]
