"""The relief standards read from configuration (defaults in :mod:`app.config`, from
``domain.md`` §4). Money is in CNY in configuration (whole yuan); :func:`standards` converts to
fen for :mod:`app.cycles.rules`.
"""
from __future__ import annotations

from .rules import Standards


def standards(config) -> Standards:
    """The current standards from configuration, in fen."""
    fen = lambda cny: int(round(float(cny) * 100))  # noqa: E731
    return Standards(
        transitional_daily_fen=fen(config["CYCLE_TRANSITIONAL_DAILY_CNY"]),
        transitional_months=int(config["CYCLE_TRANSITIONAL_MONTHS"]),
        transitional_max_months=int(config["CYCLE_TRANSITIONAL_MAX_MONTHS"]),
        winter_spring_per_person_fen=fen(config["CYCLE_WINTER_SPRING_PER_PERSON_CNY"]),
        winter_spring_pay_from_month=int(config["CYCLE_WINTER_SPRING_PAY_FROM_MONTH"]),
        winter_spring_pay_to_month=int(config["CYCLE_WINTER_SPRING_PAY_TO_MONTH"]),
        reconstruction_subsidy_fen={k: fen(v) for k, v in config["CYCLE_RECONSTRUCTION_SUBSIDY_CNY"].items()},
        reconstruction_instalments={k: dict(v) for k, v in config["CYCLE_RECONSTRUCTION_INSTALMENTS"].items()},
        condolence_per_death_fen=fen(config["CYCLE_CONDOLENCE_PER_DEATH_CNY"]),
        drought_per_person_fen=fen(config["CYCLE_DROUGHT_PER_PERSON_CNY"]),
        payment_day=int(config["CYCLE_PAYMENT_DAY"]),
    )
