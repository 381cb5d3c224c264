"""What the cycle pages show, gathered from every subject: the list of cycles, one cycle with its
households, rolls, payment batches, unpaid instalments, notices and complaints, and the home-page
panel. Each says which forms the user gets (``can_manage``, ``can_edit``, ``can_pay``)."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from ...extensions import db
from ...models_common import utcnow
from ...permissions import can
from ..models import ACTION_LABELS, CYCLE_MACHINE, ROLL_OPEN, ROLL_STATUS_LABELS, STATUS_LABELS, Complaint, Cycle, \
    PaymentRoll, PublicNotice, ReconstructionProject, action_permission
from ..rules import DAMAGE_CLASSES, KINDS
from .amounts import preview_yuan
from .base import get_cycle, may_act_on_cycle, region_names, show_id
from .beneficiaries import cycle_beneficiaries
from .cycles import cycle_query
from .disbursement import cycle_totals, unpaid_due
from .funds import line_choices
from .reconcile import batch_summaries
from .rolls import cycle_rolls, roll_waiting
from .steps import my_steps


def index_page(user, *, kind: str | None = None, status: str | None = None) -> dict:
    """The cycles ``user`` may see (the latest 500), and whether they may create one."""
    rows = db.session.scalars(cycle_query(user, kind=kind, status=status).limit(500)).all()
    return {"cycles": rows, "kinds": KINDS, "statuses": STATUS_LABELS, "kind": kind, "status": status,
            "names": region_names(c.region_code for c in rows),
            "can_manage": can(user, "cycle.manage", user.region_code), "year": utcnow().year}


def _newest_first(model, cycle_id: int, order):
    return db.session.scalars(select(model).where(model.cycle_id == cycle_id).order_by(order)).all()


def _review_rights(user, cycle: Cycle, beneficiaries) -> dict[str, set[int]]:
    """The households whose 民主评议 (``village``) or 乡审 (``township``) ``user`` may record now."""
    rights: dict[str, set[int]] = {"village": set(), "township": set()}
    for stage, status in (("village", "village_review"), ("township", "township_review")):
        if cycle.status != status:
            continue
        action = f"cycle.{stage}_review"
        rights[stage] = {b.household_id for b in beneficiaries if can(user, action, b.household.village_code)
                         and (stage == "village" or b.noticed)}
    return rights


def _roll_rights(user, rolls, now) -> dict[int, str]:
    """For each supplementary roll, the step ``user`` may take on it now (``village``,
    ``township`` or ``approve``)."""
    rights = {}
    for roll in rolls:
        if roll.kind != "supplementary" or roll.status not in ROLL_OPEN:
            continue
        if roll.status == "county":
            if can(user, "cycle.county_approve", user.region_code):
                rights[roll.id] = "approve"
            continue
        waiting = roll_waiting(roll)
        if roll.status == "village" and can(user, "cycle.village_review", user.region_code) \
                and user.region_code in waiting["village"]:
            rights[roll.id] = "village"
        elif roll.status in ("notice", "township") and roll.notice_ends_at and roll.notice_ends_at <= now \
                and can(user, "cycle.township_review", user.region_code) and user.region_code in waiting["township"]:
            rights[roll.id] = "township"
    return rights


def detail_page(user, cycle_id: int) -> dict:
    """One cycle as its page shows it to ``user``: the actions and the steps of the official
    order that are theirs (by role, jurisdiction and the level of their region)."""
    cycle = get_cycle(user, cycle_id)
    beneficiaries = cycle_beneficiaries(cycle.id)
    rolls = cycle_rolls(cycle.id)
    now = utcnow()
    unpaid = unpaid_due(cycle, utcnow()) if cycle.status == "disbursing" else []
    payment_rolls = _newest_first(PaymentRoll, cycle.id, PaymentRoll.period.desc())
    return {
        "cycle": cycle, "show_id": show_id(user, cycle.region_code), "beneficiaries": beneficiaries,
        "amounts": {b.id: preview_yuan(cycle, b) for b in beneficiaries}, "rolls": rolls,
        "payment_rolls": payment_rolls, "batch_states": batch_summaries(r.id for r in payment_rolls),
        "notices": _newest_first(PublicNotice, cycle.id, PublicNotice.id.desc()),
        "complaints": _newest_first(Complaint, cycle.id, Complaint.id.desc()),
        "totals": cycle_totals(cycle.id),
        "actions": [a for a in CYCLE_MACHINE.allowed(cycle.status)
                    if may_act_on_cycle(user, cycle, action_permission(a))],
        "action_labels": ACTION_LABELS, "roll_in_notice": any(r.status in ROLL_OPEN for r in rolls),
        "roll_labels": ROLL_STATUS_LABELS, "reviews": _review_rights(user, cycle, beneficiaries),
        "roll_rights": _roll_rights(user, rolls, now),
        "unpaid": unpaid, "fund_line_choices": line_choices(user, cycle),
        "names": region_names([cycle.region_code] + [b.household.village_code for b in beneficiaries]
                              + [u["village_code"] for u in unpaid]),
        "can_manage": can(user, "cycle.manage", cycle.region_code),
        "can_edit": may_act_on_cycle(user, cycle, "household.edit"),
        "can_pay": can(user, "payment.manage", cycle.region_code),
        "can_bank_file": can(user, "payment.bank_file", cycle.region_code),
        "damage": DAMAGE_CLASSES, "now": now}


def home_panel(user) -> dict | None:
    """For coordinators: cycles waiting for a decision, overdue progress reports, deadlines; for
    a user of a village, township or county: the steps of the official order waiting for them."""
    steps = my_steps(user)
    if user.role not in ("coordinator", "admin") or not can(user, "cycle.manage", user.region_code):
        if not steps:
            return None
        return {"template": "cycles/_home_panel.html", "ready": [], "overdue": 0, "in_notice": [], "disbursing": [],
                "open_count": 0, "year": utcnow().year, "steps": steps}
    now = utcnow()
    visible = db.session.scalars(cycle_query(user).where(Cycle.status.notin_(("closed", "cancelled"))).limit(200)).all()
    if not visible and not steps:
        return None
    ready = [c for c in visible if c.status == "notice" and c.notice_ends_at and c.notice_ends_at <= now]
    days = current_app.config["CYCLE_RECONSTRUCTION_REPORT_DAYS"]
    overdue = db.session.scalar(select(func.count(ReconstructionProject.id)).where(
        ReconstructionProject.cycle_id.in_([c.id for c in visible]), ReconstructionProject.stage != "moved_in",
        ReconstructionProject.last_report_at < now - timedelta(days=days)))
    return {"template": "cycles/_home_panel.html", "ready": ready, "overdue": overdue,
            "in_notice": [c for c in visible if c.status == "notice" and c not in ready],
            "disbursing": [c for c in visible if c.status == "disbursing"],
            "open_count": len(visible), "year": now.year, "steps": steps}
