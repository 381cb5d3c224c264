"""Configuration of the relief cycles and the scheduler (defaults from ``domain.md`` §4).

``apply(app)`` merges these defaults into ``app.config`` with ``setdefault`` at register time,
so ``instance/config.py``, ``JIUZAI_*`` variables and test configuration all win. Money is in
CNY here (whole yuan); :func:`standards` converts to fen for :mod:`app.cycles.rules`.
"""
from __future__ import annotations

from flask import Flask

from .rules import Standards

DEFAULTS: dict = {
    # Public notice (公示): at least 7 days (domain.md §4).
    "CYCLE_NOTICE_DAYS": 7,
    "CYCLE_SUPPLEMENTARY_NOTICE_DAYS": 7,
    # Transitional living relief (过渡期生活救助): CNY per person per day, months, maximum months.
    "CYCLE_TRANSITIONAL_DAILY_CNY": 20,
    "CYCLE_TRANSITIONAL_MONTHS": 3,
    "CYCLE_TRANSITIONAL_MAX_MONTHS": 6,
    # Winter-spring relief (冬春生活救助): CNY per person for the season, paid monthly.
    "CYCLE_WINTER_SPRING_PER_PERSON_CNY": 130,
    # When the yearly job opens the county surveys (cron fields, local time): late September.
    "CYCLE_WINTER_SPRING_SURVEY_TRIGGER": {"month": 9, "day": 20, "hour": 8, "minute": 0},
    "CYCLE_WINTER_SPRING_DEADLINES": {"county": "10-15", "prefecture": "10-20", "province": "10-25"},
    "CYCLE_WINTER_SPRING_REMIND_DAYS": 3,
    "CYCLE_WINTER_SPRING_PAY_FROM_MONTH": 12,
    "CYCLE_WINTER_SPRING_PAY_TO_MONTH": 5,
    "CYCLE_WINTER_SPRING_SINGLE_CROP_TO_MONTH": 7,
    # Regions (any level) whose counties are single-crop areas: payments run to July there.
    "CYCLE_WINTER_SPRING_SINGLE_CROP_REGIONS": [],
    # Counties (or larger regions) whose winter-spring survey the yearly job opens; empty: all.
    "CYCLE_WINTER_SPRING_REGIONS": [],
    # Spring Festival (春节) per calendar year: winter-spring money goes out before it.
    "CYCLE_SPRING_FESTIVAL": {
        "2024": "2024-02-10", "2025": "2025-01-29", "2026": "2026-02-17", "2027": "2027-02-06",
        "2028": "2028-01-26", "2029": "2029-02-13", "2030": "2030-02-03",
    },
    "CYCLE_SPRING_FESTIVAL_WARN_DAYS": 15,
    # Housing reconstruction (倒损住房恢复重建): subsidy by damage class, instalments by stage (%).
    "CYCLE_RECONSTRUCTION_SUBSIDY_CNY": {"collapsed": 20000, "severely_damaged": 20000,
                                         "generally_damaged": 2000},
    "CYCLE_RECONSTRUCTION_INSTALMENTS": {
        "rebuild": {"started": 40, "main_structure": 30, "completed": 30},
        "repair": {"completed": 100},
    },
    "CYCLE_RECONSTRUCTION_REPORT_DAYS": 20,
    # One-off aid.
    "CYCLE_CONDOLENCE_PER_DEATH_CNY": 10000,
    "CYCLE_DROUGHT_PER_PERSON_CNY": 60,
    # Monthly instalments fall due on this day of the month.
    "CYCLE_PAYMENT_DAY": 1,
    # Scheduler: trigger overrides per job id ({"cycles.rolls": {"hour": 5}}), lease and staleness.
    "SCHEDULER_TRIGGERS": {},
    "SCHEDULER_LEASE_SECONDS": 60,
    "SCHEDULER_STALE_SECONDS": 600,
}


def apply(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)


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
