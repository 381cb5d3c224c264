"""Public notices (公示) of a cycle's roll: the record of each notice, and the list it publishes
with names and identity numbers partly masked, as printed for the village notice board."""
from __future__ import annotations

from sqlalchemy import select

from ...errors import NotFound
from ...extensions import db
from ...regions import Region
from ... import idcard
from ..models import Cycle, PublicNotice, Roll
from .amounts import preview_yuan
from .base import get_cycle
from .beneficiaries import cycle_beneficiaries
from .rolls import roll_entries


def notices(user, cycle_id: int) -> list[PublicNotice]:
    cycle = get_cycle(user, cycle_id)
    return db.session.scalars(select(PublicNotice).where(PublicNotice.cycle_id == cycle.id)
                              .order_by(PublicNotice.id)).all()


def notice_view(user, notice_id: int) -> dict:
    """A notice and the list it published."""
    found = db.session.get(PublicNotice, notice_id)
    if found is None:
        raise NotFound(f"公示 {notice_id} 不存在。")
    cycle = get_cycle(user, found.cycle_id)
    roll = db.session.get(Roll, found.roll_id) if found.roll_id else None
    return {**found.to_dict(), "rows": notice_rows(cycle, roll)}


def notice_rows(cycle: Cycle, roll: Roll | None = None) -> list[dict]:
    """The list published in a notice, with names and identity numbers partly masked (公示)."""
    villages: dict[str, str] = {}

    def village_name(code):
        if code not in villages:
            region = db.session.get(Region, code)
            villages[code] = region.name if region else code
        return villages[code]

    if roll is not None:
        return [{"village": village_name(entry.village_code), "name": idcard.mask_name(entry.head_name),
                 "id_number": idcard.mask_id(entry.id_number), "persons": entry.persons,
                 "deceased": entry.deceased, "reasons": entry.basis.get("reasons", []),
                 "amount": entry.total_fen / 100} for entry in roll_entries(roll.id)]
    return [{"village": village_name(b.household.village_code), "name": idcard.mask_name(b.household.head_name),
             "id_number": idcard.mask_id(b.household.id_number), "persons": b.persons,
             "deceased": b.deceased, "reasons": b.reasons, "amount": preview_yuan(cycle, b)}
            for b in cycle_beneficiaries(cycle.id) if b.noticed]


def current_notice_roll(cycle: Cycle) -> Roll | None:
    """The roll a cycle's latest notice refers to (the main roll once approved)."""
    return db.session.scalar(select(Roll).where(Roll.cycle_id == cycle.id, Roll.seq == 0))


def notice_page(user, cycle_id: int, roll_id: int | None = None) -> dict:
    """The printable notice of a cycle (``roll_id``: of that roll; else the main roll, or the
    households approved so far when the cycle is still in notice)."""
    cycle = get_cycle(user, cycle_id)
    roll = db.session.get(Roll, roll_id) if roll_id else current_notice_roll(cycle)
    if roll is not None and roll.cycle_id != cycle.id:
        raise NotFound("名册不存在。")
    record = db.session.scalar(select(PublicNotice).where(
        PublicNotice.cycle_id == cycle.id,
        (PublicNotice.roll_id == roll.id) if roll is not None else PublicNotice.roll_id.is_(None))
        .order_by(PublicNotice.id.desc()))
    rows = notice_rows(cycle, roll)
    return {"cycle": cycle, "roll": roll, "notice": record, "rows": rows,
            "region": db.session.get(Region, cycle.region_code), "total": sum(r["amount"] for r in rows)}
