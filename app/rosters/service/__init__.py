"""Services of the rosters and of review upward, one module per subject: the roster of the dead
and missing (:mod:`.casualties`), of damaged houses (:mod:`.housing`), their consistency with
the reported figures and its explanations (:mod:`.consistency`), the Excel import and export
(:mod:`.imports`), review and return by the level above (:mod:`.review`), the quick report with its
township breakdown (:mod:`.breakdown`), the exchange file of an event's reports
(:mod:`.exchange`), units' text descriptions and the photo rule (:mod:`.texts`) and what each page
shows (:mod:`.pages`). Each public function takes the user first and checks permission first.
"""
from __future__ import annotations

from .breakdown import breakdown_rows, export_breakdown
from .casualties import (CASUALTY_FIELDS, PAGE_ROWS, STATUS_FIELDS, add_casualty, casualties_query, casualty_dicts,
                         change_status, roster_counts)
from .exchange import EXCHANGE_FIELDS, export_exchange, import_exchange
from .consistency import NOTE_FIELDS, consistency, explain
from .housing import HOUSE_FIELDS, add_house, house_dicts, houses_query
from .imports import export_roster, import_roster, import_upload
from .pages import casualties_page, housing_page, index_page, review_page
from .review import REVIEW_FIELDS, review, review_state
from .texts import TEXT_FIELDS, write_text

__all__ = ["TEXT_FIELDS", "write_text", "CASUALTY_FIELDS", "EXCHANGE_FIELDS", "export_exchange", "import_exchange", "HOUSE_FIELDS", "NOTE_FIELDS", "PAGE_ROWS", "REVIEW_FIELDS", "STATUS_FIELDS",
           "add_casualty", "breakdown_rows", "export_breakdown", "add_house", "casualties_page", "casualties_query", "casualty_dicts", "change_status",
           "consistency", "explain", "export_roster", "house_dicts", "houses_query", "housing_page",
           "import_roster", "import_upload", "index_page", "review", "review_page", "review_state",
           "roster_counts"]
