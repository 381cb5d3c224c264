"""Tables of the relief cycles (救助周期), by subject: households, cycles and beneficiaries, rolls,
notices and complaints, payments, funds, reconstruction and the winter-spring submissions.

Money is stored in fen (分, integers). Ledgers and snapshots are append-only: roll entries
(the frozen 救助名册), payments, fund ledger entries, progress reports and needs submissions are
never updated or deleted through the ORM (``make_append_only``), and a roll or a payment batch
whose status is final refuses every change.
"""
from __future__ import annotations

from .condolence import CLAIM_STATUSES, CondolenceClaim
from .cycles import ACTION_LABELS, CYCLE_MACHINE, STATUS_LABELS, Beneficiary, Cycle, action_permission
from .funds import FUND_LEVELS, FundEntry, FundLine, FundSource
from .households import Household
from .notices import Complaint, PublicNotice
from .payments import OUTCOMES, PAYMENT_STATES, BankReturn, Payment, PaymentOutcome, PaymentRoll
from .reconstruction import HouseCheck, HouseCheckPhoto, ProgressReport, ReconstructionProject
from .rolls import ROLL_OPEN, ROLL_STATUS_LABELS, Roll, RollEntry, RollStep
from .winter import NeedsSubmission

__all__ = ["ACTION_LABELS", "CYCLE_MACHINE", "FUND_LEVELS", "OUTCOMES", "PAYMENT_STATES", "ROLL_OPEN",
           "ROLL_STATUS_LABELS", "STATUS_LABELS", "HouseCheck", "HouseCheckPhoto", "RollStep", "action_permission",
           "BankReturn", "Beneficiary", "CLAIM_STATUSES", "CondolenceClaim", "PaymentOutcome", "Complaint", "Cycle",
           "FundEntry", "FundLine", "FundSource", "Household", "NeedsSubmission", "Payment", "PaymentRoll",
           "ProgressReport", "PublicNotice", "ReconstructionProject", "Roll", "RollEntry"]
