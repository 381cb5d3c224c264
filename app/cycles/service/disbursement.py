"""Disbursement (发放): payment batches (发放批次) made by the scheduler from frozen rolls, idempotently.

:func:`generate_rolls` is what the ``cycles.rolls`` job runs for one scheduler period. For every
cycle that is disbursing it pays each instalment of its frozen rolls that is due at the period's
cut-off and not yet paid, in a :class:`PaymentRoll` unique per (cycle, period):

- every payment is its own transaction: the ``Payment`` row (unique per cycle, household and
  instalment period), the debit of exactly one fund line (locked, never below zero) and the
  ledger entry commit together or not at all;
- a run killed half-way leaves the batch ``generating``; the next attempt finds the same batch,
  skips what was paid and completes it, so the totals come out the same;
- a duplicate trigger or a second scheduler process meets the unique constraints and pays
  nothing twice;
- an instalment whose payment the bank failed or returned (:mod:`.reconcile`, credited back
  already) is due again: the next batch re-issues it as the next attempt, to the household's
  current account, at most once per failed attempt.

A cycle whose instalments are all paid and whose relief period is over is closed.
"""
from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Callable
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ... import audit
from ...database import lock_for_update
from ...extensions import db
from ...models_common import utcnow
from ...notifications import coordinators_covering, notify
from .complaints import held_households
from ..models import (CYCLE_MACHINE, ROLL_OPEN, Cycle, FundEntry, FundLine, Household, Payment, PaymentRoll,
                     ReconstructionProject, Roll, RollEntry)
from ..rules import Instalment, is_due
from .reconcile import unpaid_payment_ids

log = logging.getLogger("jiuzai.cycles")

#: Test hook: called with the number of payments made so far in this run, after each commit
#: (a test makes it raise to simulate a scheduler killed in the middle of a roll).
after_payment: Callable[[int], None] | None = None


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def frozen_entries(cycle_id: int, cutoff: datetime | None = None) -> list[RollEntry]:
    """Entries of the cycle's frozen rolls (only those frozen by ``cutoff`` when given)."""
    stmt = (select(RollEntry).join(Roll, Roll.id == RollEntry.roll_id)
            .where(RollEntry.cycle_id == cycle_id, Roll.status == "frozen"))
    if cutoff is not None:
        stmt = stmt.where(Roll.frozen_at <= cutoff)
    return db.session.scalars(stmt.order_by(Roll.seq, RollEntry.id)).all()


def paid_keys(cycle_id: int) -> set[tuple[int, str]]:
    """``(household, instalment period)`` paid or awaiting the bank: every payment but those the
    bank failed or returned."""
    unpaid = unpaid_payment_ids(cycle_id)
    return {(household, period) for pid, household, period in db.session.execute(
        select(Payment.id, Payment.household_id, Payment.period).where(Payment.cycle_id == cycle_id)).all()
        if pid not in unpaid}


def stage_times(cycle_id: int) -> dict[int, dict[str, datetime]]:
    projects = db.session.scalars(select(ReconstructionProject).filter_by(cycle_id=cycle_id)).all()
    return {p.household_id: p.reached() for p in projects}


def due_unpaid(cycle: Cycle, cutoff: datetime) -> list[tuple[RollEntry, Instalment]]:
    """Instalments of the cycle's frozen rolls due at ``cutoff`` and not paid, in roll order.
    Only what stood at the cut-off counts (rolls frozen by then, stages reached by then), so a
    caught-up run pays what the on-time run would have paid."""
    tz = _tz()
    paid = paid_keys(cycle.id)
    stages = stage_times(cycle.id)
    held = held_households(cycle.id)  # an open complaint about a household holds its payments
    out = []
    for entry in frozen_entries(cycle.id, cutoff):
        if entry.household_id in held:
            continue
        for instalment in entry.plan():
            if instalment.amount_fen <= 0 or (entry.household_id, instalment.period) in paid:
                continue
            if is_due(instalment, cutoff, tz=tz, stage_reached=stages.get(entry.household_id, {})):
                out.append((entry, instalment))
    return out


def unpaid_due(cycle: Cycle, cutoff: datetime) -> list[dict]:
    """What a batch at ``cutoff`` would find due and unpaid, and why it is not paid yet:
    ``short`` when the cycle's fund line cannot cover it (a batch skips it and counts it as
    shortfall) or ``next_batch`` when the next batch will pay it. Instalments are taken in the
    order a batch pays them, each against the balance left by those before it. Reads only."""
    line = db.session.get(FundLine, cycle.fund_line_id) if cycle.fund_line_id else None
    balance = line.balance_fen if line is not None else 0
    rows = []
    for entry, instalment in due_unpaid(cycle, cutoff):
        payable = instalment.amount_fen <= balance
        if payable:
            balance -= instalment.amount_fen
        rows.append({"household_id": entry.household_id, "head_name": entry.head_name,
                     "village_code": entry.village_code, "roll_id": entry.roll_id, "period": instalment.period,
                     "label": instalment.label, "due_on": instalment.due_on, "amount": instalment.amount_fen / 100,
                     "reason": "next_batch" if payable else "short"})
    return rows


def generate_rolls(cutoff: datetime, period: str, *, heartbeat: Callable[[], None] | None = None,
                   cycle_ids: list[int] | None = None) -> dict:
    """Generate (or resume) the payment batch of every disbursing cycle for ``period``."""
    stmt = select(Cycle.id).where(Cycle.status == "disbursing", Cycle.disbursing_at <= cutoff).order_by(Cycle.id)
    if cycle_ids:
        stmt = stmt.where(Cycle.id.in_(cycle_ids))
    ids = db.session.scalars(stmt).all()
    summary = {"period": period, "rolls": [], "payments": 0, "amount": 0.0, "shortfall": 0.0, "closed": []}
    counter = [0]
    for cycle_id in ids:
        roll, made, shortfall = _generate_for_cycle(cycle_id, cutoff, period, heartbeat, counter)
        if roll is not None:
            summary["rolls"].append(roll.id)
            summary["payments"] += made
            summary["amount"] += sum(
                db.session.scalars(select(Payment.amount_fen).where(Payment.payment_roll_id == roll.id)).all()) / 100
            summary["shortfall"] += shortfall / 100
        if close_if_complete(cycle_id, cutoff):
            summary["closed"].append(cycle_id)
    return summary


def _generate_for_cycle(cycle_id, cutoff, period, heartbeat, counter):
    cycle = db.session.get(Cycle, cycle_id)
    due = due_unpaid(cycle, cutoff)
    roll = db.session.scalar(select(PaymentRoll).filter_by(cycle_id=cycle_id, period=period))
    if roll is None:
        if not due:
            return None, 0, 0
        try:
            db.session.add(PaymentRoll(cycle_id=cycle_id, period=period, cutoff=cutoff, status="generating"))
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
        roll = db.session.scalar(select(PaymentRoll).filter_by(cycle_id=cycle_id, period=period))
    if roll.status == "complete":
        return roll, 0, 0
    made = shortfall = 0
    for entry, instalment in due:
        outcome = _pay(cycle_id, roll.id, entry, instalment)
        if outcome == "paid":
            made += 1
            counter[0] += 1
            if heartbeat:
                heartbeat()
            if after_payment is not None:
                after_payment(counter[0])
        elif outcome == "short":
            shortfall += instalment.amount_fen
    roll = db.session.get(PaymentRoll, roll.id)
    if roll.status != "complete":
        totals = db.session.execute(select(func.count(Payment.id), func.coalesce(func.sum(Payment.amount_fen), 0))
                                    .where(Payment.payment_roll_id == roll.id)).one()
        roll.payment_count, roll.total_fen = int(totals[0]), int(totals[1])
        roll.shortfall_fen = shortfall
        roll.status, roll.completed_at = "complete", utcnow()
        db.session.commit()
    if shortfall:
        cycle = db.session.get(Cycle, cycle_id)
        notify(coordinators_covering(cycle.region_code), "cycle.funds_short", "%(cycle)s：资金不足",
               "发放批次 %(period)s 有 %(amount)s 元因资金指标余额不足未发放，请追加资金后由下一批次补发。",
               f"/cycles/{cycle_id}", dedupe_key=f"cycle-short:{roll.id}",
               params={"cycle": cycle.name, "period": period, "amount": f"{shortfall / 100:.2f}"})
        db.session.commit()
    return roll, made, shortfall


def _pay(cycle_id: int, roll_id: int, entry: RollEntry, instalment: Instalment) -> str:
    """Pay one instalment in its own transaction: ``paid``, ``dup`` (paid already) or ``short``."""
    db.session.rollback()
    cycle = db.session.get(Cycle, cycle_id)
    line = db.session.get(FundLine, cycle.fund_line_id) if cycle.fund_line_id else None
    if line is not None:
        # lock the budget line so that concurrent payments debit it one after another
        db.session.execute(lock_for_update(select(FundLine.id).where(FundLine.id == line.id)))
        db.session.refresh(line)
    if line is None or line.balance_fen < instalment.amount_fen:
        db.session.rollback()
        return "short"
    household = db.session.get(Household, entry.household_id)
    before = db.session.scalars(select(Payment).where(
        Payment.cycle_id == cycle_id, Payment.household_id == entry.household_id,
        Payment.period == instalment.period).order_by(Payment.attempt.desc()).limit(1)).first()
    if before is not None and before.id not in unpaid_payment_ids(cycle_id):
        db.session.rollback()
        return "dup"
    payment = Payment(cycle_id=cycle_id, household_id=entry.household_id, period=instalment.period,
                      attempt=before.attempt + 1 if before else 0, reissue_of_id=before.id if before else None,
                      payment_roll_id=roll_id, roll_entry_id=entry.id, fund_line_id=line.id,
                      amount_fen=instalment.amount_fen, label=instalment.label[:100],
                      head_name=household.head_name, id_number=household.id_number,
                      bank_account=household.bank_account or "", bank_name=household.bank_name or "")
    try:
        db.session.add(payment)
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return "dup"
    line.spent_fen += instalment.amount_fen
    line.balance_fen -= instalment.amount_fen
    db.session.add(FundEntry(line_id=line.id, source_id=line.source_id, cycle_id=cycle_id,
                             payment_id=payment.id, kind="payment", amount_fen=-instalment.amount_fen,
                             balance_after_fen=line.balance_fen,
                             note=f"{entry.head_name} {instalment.label}"))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return "dup"
    return "paid"


def outstanding(cycle_id: int) -> list[tuple[RollEntry, Instalment]]:
    """Every instalment of the frozen rolls not yet paid (due or not)."""
    paid = paid_keys(cycle_id)
    return [(entry, instalment) for entry in frozen_entries(cycle_id) for instalment in entry.plan()
            if instalment.amount_fen > 0 and (entry.household_id, instalment.period) not in paid]


def relief_over(cycle_id: int, cutoff: datetime) -> bool:
    """True when the relief period of every frozen entry has ended at ``cutoff``."""
    today = cutoff.astimezone(_tz()).date()
    ends = [entry.basis.get("ends_on") for entry in frozen_entries(cycle_id)]
    return all(date.fromisoformat(end) <= today for end in ends if end)


def close_if_complete(cycle_id: int, cutoff: datetime) -> bool:
    """Close a disbursing cycle when everything owed is paid and its relief period is over
    (reconstruction: every house moved in). Nothing is closed while a supplementary roll is in
    notice or another step of the official order."""
    cycle = db.session.get(Cycle, cycle_id)
    if cycle.status != "disbursing" or outstanding(cycle_id):
        return False
    if db.session.scalar(select(func.count(Roll.id)).where(Roll.cycle_id == cycle_id, Roll.status.in_(ROLL_OPEN))):
        return False
    if not relief_over(cycle_id, cutoff):
        return False
    if cycle.kind == "reconstruction" and db.session.scalar(select(func.count(ReconstructionProject.id)).where(
            ReconstructionProject.cycle_id == cycle_id, ReconstructionProject.stage != "moved_in")):
        return False
    before, after = CYCLE_MACHINE.fire(cycle, "close")
    cycle.closed_at = utcnow()
    audit.record(None, "cycle.close", "relief_cycle", cycle.id, before={"status": before},
                 after={"status": after}, region_code=cycle.region_code, note="全部款项已发放，自动结束")
    db.session.commit()
    return True


def cycle_totals(cycle_id: int) -> dict:
    """Owed, paid and outstanding amounts of a cycle (yuan)."""
    owed = sum(entry.total_fen for entry in frozen_entries(cycle_id))
    unpaid = unpaid_payment_ids(cycle_id)
    paid = sum(amount for pid, amount in db.session.execute(
        select(Payment.id, Payment.amount_fen).where(Payment.cycle_id == cycle_id)).all() if pid not in unpaid)
    return {"owed": owed / 100, "paid": int(paid) / 100, "outstanding": (owed - int(paid)) / 100}
