"""The services of the relief cycles (救助周期), by subject:

- :mod:`.base`: local time, jurisdiction, the cycle a request names, masking, list items;
- :mod:`.households` and :mod:`.household_import`: the registry (受灾户台账) and its Excel import;
- :mod:`.cycles`: cycles and their state machine;
- :mod:`.beneficiaries`: households put forward (户报) and the reviews (村评、乡审);
- :mod:`.amounts`: what a household is owed; :mod:`.rolls`: frozen rolls (救助名册);
- :mod:`.supplementary`: supplementary rolls (补充名册: 增补、补发、延长);
- :mod:`.notices` (公示) and :mod:`.complaints` (投诉举报);
- :mod:`.disbursement` (the scheduler's payment batches) and :mod:`.payments` (reading them);
- :mod:`.estimate`: what an event needs by relief kind and county, and the fund request (资金申请);
- :mod:`.reconcile`: the bank's payment file, its return file (回盘), credit back and reconciliation;
- :mod:`.funds` (救灾资金), :mod:`.winter` (冬春救助), :mod:`.reconstruction` (倒损住房重建) and
  :mod:`.checks` (its house-by-house check, 逐户核查);
- :mod:`.steps`: what awaits a village, township or county user in the official order (我的待办);
- :mod:`.pages` (what the cycle pages show) and :mod:`.schedule` (the jobs, for the API).

Each function that a page or the API calls takes the user first and checks permission first
(:mod:`.base` says in which order the rest is checked), validates its input by the ``Field`` s
declared beside it, runs one transaction and writes the audit log.
"""
from __future__ import annotations

from .base import get_cycle, show_id
from .checks import CHECK_FIELDS, check_photo, check_photos, checks_page, record_check
from .beneficiaries import (BENEFICIARY_FIELDS, REVIEW_FIELDS, add_beneficiaries, add_beneficiary,
                            beneficiary_dicts, beneficiary_listing, propose, record_review, record_reviews,
                            remove_beneficiary)
from .complaints import COMPLAINT_FIELDS, RESOLVE_FIELDS, add_complaint, complaints, get_complaint, resolve_complaint
from .cycles import CYCLE_FIELDS, TRANSITION_FIELDS, create_cycle, cycle_query, cycle_view, transition
from .estimate import estimate_page, event_estimate, request_workbook
from .household_import import import_ledger
from .households import (HOUSEHOLD_FIELDS, HOUSEHOLD_PATCH_FIELDS, create_household, export_ledger, get_household,
                         household_dict, household_listing, households_page, update_household)
from .notices import notice_page, notice_view, notices
from .pages import detail_page, home_panel, index_page
from .payments import bank_roll, payment_roll_view, payment_rolls, payments_page
from .reconcile import (bank_file, batch_page, batch_reconciliation, batch_workbook, import_return,
                        line_reconciliation, line_workbook)
from .reconstruction import (PROGRESS_FIELDS, board_page, get_project, progress_reports, project_dict, project_dicts,
                             report_progress)
from .rolls import CANCEL_ROLL_FIELDS, ROLL_STEP_FIELDS, approve_roll, cancel_roll, get_roll, roll_step, roll_view, rolls
from .steps import my_steps, steps_page
from .schedule import jobs_overview
from .supplementary import SUPPLEMENTARY_FIELDS, create_supplementary

__all__ = ["CHECK_FIELDS", "ROLL_STEP_FIELDS", "check_photo", "check_photos", "checks_page", "my_steps",
           "record_check", "roll_step", "steps_page",
           "BENEFICIARY_FIELDS", "CANCEL_ROLL_FIELDS", "COMPLAINT_FIELDS", "CYCLE_FIELDS", "HOUSEHOLD_FIELDS",
           "HOUSEHOLD_PATCH_FIELDS", "PROGRESS_FIELDS", "RESOLVE_FIELDS", "REVIEW_FIELDS", "SUPPLEMENTARY_FIELDS",
           "TRANSITION_FIELDS", "add_beneficiaries", "add_beneficiary", "add_complaint", "approve_roll", "bank_file", "bank_roll",
           "batch_page", "batch_reconciliation", "batch_workbook", "import_return", "line_reconciliation",
           "line_workbook",
           "beneficiary_dicts", "beneficiary_listing", "board_page", "cancel_roll", "complaints", "create_cycle",
           "create_household", "create_supplementary", "estimate_page", "event_estimate", "cycle_query", "cycle_view", "detail_page", "export_ledger",
           "get_complaint", "get_cycle", "get_household", "get_project", "get_roll", "home_panel", "household_dict",
           "household_listing", "households_page", "import_ledger", "index_page", "jobs_overview", "notice_page",
           "notice_view", "notices", "payment_roll_view", "payment_rolls", "payments_page", "progress_reports",
           "project_dict", "project_dicts", "propose", "record_review", "record_reviews", "remove_beneficiary",
           "report_progress", "request_workbook", "resolve_complaint", "roll_view", "rolls", "show_id", "transition", "update_household"]
