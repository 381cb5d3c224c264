"""Payments as people read them: a cycle's payment batches, one batch with its payments, the
bank's payment roll (一卡通发放名册, for those who manage payments), and the list of payments
within the user's jurisdiction (identity numbers and accounts masked per cycle). The scheduler
makes the payments (:mod:`.disbursement`)."""
from __future__ import annotations

from sqlalchemy import func, select

from ...errors import NotFound
from ...extensions import db
from . import reconcile
from ..models import Cycle, Payment, PaymentRoll
from .base import get_cycle, show_id
from .cycles import cycle_query


def payment_rolls(user, cycle_id: int) -> list[PaymentRoll]:
    cycle = get_cycle(user, cycle_id)
    return db.session.scalars(select(PaymentRoll).where(PaymentRoll.cycle_id == cycle.id)
                              .order_by(PaymentRoll.period)).all()


def _payment_roll(user, roll_id: int) -> tuple[PaymentRoll, Cycle]:
    found = db.session.get(PaymentRoll, roll_id)
    if found is None:
        raise NotFound(f"发放批次 {roll_id} 不存在。")
    return found, get_cycle(user, found.cycle_id)


def _payments_of(roll: PaymentRoll) -> list[Payment]:
    return db.session.scalars(select(Payment).where(Payment.payment_roll_id == roll.id).order_by(Payment.id)).all()


def payment_roll_view(user, roll_id: int) -> dict:
    """A batch and its payments."""
    found, cycle = _payment_roll(user, roll_id)
    show = show_id(user, cycle.region_code)
    payments = _payments_of(found)
    current = reconcile.states(p.id for p in payments)
    return {**found.to_dict(), "payments": [{**p.to_dict(show_id=show), "status": current[p.id][0],
                                             "reason": current[p.id][1]} for p in payments]}


def bank_roll(user, roll_id: int) -> tuple[bytes, str]:
    """The bank's payment file of a batch (full identity numbers, finance only, audited and
    watermarked): :func:`.reconcile.bank_file`."""
    return reconcile.bank_file(user, roll_id)


def payments_page(user, *, cycle_id: int | None = None, household_id: int | None = None,
                  limit: int, offset: int) -> dict:
    """A page of the payments of the cycles ``user`` may see, each masked by its cycle's region
    (read with the payment: one query for the page)."""
    visible = cycle_query(user).with_only_columns(Cycle.id).order_by(None)
    stmt = select(Payment, Cycle.region_code).join(Cycle, Cycle.id == Payment.cycle_id) \
        .where(Payment.cycle_id.in_(visible))
    if cycle_id:
        stmt = stmt.where(Payment.cycle_id == cycle_id)
    if household_id:
        stmt = stmt.where(Payment.household_id == household_id)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.execute(stmt.order_by(Payment.id).limit(limit).offset(offset)).all()
    shown = {region: show_id(user, region) for region in {region for _payment, region in rows}}
    items = [payment.to_dict(show_id=shown[region]) for payment, region in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}
