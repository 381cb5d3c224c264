"""Pages for depot managers and coordinators, Excel exports, the home panel and the demo step."""
from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from tests.browser import sign_in
from tests.conftest import PASSWORD
from tests.test_depots_api import API, make_depot, new_dispatch, stock_of


@pytest.fixture
def keeper(app, auth):
    name = auth.user("depot_manager", "140105", username="page-keeper")
    make_depot(app, "PG", region="140105", managers=[name], stock={"tent": 30, "quilt": 200})
    return name


def _html(response) -> str:
    return response.get_data(as_text=True)


def test_depot_list_and_stock_page_show_floor_warnings(app, client, auth, keeper):
    coordinator = auth.token("coordinator", "140000")
    client.put(f"{API}/depots/PG/reserves/tent", json={"floor": 50}, headers=coordinator)
    auth.login("depot_manager", "140105", username=keeper)
    index = _html(client.get("/depots/"))
    assert "我管理的物资库" in index and "PG库" in index and "低于保底" in index
    page = _html(client.get("/depots/PG"))
    row = re.search(r'<tr class="table-warning" data-item="tent">(.*?)</tr>', page, re.S)
    assert row and "低于保底储备" in row.group(1)
    assert "登记入库" in page and "盘点调整" in page
    assert "保底储备数量" not in page  # setting floors is for coordinators


def test_receipt_and_adjustment_forms(app, client, auth, keeper):
    auth.login("depot_manager", "140105", username=keeper)
    done = client.post("/depots/PG/receipts", data={"r-item": "tent", "r-quantity": "12", "r-note": "社会捐赠"},
                       follow_redirects=True)
    assert "已入库 12" in _html(done)
    refused = client.post("/depots/PG/adjustments", data={"a-item": "tent", "a-quantity": "-5", "a-reason": ""},
                          follow_redirects=True)
    assert "请填写调整原因" in _html(refused)
    over = client.post("/depots/PG/adjustments", data={"a-item": "tent", "a-quantity": "-500", "a-reason": "盘亏"},
                       follow_redirects=True)
    assert "库存不足" in _html(over)
    headers = auth.token("admin", "000000")
    assert stock_of(client, headers, "PG")["tent"]["on_hand"] == 42


def test_unassigned_manager_sees_no_forms_and_is_refused(app, client, auth, keeper):
    auth.login("depot_manager", "140105", username="stranger")
    page = _html(client.get("/depots/PG"))
    assert "登记入库" not in page
    refused = client.post("/depots/PG/receipts", data={"r-item": "tent", "r-quantity": "5"}, follow_redirects=True)
    assert "无权" in _html(refused)
    assert stock_of(client, auth.token("admin", "000000"), "PG")["tent"]["on_hand"] == 30


def test_dispatch_pages_approve_ship_receive(app, client, auth, keeper):
    officer = auth.user("officer", "140105", username="page-officer")
    created = new_dispatch(client, auth.token("officer", "140105", username=officer), "PG", "140105",
                           [{"item": "tent", "quantity": 10}, {"item": "quilt", "quantity": 20}])
    auth.login("depot_manager", "140105", username=keeper)
    home = _html(client.get("/"))
    assert "待处理的调拨单" in home and f"#{created['id']}" in home
    approved = client.post(f"/depots/dispatches/{created['id']}/approve", data={}, follow_redirects=True)
    assert "已审批，库存已扣减" in _html(approved)
    shipped = client.post(f"/depots/dispatches/{created['id']}/ship", data={"note": "晋A1"}, follow_redirects=True)
    assert "已发运" in _html(shipped)
    auth.logout()
    auth.login("officer", "140105", username=officer)
    received = client.post(f"/depots/dispatches/{created['id']}/receive",
                           data={"received-tent": "9", "note-tent": "一顶破损", "received-quilt": "20"},
                           follow_redirects=True)
    assert "已签收" in _html(received)
    body = client.get(f"{API}/dispatches/{created['id']}", headers=auth.token("admin", "000000")).get_json()
    lines = {l["item"]: l for l in body["lines"]}
    assert body["status"] == "received" and lines["tent"]["received_quantity"] == 9
    assert lines["tent"]["discrepancy_note"] == "一顶破损" and lines["quilt"]["discrepancy"] == 0


def test_dispatch_request_form_and_shortage_message(app, client, auth, keeper):
    make_depot(app, "PG2", region="140200", stock={"tent": 10})  # 31 is not beyond all depots (40)
    auth.login("coordinator", "140000")
    page = client.post("/depots/dispatches", data={"from_depot": "PG", "to_region_code": "140106",
                                                  "qty-tent": "31"}, follow_redirects=True)
    assert "已提交调拨单" in _html(page)
    dispatch_id = int(re.search(r"调拨单 #(\d+)", _html(page)).group(1))
    short = client.post(f"/depots/dispatches/{dispatch_id}/approve", data={}, follow_redirects=True)
    assert "库存不足" in _html(short) and "可用 30" in _html(short)


def test_dispatch_note_excel(app, client, auth, keeper):
    headers = auth.token("admin", "000000")
    created = new_dispatch(client, headers, "PG", "140105", [{"item": "tent", "quantity": 7}])
    client.post(f"{API}/dispatches/{created['id']}/approve", headers=headers)
    auth.login("depot_manager", "140105", username=keeper)
    response = client.get(f"/depots/dispatches/{created['id']}.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data))["调拨单"]
    assert sheet["A1"].value == "救灾物资调拨单" and sheet["B3"].value == f"DB-{created['id']:06d}"
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    line = next(r for r in rows if r[2] == "tent")
    assert line[1] == "帐篷" and line[3] == "顶" and line[4] == 7 and "无批号" in line[5]


def test_stock_report_excel(app, client, auth, keeper):
    coordinator = auth.token("coordinator", "140000")
    client.put(f"{API}/depots/PG/reserves/tent", json={"floor": 50}, headers=coordinator)
    auth.login("depot_manager", "140105", username=keeper)
    response = client.get("/depots/PG/stock.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    rows = [[c.value for c in row] for row in book["库存报表"].iter_rows(min_row=5)]
    by_item = {r[4]: r for r in rows}
    assert by_item["tent"][7] == 30 and by_item["tent"][9] == 50 and by_item["tent"][10] == 0
    assert by_item["tent"][12] == "低于保底储备" and by_item["quilt"][10] == 200
    region_report = client.get("/depots/stock.xlsx?region_code=140100")
    assert load_workbook(io.BytesIO(region_report.data))["库存报表"].cell(row=5, column=1).value == "PG"


def test_ledger_page(app, client, auth, keeper):
    auth.login("auditor", "140000")
    page = _html(client.get("/depots/PG/ledger?item=tent"))
    assert "库存台账" in page and "初始库存" in page and "+30" in page
    assert client.get("/depots/NOPE/ledger").status_code == 404


def test_supply_request_pages(app, client, auth, keeper):
    make_depot(app, "TY", region="140100", tier="prefecture", lon=112.55, lat=37.87, stock={"tent": 400})
    auth.login("depot_manager", "140105", username=keeper)
    raised = client.post("/depots/supply-requests", data={"from_region_code": "140105", "reason": "安置点缺帐篷",
                                                         "qty-tent": "100"}, follow_redirects=True)
    assert "已提交物资申请" in _html(raised)
    request_id = int(re.search(r"物资申请 #(\d+)", _html(raised)).group(1))
    auth.logout()
    auth.login("coordinator", "140100", username="ty-coordinator")
    assert "待受理的物资申请" in _html(client.get("/"))
    page = _html(client.get(f"/depots/supply-requests/{request_id}"))
    assert "从本级物资库调拨" in page and 'name="fill-TY--tent"' in page and "（400）" in page
    filled = client.post(f"/depots/supply-requests/{request_id}/fill", data={"fill-TY--tent": "100"},
                         follow_redirects=True)
    assert "已生成调拨单" in _html(filled) and "已满足" in _html(filled)


def test_pages_reference_no_external_url(app, client, auth, keeper):
    created = new_dispatch(client, auth.token("admin", "000000"), "PG", "140105")
    auth.login("admin", "000000")
    for path in ("/depots/", "/depots/PG", "/depots/PG/ledger", "/depots/dispatches",
                 f"/depots/dispatches/{created['id']}", "/depots/supply-requests"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not re.search(r'(src|href|action)=["\'](https?:)?//', _html(response)), path


def test_pages_need_login(client):
    response = client.get("/depots/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_demo_depots_are_idempotent(app, auth, tmp_path):
    from app.depots import demo, service
    from app.depots.models import Depot, DepotReserve, StockMovement

    auth.user("depot_manager", "140000", username="depot")
    with app.app_context():
        messages: list[str] = []
        demo.load_depots(messages.append)
        codes = db.session.scalars(select(Depot.code).order_by(Depot.code)).all()
        # the test geography: Shanxi with prefectures 140100, 140200 and counties 140105, 140106, 140212
        assert codes == ["SX-140000", "SX-140100", "SX-140105", "SX-140106", "SX-140200", "SX-140212"]
        provincial = db.session.get(Depot, "SX-140000")
        assert provincial.tier == "provincial" and [u.username for u in provincial.managers] == ["depot"]
        assert (provincial.lon, provincial.lat) == (112.55, 37.87)
        movements = db.session.scalar(select(func.count()).select_from(StockMovement))
        stock = {row["item"]: row["on_hand"] for row in service.stock_levels(None, "SX-140000")}
        assert {"tent", "quilt", "cotton_coat", "folding_bed", "blanket", "water", "instant_food"} <= set(stock)
        assert stock["tent"] >= 300 * 25 * 0.6
        assert db.session.scalar(select(func.count()).select_from(DepotReserve)) == 6 * 3
        assert service.check_ledger() == []
        demo.load_depots(messages.append)
        assert db.session.scalar(select(func.count()).select_from(StockMovement)) == movements
        assert db.session.scalar(select(func.count()).select_from(Depot)) == 6
        assert any("新建 6 个" in m for m in messages) and any("新建 0 个" in m for m in messages)
        before = {row["item"]: row["on_hand"] for row in service.stock_levels(None, "SX-140105")}
    # deterministic: a second database gets the very same stock
    from tests.factories import seed_geography
    from app import create_app

    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'second.sqlite'}"})
    with other.app_context():
        db.create_all()
        seed_geography()
        demo.load_depots(lambda _: None)
        assert {row["item"]: row["on_hand"] for row in service.stock_levels(None, "SX-140105")} == before
        db.session.remove()
        db.engine.dispose()


@pytest.mark.browser
def test_browser_manager_approves_a_dispatch(app, auth, keeper, browser_page):
    from app.depots import service

    with app.app_context():
        made = service.create_dispatch(None, {"from_depot": "PG", "to_region_code": "140105",
                                              "lines": [{"item": "tent", "quantity": 4}]})
        dispatch_id = made.id
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, keeper, PASSWORD)
    page.goto(page.base_url + "/depots/PG")
    page.click(f"form[action='/depots/dispatches/{dispatch_id}/approve'] button")
    page.wait_for_load_state("networkidle")
    assert "已审批，库存已扣减" in page.content()
    assert page.inner_text("#stock tr[data-item='tent'] .available").strip() == "26"


@pytest.mark.parametrize("posted, body", [
    ({"r-item": "ghost", "r-quantity": "abc", "r-expiry": "soon"}, {"item": "ghost", "quantity": "abc", "expiry": "soon"}),
    ({"r-item": "tent", "r-quantity": "0", "r-lot": "L" * 61}, {"item": "tent", "quantity": 0, "lot": "L" * 61}),
    ({"r-item": "tent"}, {"item": "tent"}),
])
def test_a_receipt_page_refuses_what_the_api_refuses(app, client, auth, keeper, posted, body):
    """The page's form and the API's body go through the same fields: the same refusal, each
    field named (on the page by its label), and nothing received."""
    api = client.post(f"{API}/depots/PG/receipts", json=body, headers=auth.token("admin", "000000"))
    assert api.status_code == 422
    errors = api.get_json()["errors"]
    auth.login("depot_manager", "140105", username=keeper)
    page = _html(client.post("/depots/PG/receipts", data=posted, follow_redirects=True))
    labels = {"item": "物资", "quantity": "数量", "expiry": "有效期至", "lot": "批次号"}
    for error in errors:
        assert f"{labels[error['field']]}：{error['message']}" in page
    assert stock_of(client, auth.token("admin", "000000"), "PG")["tent"]["on_hand"] == 30


def test_a_blank_reserve_floor_is_refused_never_zero(app, client, auth, keeper):
    auth.login("coordinator", "140000")
    page = _html(client.post("/depots/PG/reserves", data={"f-item": "tent", "f-floor": ""}, follow_redirects=True))
    assert "保底储备数量：必填" in page
    assert stock_of(client, auth.token("admin", "000000"), "PG")["tent"]["floor"] == 0
    done = _html(client.post("/depots/PG/reserves", data={"f-item": "tent", "f-floor": "12", "f-released": "y"},
                             follow_redirects=True))
    assert "已设置保底储备" in done
    tent = stock_of(client, auth.token("admin", "000000"), "PG")["tent"]
    assert tent["floor"] == 12 and tent["released"] is True
