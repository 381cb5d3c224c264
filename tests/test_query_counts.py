"""Pages read what they show in a fixed number of queries: the same count for one row as for
many (no query per row). Each test counts a page's statements (``tests/queries.py``), adds rows,
and counts again."""
from __future__ import annotations

from app.extensions import db
from tests.distribution_support import TOWNSHIP, VILLAGE, make_event, make_households, make_point, received_dispatch
from tests.queries import page_statements

COUNTY = "140105"


def _grows(app, client, url, add_rows, shown) -> None:
    """``url`` runs as many statements after ``add_rows()`` as before; ``shown(text)`` counts the
    rows the page shows, which must have grown."""
    before = page_statements(app, client, url)
    rows_before = shown(client.get(url).get_data(as_text=True))
    add_rows()
    after = page_statements(app, client, url)
    rows_after = shown(client.get(url).get_data(as_text=True))
    assert rows_after > rows_before, (rows_before, rows_after)
    assert len(after) == len(before), "\n".join(["before:", *before, "after:", *after])


def _villages(app, count: int, start: int = 202) -> list[str]:
    from app.regions.models import Region

    with app.app_context():
        made = []
        for n in range(start, start + count):
            code = f"140105001{n}"
            db.session.add(Region(code=code, name=f"示例{n}村", level="village", parent_code=TOWNSHIP,
                                  population=500, households=150, lon=112.58, lat=37.71))
            made.append(code)
        db.session.commit()
        return made


def test_the_relief_table_reads_the_same_for_one_unit_or_many(app, client, auth):
    with app.app_context():
        event_id = make_event(regions=(COUNTY,))
        received_dispatch(event_id, {"tent": 10}, to_region=VILLAGE)
        make_point(event_id)
    auth.login("coordinator", COUNTY)
    url = f"/relief/events/{event_id}?region={TOWNSHIP}"

    def more():
        with app.app_context():
            for code in _villages(app, 4):
                received_dispatch(event_id, {"tent": 5, "quilt": 3}, to_region=code)
                make_point(event_id, region=code, name=f"{code}发放点")

    _grows(app, client, url, more, lambda text: text.count('data-region="'))


def test_the_distribution_point_page_reads_the_same_for_one_dispatch_or_many(app, client, auth):
    with app.app_context():
        event_id = make_event()
        received_dispatch(event_id, {"tent": 10})
        point_id = make_point(event_id)
    auth.login("officer", TOWNSHIP)
    url = f"/distribution/points/{point_id}"

    def more():
        with app.app_context():
            for _ in range(4):
                received_dispatch(event_id, {"tent": 5, "quilt": 3})

    _grows(app, client, url, more, lambda text: text.count('name="dispatch_id"'))


def test_the_distribution_report_reads_the_same_for_one_household_or_many(app, client, auth):
    from tests.distribution_support import stocked_point
    from tests.test_distribution import hand

    setup = stocked_point(app, households=1)
    clerk = auth.token("officer", VILLAGE, username="village-clerk")
    assert hand(client, clerk, setup["point_id"], setup["households"][0]).status_code == 201
    auth.login("officer", TOWNSHIP)
    url = f"/distribution/points/{setup['point_id']}/report"

    def more():
        with app.app_context():
            ids = make_households(5, start=100)
        for household in ids[:3]:
            assert hand(client, clerk, setup["point_id"], household).status_code == 201

    _grows(app, client, url, more, lambda text: text.count("<tr"))


def test_the_condolence_page_reads_the_same_for_one_person_or_many(app, client, auth):
    from app import idcard
    from tests.test_cycles_support import at, make_event as cycle_event, post

    event = cycle_event(app, stabilised=at("2025-07-31 18:00"))
    admin, county = auth.token("admin", "000000"), auth.token("coordinator", COUNTY)
    numbers = iter(range(1, 999))

    def dead(count):
        for _ in range(count):
            response = client.post(f"/api/v1/events/{event}/casualties", headers=admin, json={
                "region_code": VILLAGE, "name": "遇难者", "sex": "male", "address": "示例一村",
                "id_number": idcard.with_check_character(f"14010519600101{next(numbers):03d}"),
                "occurred_on": "2025-07-10", "place": "河道", "cause": "洪水", "status": "dead"})
            assert response.status_code == 201, response.get_json()
            yield response.get_json()["id"]

    cycle = post(client, county, "/cycles", {"kind": "condolence", "region_code": COUNTY, "event_id": event},
                 201).get_json()["id"]
    kin = iter(range(1, 999))

    def claim(person):
        post(client, county, f"/cycles/{cycle}/condolence", {"items": [{
            "casualty_id": person, "kin_name": "张家属", "relation": "配偶", "village_code": VILLAGE,
            "kin_id_number": idcard.with_check_character(f"14010519850101{next(kin):03d}")}]}, 201)

    claim(next(dead(1)))
    list(dead(1))
    auth.login("coordinator", COUNTY)

    def more():
        people = list(dead(6))
        for person in people[:3]:
            claim(person)

    _grows(app, client, f"/cycles/{cycle}/condolence", more, lambda text: text.count("<tr"))


def test_the_replenishment_page_reads_the_same_for_one_obligation_or_many(app, client, auth):
    from tests.test_depots_supply import _ok, _tiers
    from tests.test_depots_api import API

    keeper = _tiers(app, auth)
    province = auth.token("coordinator", "140000", username="prov")
    manager = auth.token("depot_manager", "140105", username=keeper)

    def draw(count):
        for _ in range(count):
            made = _ok(client.post(f"{API}/dispatches", headers=province, json={
                "from_depot": "CTY", "to_region_code": "140106", "lines": [{"item": "tent", "quantity": 5},
                                                                          {"item": "quilt", "quantity": 5}],
                "note": "省级统筹调用"}), 201)
            _ok(client.post(f"{API}/dispatches/{made['id']}/approve", json={}, headers=manager))

    draw(1)
    auth.login("coordinator", "140000", username="prov")
    _grows(app, client, "/depots/replenishments", lambda: draw(4), lambda text: text.count("<tr"))
