"""Distribution to households (发放签领, issue 15 point 3): points take in received dispatches,
hand out to households once per item and round, return what is left; the API, the pages, the
permission matrix, the report and its Excel export, and the ledger's invariants as properties."""
from __future__ import annotations

import io
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from tests.distribution_support import (TOWNSHIP, VILLAGE, id_number, make_event, make_households, make_point,
                                        png, received_dispatch, stocked_point)

API = "/api/v1/distribution"


@pytest.fixture
def setup(app):
    return stocked_point(app)


@pytest.fixture
def clerk(auth):
    return auth.token("officer", VILLAGE, username="village-clerk")


def hand(client, headers, point_id, household_id=None, lines=None, key=None, person=None, proof=None):
    body = {"lines": lines or [{"item": "quilt", "quantity": 2}], "proof_kind": "signature",
            "proof": proof or png()}
    if household_id is not None:
        body["household_id"] = household_id
    if person is not None:
        body["person"] = person
    headers = {**headers, **({"Idempotency-Key": key} if key else {})}
    return client.post(f"{API}/points/{point_id}/handouts", json=body, headers=headers)


def stock(client, headers, point_id) -> dict:
    response = client.get(f"{API}/points/{point_id}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return {row["item"]: row for row in response.get_json()["stock"]}


def ledger_problems(app, point_id):
    from app.distribution.service import check_point_ledger

    with app.app_context():
        return check_point_ledger(point_id)


# --- hand-outs -------------------------------------------------------------------------------

def test_hand_out_records_who_what_when_and_the_signature(app, client, setup, clerk):
    household = setup["households"][0]
    response = hand(client, clerk, setup["point_id"], household,
                    [{"item": "quilt", "quantity": 2}, {"item": "tent", "quantity": 1}])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["household_id"] == household and body["handed_by"] == "village-clerk" and body["round"] == 1
    assert {(i["item"], i["quantity"]) for i in body["items"]} == {("quilt", 2), ("tent", 1)}
    assert stock(client, clerk, setup["point_id"])["quilt"]["on_hand"] == 18
    proof = client.get(f"{API}/handouts/{body['items'][0]['id']}/proof", headers=clerk)
    assert proof.status_code == 200 and proof.mimetype == "image/png" and proof.data.startswith(b"\x89PNG")
    assert ledger_problems(app, setup["point_id"]) == []


def test_the_proof_is_in_the_file_store_and_another_instance_serves_it(app, client, setup, clerk, tmp_path):
    """The signature goes to app.storage (stored_file by default, a bucket with FILE_STORAGE=s3),
    not a column of the hand-out: a second instance over the same database serves it."""
    import base64

    from app import create_app
    from app.distribution.models import HandOutProof
    from app.storage import StoredFile

    signature = png(seed=7)
    response = hand(client, clerk, setup["point_id"], setup["households"][0], proof=signature)
    assert response.status_code == 201, response.get_json()
    other = create_app(dict(app.config), instance_path=str(tmp_path / "other-host"))
    served = other.test_client().get(f"{API}/handouts/{response.get_json()['items'][0]['id']}/proof", headers=clerk)
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.data == base64.b64decode(signature.partition(",")[2])
    with other.app_context():
        proof = db.session.scalar(select(HandOutProof))
        stored = db.session.scalar(select(StoredFile).filter_by(key=proof.stored_key))
        assert proof.stored_key.startswith("distribution/proofs/") and stored.sha256 == proof.sha256
        db.session.remove()


def test_what_was_handed_out_is_summed_for_the_relief_work_table(app, client, setup, clerk):
    from app.distribution import handed_out_by_item

    first, second = setup["households"][:2]
    with app.app_context():  # a point and nothing handed out yet: a true 0 for every item
        assert handed_out_by_item(setup["event_id"], TOWNSHIP) == {}
    assert hand(client, clerk, setup["point_id"], first,
                [{"item": "quilt", "quantity": 2}, {"item": "tent", "quantity": 1}]).status_code == 201
    assert hand(client, clerk, setup["point_id"], second, [{"item": "quilt", "quantity": 3}]).status_code == 201
    with app.app_context():
        event = setup["event_id"]
        assert handed_out_by_item(event, TOWNSHIP) == {"quilt": 5, "tent": 1}
        assert handed_out_by_item(event, VILLAGE) == {"quilt": 5, "tent": 1}
        # no point of the event there: nothing recorded (None, shown blank), not 0
        assert handed_out_by_item(event, "140106") is None  # another county: none of these points
        assert handed_out_by_item(event + 1, TOWNSHIP) is None


def test_the_same_item_twice_in_one_event_is_refused_until_a_second_round(app, client, auth, setup, clerk):
    household = setup["households"][0]
    assert hand(client, clerk, setup["point_id"], household).status_code == 201
    again = hand(client, clerk, setup["point_id"], household, [{"item": "tent", "quantity": 1},
                                                               {"item": "quilt", "quantity": 1}])
    assert again.status_code == 409
    assert [e["field"] for e in again.get_json()["errors"]] == ["lines[1].item"]
    assert stock(client, clerk, setup["point_id"])["tent"]["on_hand"] == 10  # nothing of the refused hand-out
    # a clerk may not open a round; a coordinator may, with a reason
    refused = client.post(f"{API}/points/{setup['point_id']}/rounds", json={"reason": "第二批"}, headers=clerk)
    assert refused.status_code == 403
    coordinator = auth.token("coordinator", "140105")
    assert client.post(f"{API}/points/{setup['point_id']}/rounds", json={}, headers=coordinator).status_code == 422
    opened = client.post(f"{API}/points/{setup['point_id']}/rounds", json={"reason": "寒潮，第二批棉被"},
                         headers=coordinator)
    assert opened.status_code == 201 and opened.get_json()["number"] == 2
    second = hand(client, clerk, setup["point_id"], household)
    assert second.status_code == 201 and second.get_json()["round"] == 2
    assert hand(client, clerk, setup["point_id"], household).status_code == 409


def test_a_round_opened_twice_opens_one_and_a_lost_race_is_a_409(app, client, auth, setup, monkeypatch):
    from app.distribution.models import DistributionRound

    def rounds() -> list[int]:
        with app.app_context():
            return db.session.scalars(select(DistributionRound.number).order_by(DistributionRound.id)).all()

    coordinator = auth.token("coordinator", "140105")
    url = f"{API}/points/{setup['point_id']}/rounds"
    body = {"reason": "寒潮，第二批棉被", "expected_round": 1}
    first = client.post(url, json=body, headers=coordinator)
    assert first.status_code == 201 and first.get_json()["number"] == 2
    again = client.post(url, json=body, headers=coordinator)  # the same submit twice
    assert again.status_code == 409 and "第 2 轮发放已经开启" in again.get_json()["detail"]
    assert rounds() == [2]
    # the page's form sends the round it showed; submitted twice, the second is refused
    auth.login("coordinator", "140105")
    page = client.get(f"/distribution/points/{setup['point_id']}").get_data(as_text=True)
    assert 'name="expected_round" value="2"' in page
    twice = [client.post(f"/distribution/points/{setup['point_id']}/rounds", data={"reason": "第三批",
                                                                                "expected_round": "2"},
                         follow_redirects=True).get_data(as_text=True) for _ in range(2)]
    assert "已开启第 3 轮发放" in twice[0] and "第 3 轮发放已经开启" in twice[1]
    assert rounds() == [2, 3]
    # a race: the other request's round was not yet seen, the unique number refuses it, a 409 not a 500
    monkeypatch.setattr("app.distribution.service.points.current_round", lambda *_args: 2)
    raced = client.post(url, json={"reason": "并发"}, headers=coordinator)
    assert raced.status_code == 409 and "第 3 轮发放已经开启" in raced.get_json()["detail"]
    assert rounds() == [2, 3]


def test_an_item_added_to_the_catalogue_after_the_process_read_it_is_known(app, client, setup, clerk):
    """The process keeps the catalogue it read (items are only ever added); a code it has not
    seen is looked up again, so an item another process added just now is checked, not refused."""
    from app.depots import Item

    first = hand(client, clerk, setup["point_id"], setup["households"][0], [{"item": "lamp", "quantity": 1}])
    assert first.status_code == 422 and "物资目录中没有 lamp" in str(first.get_json()["errors"])
    with app.app_context():
        db.session.add(Item(code="lamp", name="应急灯", unit="盏", category="lighting", shelf_life_days=None))
        db.session.commit()
    later = hand(client, clerk, setup["point_id"], setup["households"][0], [{"item": "lamp", "quantity": 1}])
    # known now: refused only because the point holds none
    assert later.status_code == 409 and "应急灯" in str(later.get_json()), later.get_json()


def test_idempotency_key_never_hands_out_twice(app, client, setup, clerk):
    household = setup["households"][1]
    first = hand(client, clerk, setup["point_id"], household, key="k-1")
    replay = hand(client, clerk, setup["point_id"], household, key="k-1")
    assert first.status_code == replay.status_code == 201
    assert first.get_json() == replay.get_json()
    other = hand(client, clerk, setup["point_id"], household, [{"item": "tent", "quantity": 1}], key="k-1")
    assert other.status_code == 409
    assert stock(client, clerk, setup["point_id"])["quilt"]["on_hand"] == 18


def test_beyond_the_points_stock_is_409_and_nothing_moves(app, client, setup, clerk):
    response = hand(client, clerk, setup["point_id"], setup["households"][0],
                    [{"item": "tent", "quantity": 1}, {"item": "quilt", "quantity": 21}])
    assert response.status_code == 409
    assert [e["field"] for e in response.get_json()["errors"]] == ["lines[1].quantity"]
    assert stock(client, clerk, setup["point_id"])["tent"]["on_hand"] == 10


def test_input_errors_name_every_field(app, client, setup, clerk):
    response = client.post(f"{API}/points/{setup['point_id']}/handouts", headers=clerk,
                           json={"lines": [{"item": "quilt", "quantity": 0}, {"item": "nothing", "quantity": 1}],
                                 "proof_kind": "signature", "proof": "data:image/gif;base64,R0lG"})
    assert response.status_code == 422
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert {"household_id", "lines[0].quantity", "lines[1].item", "proof"} <= fields
    blank = client.post(f"{API}/points/{setup['point_id']}/handouts", headers=clerk, json={})
    assert {"lines", "proof_kind", "proof"} <= {e["field"] for e in blank.get_json()["errors"]}
    not_png = hand(client, clerk, setup["point_id"], setup["households"][0],
                   proof="data:image/png;base64," + "QUJD" * 40)
    assert not_png.status_code == 422 and not_png.get_json()["errors"][0]["field"] == "proof"


def test_a_person_registered_on_the_spot(app, client, setup, clerk):
    bad = hand(client, clerk, setup["point_id"], person={"name": "李四", "id_number": "140105198001019990",
                                                          "household_size": 3})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "person.id_number"
    person = {"name": "李四", "id_number": id_number(9001).lower(), "household_size": 3}
    first = hand(client, clerk, setup["point_id"], person=person)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["household_id"] is None and first.get_json()["spot_recipient_id"]
    # the same person registered again: the same row, and the same item twice is refused
    again = hand(client, clerk, setup["point_id"], person={**person, "id_number": id_number(9001)})
    assert again.status_code == 409 and [e["field"] for e in again.get_json()["errors"]] == ["lines[0].item"]
    assert hand(client, clerk, setup["point_id"], person=person, lines=[{"item": "tent", "quantity": 1}]) \
        .status_code == 201
    # someone of the registry "registered on the spot" receives as their household: never twice
    registered = {"name": "户主1", "id_number": id_number(1), "household_size": 2}
    assert hand(client, clerk, setup["point_id"], setup["households"][0]).status_code == 201
    assert hand(client, clerk, setup["point_id"], person=registered).status_code == 409
    # the person's hand-outs are keyed by their spot row, never by their identity number, nor is
    # the number in the audit record
    from app.distribution.models import HandOut, SpotRecipient
    from app.models_common import AuditEntry

    with app.app_context():
        (spot,) = db.session.scalars(select(SpotRecipient)).all()
        keys = db.session.execute(select(HandOut.recipient_key, HandOut.spot_recipient_id)).all()
        audits = [str(a.after) for a in db.session.scalars(select(AuditEntry)
                                                          .where(AuditEntry.action == "distribution.handout"))]
    assert sorted(key for key, spot_id in keys if spot_id) == [f"S{spot.id}"] * 2
    assert not [key for key, _ in keys if id_number(9001) in key or id_number(1) in key]
    assert len(audits) == 3 and not [a for a in audits if id_number(9001) in a]


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_migration_keys_spot_hand_outs_by_their_row(tmp_path, request, database):
    """Hand-outs recorded before 0018 under ``P<identity number>`` are keyed ``S<spot row id>``."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    from app import create_app
    from tests.test_cycles_order import _fill

    url = f"sqlite:///{tmp_path / 'old.sqlite'}" if database == "sqlite" else request.getfixturevalue("pg_url")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    person = id_number(9002)
    with app.app_context():
        upgrade(revision="0017_supply")
        meta = sa.MetaData()
        meta.reflect(db.engine)

        def add(conn, table, **values):
            return conn.execute(meta.tables[table].insert().values(
                **_fill(inspect(conn), table, values))).inserted_primary_key[0]

        with db.engine.begin() as conn:
            for code, level, parent in (("140000", "province", None), ("140100", "prefecture", "140000"),
                                        ("140105", "county", "140100"), ("140105001", "township", "140105"),
                                        (VILLAGE, "village", TOWNSHIP)):
                add(conn, "region", code=code, level=level, parent_code=parent, name=code)
            event = add(conn, "event", name="旧洪涝", hazard="flood", status="active")
            add(conn, "item", code="quilt", name="棉被", unit="床")
            point = add(conn, "distribution_point", event_id=event, region_code=VILLAGE, name="一村")
            spot = add(conn, "spot_recipient", id_number=person, name="李四", household_size=3, region_code=VILLAGE)
            proof = add(conn, "handout_proof", kind="signature", mimetype="image/png", sha256="0" * 64, data=b"x")
            household = add(conn, "household", village_code=VILLAGE, id_number=id_number(9003), members=2)
            for key, spot_id, household_id in ((f"P{person}", spot, None), (f"H{household}", None, household)):
                add(conn, "handout", point_id=point, event_id=event, round_number=1, recipient_key=key,
                    household_id=household_id, spot_recipient_id=spot_id, item_code="quilt", quantity=1,
                    proof_id=proof, proof_kind="signature", handed_by="clerk")

        def keys():
            with db.engine.connect() as conn:
                return sorted(conn.execute(sa.text("SELECT recipient_key FROM handout")).scalars())

        upgrade()
        assert keys() == [f"H{household}", f"S{spot}"]
        downgrade(revision="0017_supply")
        assert keys() == [f"H{household}", f"P{person}"]
        db.engine.dispose()


def test_a_household_of_another_village_is_refused(app, client, setup, clerk):
    with app.app_context():
        (other,) = make_households(1, "140105001201", start=500)
    response = hand(client, clerk, setup["point_id"], other)
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "household_id"


# --- receipts and returns ------------------------------------------------------------------

def test_points_take_in_no_more_than_the_dispatch_brought(app, client, auth):
    with app.app_context():
        event_id = make_event()
        dispatch_id = received_dispatch(event_id, {"quilt": 30}, received={"quilt": 25})
        first, second = make_point(event_id), make_point(event_id, "140105001201", "示例二村发放点")
        requested = received_dispatch(event_id, {"tent": 5})
    township = auth.token("officer", TOWNSHIP)
    url = f"{API}/points/{first}/receipts"
    too_many = client.post(url, json={"dispatch_id": dispatch_id, "lines": [{"item": "quilt", "quantity": 26}]},
                           headers=township)
    assert too_many.status_code == 409 and too_many.get_json()["errors"][0]["field"] == "lines[0].quantity"
    assert client.post(url, json={"dispatch_id": dispatch_id, "lines": [{"item": "quilt", "quantity": 15}]},
                       headers=township).status_code == 201
    listed = client.get(f"{API}/points/{second}/dispatches", headers=township).get_json()["items"]
    assert [(d["id"], d["lines"][0]["left"]) for d in listed if d["id"] == dispatch_id] == [(dispatch_id, 10)]
    assert client.post(f"{API}/points/{second}/receipts", json={"dispatch_id": dispatch_id},
                       headers=township).status_code == 201
    assert client.post(f"{API}/points/{second}/receipts", json={"dispatch_id": dispatch_id},
                       headers=township).status_code == 409
    assert stock(client, township, second)["quilt"]["on_hand"] == 10
    assert requested  # another dispatch of the same event stays receivable
    assert ledger_problems(app, first) == ledger_problems(app, second) == []


def test_a_dispatch_not_yet_received_cannot_be_taken_in(app, client, auth):
    from app.depots import service as depots

    with app.app_context():
        event_id = make_event()
        received_dispatch(event_id, {"quilt": 5})
        dispatch = depots.create_dispatch(None, {"event_id": event_id, "from_depot": "XD-140105",
                                                 "to_region_code": TOWNSHIP,
                                                 "lines": [{"item": "quilt", "quantity": 1}]})
        point = make_point(event_id)
        dispatch_id = dispatch.id
    response = client.post(f"{API}/points/{point}/receipts", json={"dispatch_id": dispatch_id},
                           headers=auth.token("officer", VILLAGE))
    assert response.status_code == 409


def test_what_was_not_handed_out_returns_to_its_depot(app, client, auth, setup, clerk):
    depot_manager = auth.token("admin", "000000")
    before = client.get("/api/v1/depots/XD-140105/stock", headers=depot_manager).get_json()
    hand(client, clerk, setup["point_id"], setup["households"][0])
    too_many = client.post(f"{API}/points/{setup['point_id']}/returns", headers=clerk,
                           json={"lines": [{"item": "quilt", "quantity": 19}]})
    assert too_many.status_code == 409
    response = client.post(f"{API}/points/{setup['point_id']}/returns", headers=clerk,
                           json={"lines": [{"item": "quilt", "quantity": 18}], "reason": "发放完毕"})
    assert response.status_code == 201
    after = client.get("/api/v1/depots/XD-140105/stock", headers=depot_manager).get_json()
    quilt = lambda rows: next(r["on_hand"] for r in rows if r["item"] == "quilt")  # noqa: E731
    assert quilt(after) == quilt(before) + 18
    ledger = client.get("/api/v1/depots/XD-140105/ledger", headers=depot_manager).get_json()
    rows = ledger["items"] if isinstance(ledger, dict) else ledger
    returned = [r for r in rows if r["kind"] == "return"]
    assert sum(r["quantity"] for r in returned) == 18
    assert {r["document_type"] for r in returned} == {"distribution_return"}
    assert stock(client, clerk, setup["point_id"])["quilt"] == {
        "item": "quilt", "name": "棉被", "received": 20, "handed_out": 2, "returned": 18, "on_hand": 0}
    assert ledger_problems(app, setup["point_id"]) == []
    from app.depots.service import check_ledger

    with app.app_context():
        assert not check_ledger("XD-140105")


# --- permissions -----------------------------------------------------------------------------

@pytest.mark.parametrize("role, region, view, handout, manage", [
    ("officer", VILLAGE, 200, 201, 201),           # the village clerk
    ("officer", TOWNSHIP, 200, 201, 201),          # the township clerk
    ("officer", "140105001201", 403, 403, 403),    # the next village's clerk
    ("coordinator", "140105", 200, 201, 201),
    ("admin", "000000", 200, 201, 201),
    ("depot_manager", "140105", 200, 403, 403),
    ("auditor", "140000", 200, 403, 403),
    ("finance", "140105", 200, 403, 403),
    ("dept_police", "140105", 403, 403, 403),
])
def test_permission_matrix(app, client, auth, setup, role, region, view, handout, manage):
    headers = auth.token(role, region)
    point = setup["point_id"]
    assert client.get(f"{API}/points/{point}/report", headers=headers).status_code == view
    assert hand(client, headers, point, setup["households"][0]).status_code == handout
    response = client.post(f"{API}/points/{point}/returns", headers=headers,
                           json={"lines": [{"item": "tent", "quantity": 1}]})
    assert response.status_code == manage


def test_every_distribution_action_is_labelled_in_both_languages(app):
    from app.areas import ACTION_LABELS, by_name
    from app.i18n import translate

    actions = by_name()["distribution"].actions
    assert set(actions) == {"distribution.view", "distribution.manage", "distribution.handout", "distribution.round"}
    with app.test_request_context("/?lang=en"):
        for action in actions:
            label = ACTION_LABELS[action]
            english = translate(label)
            assert english != label and english.isascii(), (action, english)


# --- reports ---------------------------------------------------------------------------------

def test_report_says_who_received_what_and_who_nothing_yet(app, client, setup, clerk):
    first, second, *rest = setup["households"]
    hand(client, clerk, setup["point_id"], first)
    hand(client, clerk, setup["point_id"], second, [{"item": "tent", "quantity": 1}])
    report = client.get(f"{API}/points/{setup['point_id']}/report", headers=clerk).get_json()
    assert report["received"] == 2
    assert sorted(h["household_id"] for h in report["nothing_yet"]) == sorted(rest)
    by_id = {h["household_id"]: h for h in report["households"]}
    assert [(r["item"], r["quantity"]) for r in by_id[first]["received"]] == [("quilt", 2)]
    assert "*" in by_id[first]["id_number"]  # identity numbers masked
    one = client.get(f"{API}/points/{setup['point_id']}/households/{second}", headers=clerk).get_json()
    assert [r["item"] for r in one["received"]] == ["tent"]


def test_excel_export_escapes_formulas(app, client, setup, clerk):
    from app.cycles.models import Household

    with app.app_context():
        household = db.session.get(Household, setup["households"][0])
        household.head_name = "=HYPERLINK(\"http://x\")"
        db.session.commit()
    hand(client, clerk, setup["point_id"], setup["households"][0])
    response = client.get(f"{API}/points/{setup['point_id']}/report.xlsx", headers=clerk)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "'=HYPERLINK(\"http://x\")" in values
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)
    assert "尚未领取" in values


# --- pages -----------------------------------------------------------------------------------

def test_pages_for_the_village_clerk(app, client, auth, setup):
    auth.login("officer", VILLAGE)
    point = setup["point_id"]
    for url in ("/distribution/", f"/distribution/points/{point}", f"/distribution/points/{point}/handout",
                f"/distribution/points/{point}/report", f"/distribution/points/{point}/report.xlsx",
                "/distribution/sw.js"):
        assert client.get(url).status_code == 200, url
    page = client.get(f"/distribution/points/{point}/handout?lang=en").get_data(as_text=True)
    assert "Hand out" in page and "户主1" in page


def test_page_forms_refuse_with_the_fields_named(app, client, auth, setup):
    auth.login("officer", VILLAGE)
    point = setup["point_id"]
    response = client.post(f"/distribution/points/{point}/returns", data={"item": "quilt", "quantity": "abc"},
                           follow_redirects=True)
    assert "整数" in response.get_data(as_text=True)
    response = client.post(f"/distribution/points/{point}/returns", data={"item": "quilt", "quantity": "3"},
                           follow_redirects=True)
    assert "退回单" in response.get_data(as_text=True)
    response = client.post("/distribution/points", data={"event_id": setup["event_id"], "region_code": "140105",
                                                         "name": "区发放点"}, follow_redirects=True)
    assert "村或乡镇" in response.get_data(as_text=True)


# --- the ledger's invariants, as properties ---------------------------------------------------

_serial = itertools.count(1)

OPERATION = st.one_of(
    st.tuples(st.just("receive"), st.sampled_from(["quilt", "tent"]), st.integers(1, 12)),
    st.tuples(st.just("hand"), st.integers(0, 5), st.sampled_from(["quilt", "tent"]), st.integers(1, 6)),
    st.tuples(st.just("return"), st.sampled_from(["quilt", "tent"]), st.integers(1, 8)),
    st.tuples(st.just("round"),),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(operations=st.lists(OPERATION, min_size=1, max_size=14))
def test_point_stock_never_below_zero_and_every_unit_is_traceable(app, operations):
    """Whatever the clerks do, refused or not: a point's stock never goes below zero, balances
    are the sum of the ledger, and every unit a depot received and dispatched is at the point,
    with a household, or back at the depot."""
    from app.depots.models import StockMovement
    from app.distribution import service
    from app.distribution.models import HandOut, PointMovement
    from app.errors import ServiceError
    from tests.factories import make_user

    with app.app_context():
        clerk = make_user("officer", TOWNSHIP, "prop-clerk")
        coordinator = make_user("coordinator", "140105", "prop-coordinator")
        run = next(_serial)
        event_id = make_event()
        dispatch_id = received_dispatch(event_id, {"quilt": 15, "tent": 8}, depot=f"P-{run}")
        households = make_households(6, start=10_000 + run * 10)
        point_id = make_point(event_id)
        for operation in operations:
            try:
                if operation[0] == "receive":
                    service.receive_goods(clerk, point_id, {"dispatch_id": dispatch_id, "lines": [
                        {"item": operation[1], "quantity": operation[2]}]})
                elif operation[0] == "hand":
                    service.hand_out(clerk, point_id, {"household_id": households[operation[1]], "lines": [
                        {"item": operation[2], "quantity": operation[3]}], "proof_kind": "signature", "proof": png()})
                elif operation[0] == "return":
                    service.return_goods(clerk, point_id, {"lines": [{"item": operation[1], "quantity": operation[2]}]})
                else:
                    service.open_round(coordinator, point_id, {"reason": "下一轮"})
            except ServiceError:
                db.session.rollback()
            assert service.check_point_ledger(point_id) == []
            assert all(row["on_hand"] >= 0 for row in service.point_stock(point_id))
        # traceability: depot receipt → dispatch → point receipt → a household or a return
        for item, brought in (("quilt", 15), ("tent", 8)):
            moves = db.session.scalars(select(PointMovement).where(PointMovement.point_id == point_id,
                                                                   PointMovement.item_code == item)).all()
            assert all(m.dispatch_id == dispatch_id for m in moves)
            received = sum(m.quantity for m in moves if m.kind == "receipt")
            handed = -sum(m.quantity for m in moves if m.kind == "handout")
            returned = -sum(m.quantity for m in moves if m.kind == "return")
            on_hand = sum(m.quantity for m in moves)
            assert received <= brought and on_hand >= 0
            assert received == handed + returned + on_hand
            assert handed == (db.session.scalar(select(func.sum(HandOut.quantity)).where(
                HandOut.point_id == point_id, HandOut.item_code == item)) or 0)
            assert db.session.scalar(select(func.count(HandOut.id)).where(
                HandOut.point_id == point_id, HandOut.item_code == item, HandOut.household_id.is_(None))) == 0
            depot = db.session.scalars(select(StockMovement).where(StockMovement.depot_code == f"P-{run}",
                                                                   StockMovement.item_code == item)).all()
            assert sum(m.quantity for m in depot if m.kind == "receipt") == brought
            assert -sum(m.quantity for m in depot if m.kind == "dispatch" and m.document_id == str(dispatch_id)) \
                == brought
            assert sum(m.quantity for m in depot if m.kind == "return") == returned
            assert all(m.document_type == "distribution_return" for m in depot if m.kind == "return")


# --- two clerks at once ------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["two points", "one point"])
def test_two_clerks_handing_the_same_item_to_one_household_at_once_file_it_once(app, auth, live_server, where):
    """Two clerks, at two points of one village or at two tables of one point, hand the same
    household a quilt at the same moment: one hand-out is filed, the other is a 409, and the
    points' books stay right (at one point the lock on its balances orders them, so the second
    sees the first's rows; across points the database's unique constraint, whatever the
    interleaving; on PostgreSQL with ``JIUZAI_TEST_DB=postgresql``)."""
    import json
    import threading
    import urllib.error
    import urllib.request

    from app.distribution.service import receive_goods
    from tests.factories import make_user

    with app.app_context():
        event_id = make_event()
        dispatch_id = received_dispatch(event_id, {"quilt": 40})
        households = make_households(8)
        points = [make_point(event_id), make_point(event_id, name="示例一村二号点")]
        clerk = make_user("officer", TOWNSHIP, "race-clerk")
        for point in points:
            receive_goods(clerk, point, {"dispatch_id": dispatch_id, "lines": [{"item": "quilt", "quantity": 20}]})
    headers = [auth.token("officer", VILLAGE, username=f"race{n}") for n in range(2)]
    targets = points if where == "two points" else [points[0], points[0]]
    jobs = [(household, point, header) for household in households for point, header in zip(targets, headers)]
    barrier = threading.Barrier(2)
    results: dict[int, list[int]] = {household: [] for household in households}
    lock = threading.Lock()

    def post(household, point, header):
        body = json.dumps({"household_id": household, "lines": [{"item": "quilt", "quantity": 1}],
                           "proof_kind": "signature", "proof": png()}).encode()
        request = urllib.request.Request(f"{live_server.url}{API}/points/{point}/handouts", data=body, method="POST",
                                         headers={**header, "Content-Type": "application/json"})
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        with lock:
            results[household].append(status)

    for household in households:
        pair = [threading.Thread(target=post, args=job) for job in jobs if job[0] == household]
        for thread in pair:
            thread.start()
        for thread in pair:
            thread.join(90)
    assert all(sorted(statuses) == [201, 409] for statuses in results.values()), results
    from app.distribution.models import HandOut

    with app.app_context():
        db.session.expire_all()
        assert db.session.scalar(select(func.count(HandOut.id))) == len(households)
        from app.distribution.service import check_point_ledger, point_stock

        assert check_point_ledger(points[0]) == check_point_ledger(points[1]) == []
        left = sum(point_stock(p)[0]["on_hand"] for p in points)
        assert left == 40 - len(households)


# --- where a point may be set up: the form's picker -----------------------------------------------

def test_the_point_form_offers_the_townships_and_villages_of_the_users_jurisdiction(app, client, auth):
    with app.app_context():
        make_event()
    auth.login("officer", TOWNSHIP)
    page = client.get("/distribution/").get_data(as_text=True)
    assert 'data-picker-url="/distribution/places"' in page and "区划代码" not in page
    found = client.get("/distribution/places?q=示例").get_json()
    assert [row["code"] for row in found] == [TOWNSHIP, VILLAGE, "140105001201"]
    assert found[1]["label"] == "示例镇示例一村（140105001200）"
    assert client.get("/distribution/places?q=1401050012").get_json()[0]["code"] == VILLAGE
    assert client.get("/distribution/places?q=迎泽").get_json() == []  # outside the jurisdiction
    assert client.get("/distribution/places?q=小店").get_json() == []  # a county: no point there
    assert client.get("/distribution/places?q=").get_json() == []
    auth.logout()
    auth.login("officer", VILLAGE)
    assert [row["code"] for row in client.get("/distribution/places?q=示例").get_json()] == [VILLAGE]
    auth.logout()
    auth.login("auditor", "140000")
    assert client.get("/distribution/places?q=示例").status_code == 403
