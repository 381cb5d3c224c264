"""What a household is owed in a cycle: the instalments by the cycle's own standards (kept on the
cycle when it was made, in fen), the basis kept with a roll entry, and the roll entry itself (a
snapshot of the household as it stood)."""
from __future__ import annotations

from datetime import date

from ..festival import spring_festival
from ..models import Beneficiary, Cycle, Household, Roll, RollEntry
from ..rules import Instalment, Standards, add_months, instalments
from .base import local_today


def standards_of(cycle: Cycle) -> Standards:
    return Standards.from_dict(cycle.standards)


def plan(cycle: Cycle, *, persons: int, deceased: int = 0, damage_class: str = "none",
         from_month: int = 0, to_month: int | None = None, due_on: date | None = None) -> tuple[list[Instalment], dict]:
    """The instalments one household is owed in ``cycle``, and the basis kept with the roll."""
    std = standards_of(cycle)
    if cycle.kind == "transitional":
        return _transitional(cycle, std, persons, from_month, cycle.months if to_month is None else to_month)
    if cycle.kind == "winter_spring":
        found = instalments("winter_spring", std, persons=persons, year=cycle.year, pay_to_month=cycle.pay_to_month,
                            festival=spring_festival(cycle.year + 1))
        last = found[-1].due_on
        return found, {"per_person": std.winter_spring_per_person_fen / 100, "months": len(found),
                       "ends_on": add_months(last.replace(day=1), 1).isoformat()}
    if cycle.kind == "reconstruction":
        found = instalments("reconstruction", std, damage_class=damage_class)
        return found, {"subsidy": sum(i.amount_fen for i in found) / 100}
    found = instalments(cycle.kind, std, persons=persons, deceased=deceased, approved_on=due_on or local_today())
    if cycle.kind == "condolence":
        return found, {"per_death": std.condolence_per_death_fen / 100}
    if cycle.kind == "emergency":
        return found, {"per_person": std.emergency_per_person_fen / 100}
    return found, {"per_person": std.drought_per_person_fen / 100}


def _transitional(cycle: Cycle, std: Standards, persons: int, from_month: int,
                  to_month: int) -> tuple[list[Instalment], dict]:
    found = instalments("transitional", std, persons=persons, starts_on=cycle.starts_on,
                        from_month=from_month, to_month=to_month)
    return found, {"daily": std.transitional_daily_fen / 100, "starts_on": cycle.starts_on.isoformat(),
                   "from_month": from_month, "to_month": to_month,
                   "ends_on": add_months(cycle.starts_on, to_month).isoformat()}


def preview(cycle: Cycle, beneficiary: Beneficiary) -> list[Instalment]:
    """What a household put forward would be owed if approved now."""
    found, _basis = plan(cycle, persons=beneficiary.persons, deceased=beneficiary.deceased,
                         damage_class=beneficiary.household.damage_class)
    return found


def preview_yuan(cycle: Cycle, beneficiary: Beneficiary) -> float:
    return sum(i.amount_fen for i in preview(cycle, beneficiary)) / 100


def roll_entry(cycle: Cycle, roll: Roll, household: Household, *, persons: int, deceased: int,
               found: list[Instalment], basis: dict, work_type: str | None,
               damage_class: str | None = None) -> RollEntry:
    """One household on a roll, as it stands now, with what it is owed."""
    return RollEntry(roll_id=roll.id, cycle_id=cycle.id, household_id=household.id,
                     head_name=household.head_name, id_number=household.id_number,
                     village_code=household.village_code, persons=persons, deceased=deceased,
                     damage_class=damage_class or household.damage_class, work_type=work_type, basis=basis,
                     instalments=[i.to_dict() for i in found], total_fen=sum(i.amount_fen for i in found))
