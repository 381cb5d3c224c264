"""Spring Festival from the Chinese calendar (no table with an end), the winter-spring schedule
that pays the winter share before it and the spring share by the end of the shortage season,
and the county's warning weeks ahead (frozen clock)."""
from __future__ import annotations

from datetime import date

import time_machine
from sqlalchemy import select

from app.cycles.festival import spring_festival
from app.cycles.rules import Standards, instalments, winter_spring_months, winter_spring_schedule
from tests.test_cycles_support import approve_cycle, at, make_fund, make_household, post, run_due, village_review

#: Published dates of 春节 (the State Council's holiday notices and the Purple Mountain
#: Observatory's almanac), 2020–2035.
PUBLISHED = {2020: "01-25", 2021: "02-12", 2022: "02-01", 2023: "01-22", 2024: "02-10", 2025: "01-29",
             2026: "02-17", 2027: "02-06", 2028: "01-26", 2029: "02-13", 2030: "02-03", 2031: "01-23",
             2032: "02-11", 2033: "01-31", 2034: "02-19", 2035: "02-08"}


def test_spring_festival_matches_the_published_dates():
    for year, day in PUBLISHED.items():
        assert spring_festival(year) == date.fromisoformat(f"{year}-{day}"), year


def test_spring_festival_has_no_end():
    """Always between 21 January and 20 February (the new moon nearest the start of spring),
    far beyond the years any table covered."""
    for year in range(1950, 2301):
        festival = spring_festival(year)
        assert festival.year == year and date(year, 1, 21) <= festival <= date(year, 2, 20), year


def test_the_winter_share_is_paid_before_the_festival():
    # season 2024–2025: Spring Festival 2025-01-29 falls before the February payment day
    found = instalments("winter_spring", Standards(), persons=3, year=2024, festival=spring_festival(2025))
    festival = spring_festival(2025)
    assert [(i.period, i.amount_fen) for i in found] == [
        ("2024-12", 9750), ("2025-01", 9750), ("2025-03", 6500), ("2025-04", 6500), ("2025-05", 6500)]
    assert sum(i.amount_fen for i in found) == 3 * 13_000
    winter = [i for i in found if "冬季" in i.label]
    assert sum(i.amount_fen for i in winter) == 3 * 13_000 // 2 and all(i.due_on < festival for i in winter)
    assert found[-1].due_on == date(2025, 5, 1)  # the spring share by the end of the shortage season
    # season 2025–2026: the festival (2026-02-17) is after the February payment day
    later = instalments("winter_spring", Standards(), persons=3, year=2025, festival=spring_festival(2026))
    assert [i.period for i in later if "春节前" in i.label] == ["2025-12", "2026-01", "2026-02"]


def test_the_split_is_configurable():
    months = winter_spring_months(2024, 12, 7)  # a single-crop area: spring shortage to July
    schedule = winter_spring_schedule(10_000, months, festival=date(2025, 1, 29), payment_day=1,
                                      winter_percent=60, before_percent=50)
    by_month = {(y, m): (amount, part) for y, m, amount, part in schedule}
    assert by_month[(2024, 12)] == (1500, "before") and by_month[(2025, 1)] == (1500, "before")
    assert by_month[(2025, 2)] == (3000, "after")
    assert [by_month[(2025, m)][0] for m in (3, 4, 5, 6, 7)] == [800] * 5
    assert sum(a for a, _p in by_month.values()) == 10_000
    standards = Standards.from_config({**_config(), "CYCLE_WINTER_SPRING_WINTER_PERCENT": 60,
                                       "CYCLE_WINTER_SPRING_BEFORE_FESTIVAL_PERCENT": 50})
    assert (standards.winter_spring_winter_percent, standards.winter_spring_before_festival_percent) == (60, 50)


def _config() -> dict:
    from app.config import Defaults as Config

    return {key: getattr(Config, key) for key in dir(Config) if key.startswith("CYCLE_")}


def _notes(app, kind):
    from app.extensions import db
    from app.notifications import Notification

    with app.app_context():
        return db.session.scalars(select(Notification.body).where(Notification.kind == kind)).all()


def test_the_county_is_warned_three_weeks_ahead_while_winter_money_is_unpaid(app, client, auth, runner):
    """December was paid, January's instalment was not (the fund line ran short): one payment no
    longer satisfies the check. Spring Festival 2025 is 29 January: warned from 8 January."""
    app.config["CYCLE_WINTER_SPRING_REGIONS"] = ["140105"]
    household = make_household(app, head_name="冬一", members=3, damage_class="collapsed")
    headers = auth.token("coordinator", "140105")
    auth.user("coordinator", "140105", username="county")
    with time_machine.travel(at("2024-09-20 08:00"), tick=False):
        run_due(runner, at("2024-09-20 08:00"), "cycles.winter_spring.open_survey")
    cycle = client.get("/api/v1/cycles?kind=winter_spring", headers=headers).get_json()["items"][0]["id"]
    line = make_fund(app, "winter_spring", 100)  # 97.50 for December, not enough for January too
    with time_machine.travel(at("2024-10-10 09:00"), tick=False):
        post(client, headers, f"/cycles/{cycle}/beneficiaries/propose", {}, 201)
        post(client, headers, f"/cycles/{cycle}/transitions", {"action": "submit_review"}, 200)
        decisions = [{"household_id": household, "decision": "approve"}]
        village_review(client, headers, cycle, decisions)
        post(client, headers, f"/cycles/{cycle}/transitions", {"action": "start_notice"}, 200)
    with time_machine.travel(at("2024-10-31 09:00"), tick=False):
        approve_cycle(client, headers, cycle, 200)
        client.put(f"/api/v1/cycles/{cycle}/fund-line", json={"fund_line_id": line}, headers=headers)
        post(client, headers, f"/cycles/{cycle}/transitions", {"action": "disburse"}, 200)
    for day in ("2024-12-01", "2025-01-01"):
        with time_machine.travel(at(f"{day} 07:00"), tick=False):
            run_due(runner, at(f"{day} 07:00"), "cycles.rolls")
    job = "cycles.winter_spring.deadlines"
    with time_machine.travel(at("2025-01-07 09:00"), tick=False):
        run_due(runner, at("2025-01-07 09:00"), job)
    assert _notes(app, "winter_spring.festival") == []
    with time_machine.travel(at("2025-01-08 09:00"), tick=False):
        run_due(runner, at("2025-01-08 09:00"), job)
    warned = _notes(app, "winter_spring.festival")
    assert warned and all("2025-01-29" in body and "97.50 元" in body for body in warned)


def test_the_winter_page_names_the_festival_and_the_warning_day(client, auth):
    auth.login("coordinator", "140105")
    page = client.get("/cycles/winter-spring/2025").get_data(as_text=True)
    assert "2026-02-17" in page and "2026-01-27" in page
    later = client.get("/cycles/winter-spring/2120").get_data(as_text=True)  # far beyond any table
    assert str(spring_festival(2121)) in later
