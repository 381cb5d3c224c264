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
from ..models import ACTION_LABELS, CYCLE_MACHINE, STATUS_LABELS, Complaint, Cycle, PaymentRoll, PublicNotice, \
    ReconstructionProject
from ..rules import DAMAGE_CLASSES, KINDS
from .amounts import preview_yuan
from .base import get_cycle, may_act_on_cycle, region_names, show_id
from .beneficiaries import cycle_beneficiaries
from .cycles import cycle_query
from .disbursement import cycle_totals, unpaid_due
from .funds import line_choices
from .reconcile import batch_summaries
from .rolls import cycle_rolls


def index_page(user, *, kind: str | None = None, status: str | None = None) -> dict:
    """The cycles ``user`` may see (the latest 500), and whether they may create one."""
    rows = db.session.scalars(cycle_query(user, kind=kind, status=status).limit(500)).all()
    return {"cycles": rows, "kinds": KINDS, "statuses": STATUS_LABELS, "kind": kind, "status": status,
            "names": region_names(c.region_code for c in rows),
            "can_manage": can(user, "cycle.manage", user.region_code), "year": utcnow().year}


def _newest_first(model, cycle_id: int, order):
    return db.session.scalars(select(model).where(model.cycle_id == cycle_id).order_by(order)).all()


def detail_page(user, cycle_id: int) -> dict:
    """One cycle as its page shows it to ``user``."""
    cycle = get_cycle(user, cycle_id)
    beneficiaries = cycle_beneficiaries(cycle.id)
    rolls = cycle_rolls(cycle.id)
    unpaid = unpaid_due(cycle, utcnow()) if cycle.status == "disbursing" else []
    payment_rolls = _newest_first(PaymentRoll, cycle.id, PaymentRoll.period.desc())
    return {
        "cycle": cycle, "show_id": show_id(user, cycle.region_code), "beneficiaries": beneficiaries,
        "amounts": {b.id: preview_yuan(cycle, b) for b in beneficiaries}, "rolls": rolls,
        "payment_rolls": payment_rolls, "batch_states": batch_summaries(r.id for r in payment_rolls),
        "notices": _newest_first(PublicNotice, cycle.id, PublicNotice.id.desc()),
        "complaints": _newest_first(Complaint, cycle.id, Complaint.id.desc()),
        "totals": cycle_totals(cycle.id), "actions": CYCLE_MACHINE.allowed(cycle.status),
        "action_labels": ACTION_LABELS, "roll_in_notice": any(r.status == "notice" for r in rolls),
        "unpaid": unpaid, "fund_line_choices": line_choices(user, cycle),
        "names": region_names([cycle.region_code] + [b.household.village_code for b in beneficiaries]
                              + [u["village_code"] for u in unpaid]),
        "can_manage": can(user, "cycle.manage", cycle.region_code),
        "can_edit": may_act_on_cycle(user, cycle, "household.edit"),
        "can_pay": can(user, "payment.manage", cycle.region_code),
        "can_bank_file": can(user, "payment.bank_file", cycle.region_code),
        "damage": DAMAGE_CLASSES, "now": utcnow()}


def home_panel(user) -> dict | None:
    """For coordinators: cycles waiting for a decision, overdue progress reports, deadlines."""
    if user.role not in ("coordinator", "admin") or not can(user, "cycle.manage", user.region_code):
        return None
    now = utcnow()
    visible = db.session.scalars(cycle_query(user).where(Cycle.status.notin_(("closed", "cancelled"))).limit(200)).all()
    if not visible:
        return None
    ready = [c for c in visible if c.status == "notice" and c.notice_ends_at and c.notice_ends_at <= now]
    days = current_app.config["CYCLE_RECONSTRUCTION_REPORT_DAYS"]
    overdue = db.session.scalar(select(func.count(ReconstructionProject.id)).where(
        ReconstructionProject.cycle_id.in_([c.id for c in visible]), ReconstructionProject.stage != "moved_in",
        ReconstructionProject.last_report_at < now - timedelta(days=days)))
    return {"template": "cycles/_home_panel.html", "ready": ready, "overdue": overdue,
            "in_notice": [c for c in visible if c.status == "notice" and c not in ready],
            "disbursing": [c for c in visible if c.status == "disbursing"],
            "open_count": len(visible), "year": now.year}
