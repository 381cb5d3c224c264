"""Households (受灾户): validation, uniqueness, jurisdiction, masking per role on every page and
export, and the all-or-nothing import of the damaged-house ledger."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app import idcard
from tests.test_cycles_support import VILLAGE, id_number, make_household

LEDGER = Path(__file__).parent / "data" / "cycles_ledger.xlsx"


def _count(app):
    from app.cycles.models import Household
    from app.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count(Household.id)))


def test_create_and_read_household(client, auth):
    headers = auth.token("officer", "140105001")
    number = id_number()
    response = client.post("/api/v1/households", headers=headers, json={
        "village_code": VILLAGE, "head_name": "王建国", "id_number": number, "members": 4,
        "damage_class": "collapsed", "no_housing": True, "bank_account": "6217 0000 1111 2222"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["id_number"] == idcard.mask_id(number) and body["id_number_masked"] is True  # an officer
    assert body["bank_account"] == "************2222" and body["no_housing"] is True
    admin = auth.token("admin", "000000")
    full = client.get(f"/api/v1/households/{body['id']}", headers=admin).get_json()
    assert full["id_number"] == number and full["bank_account"] == "6217000011112222"


def test_every_bad_field_is_named(app, client, auth):
    headers = auth.token("coordinator", "140105")
    response = client.post("/api/v1/households", headers=headers, json={
        "village_code": "140105001", "head_name": "", "id_number": "140105199001010011", "members": 0,
        "damage_class": "flattened", "no_housing": "yes"})
    assert response.status_code == 422
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert fields == {"village_code", "head_name", "id_number", "members", "damage_class", "no_housing"}
    assert _count(app) == 0


def test_id_number_check_digit_and_uniqueness(app, client, auth):
    headers = auth.token("coordinator", "140105")
    number = id_number()
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    response = client.post("/api/v1/households", headers=headers, json={
        "village_code": VILLAGE, "head_name": "李", "id_number": bad, "members": 2})
    assert response.status_code == 422
    assert response.get_json()["errors"] == [{"field": "id_number", "message": f"校验码错误：最后一位应为 {number[17]}"}]
    english = client.post("/api/v1/households?lang=en", headers=headers, json={  # in the reader's language
        "village_code": VILLAGE, "head_name": "李", "id_number": bad, "members": 2})
    assert english.get_json()["errors"] == [
        {"field": "id_number", "message": f"wrong check character: the last character should be {number[17]}"}]
    first = client.post("/api/v1/households", headers=headers, json={
        "village_code": VILLAGE, "head_name": "李", "id_number": number.lower(), "members": 2})
    assert first.status_code == 201
    again = client.post("/api/v1/households", headers=headers, json={
        "village_code": "140105001201", "head_name": "另一人", "id_number": number, "members": 1})
    assert again.status_code == 409 and again.get_json()["errors"][0]["field"] == "id_number"
    assert _count(app) == 1


@pytest.mark.parametrize("role, region, status", [
    ("officer", "140106", 403),       # outside the jurisdiction
    ("coordinator", "140212", 403),
    ("auditor", "140105", 403),       # read-only
    ("depot_manager", "140105", 403),
    ("officer", "140105001", 201),
    ("admin", "000000", 201),
])
def test_who_may_register(client, auth, app, role, region, status):
    response = client.post("/api/v1/households", headers=auth.token(role, region), json={
        "village_code": VILLAGE, "head_name": "张", "id_number": id_number(), "members": 1})
    assert response.status_code == status, response.get_json()


def test_unauthenticated_and_unknown(client, auth):
    assert client.get("/api/v1/households").status_code == 401
    assert client.get("/api/v1/households/999", headers=auth.token()).status_code == 404


def test_patch_changes_only_given_fields(app, client, auth):
    household = make_household(app, head_name="赵", members=3)
    other = make_household(app, head_name="钱")
    headers = auth.token("coordinator", "140105")
    response = client.patch(f"/api/v1/households/{household}", headers=headers,
                            json={"members": 5, "damage_class": "collapsed", "no_housing": True})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["members"], body["damage_class"], body["no_housing"], body["head_name"]) == (5, "collapsed", True, "赵")
    with app.app_context():
        from app.cycles.models import Household
        from app.extensions import db

        taken = db.session.get(Household, other).id_number
    dup = client.patch(f"/api/v1/households/{household}", headers=headers, json={"id_number": taken})
    assert dup.status_code == 409
    unknown = client.patch(f"/api/v1/households/{household}", headers=headers, json={"colour": "red"})
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "colour"
    outside = client.patch(f"/api/v1/households/{household}", headers=auth.token("officer", "140106"),
                           json={"members": 1})
    assert outside.status_code == 403


def test_list_stays_inside_the_jurisdiction(app, client, auth):
    make_household(app, head_name="甲")
    make_household(app, head_name="乙", village_code="140105001201")
    body = client.get("/api/v1/households", headers=auth.token("officer", "140105001201")).get_json()
    assert [h["head_name"] for h in body["items"]] == ["乙"] and body["total"] == 1
    assert client.get("/api/v1/households?region_code=140106", headers=auth.token("officer", "140105")).status_code == 403
    assert client.get("/api/v1/households?q=甲", headers=auth.token("coordinator", "140105")).get_json()["total"] == 1


# --- masking on every page and export, per role --------------------------------------------------------

@pytest.mark.parametrize("role, region, sees_full", [
    ("admin", "000000", True),
    ("coordinator", "140105", True),
    ("coordinator", "140000", True),
    ("officer", "140105", False),
    ("auditor", "140105", False),
    ("depot_manager", "140105", False),
])
def test_masking_per_role(app, client, auth, role, region, sees_full):
    number = id_number()
    make_household(app, head_name="孙", id_number=number)
    masked = idcard.mask_id(number)
    headers = auth.token(role, region)
    listed = client.get("/api/v1/households", headers=headers).get_json()["items"][0]["id_number"]
    export = client.get("/api/v1/households/export.xlsx", headers=headers)
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.data)).active
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    auth.login(role, region)
    page = client.get("/cycles/households").get_data(as_text=True)
    page_export = client.get("/cycles/households.xlsx")
    page_cells = [c for row in load_workbook(io.BytesIO(page_export.data)).active.iter_rows(values_only=True)
                  for c in row if isinstance(c, str)]
    expected = number if sees_full else masked
    assert listed == expected
    assert expected in cells and expected in page and expected in page_cells
    if not sees_full:
        assert number not in cells and number not in page and number not in page_cells


# --- the ledger import --------------------------------------------------------------------------------

def _upload(client, headers, content: bytes, mode="create"):
    return client.post("/api/v1/households/import", headers=headers,
                       data={"file": (io.BytesIO(content), "ledger.xlsx"), "mode": mode},
                       content_type="multipart/form-data")


def test_import_the_ledger(app, client, auth):
    headers = auth.token("coordinator", "140105")
    response = _upload(client, headers, LEDGER.read_bytes())
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"created": 4, "updated": 0, "rows": 4}
    rows = {h["head_name"]: h for h in client.get("/api/v1/households", headers=headers).get_json()["items"]}
    assert rows["张大山"]["village_code"] == "140105001200" and rows["张大山"]["damage_class"] == "collapsed"
    assert rows["李桂兰"]["dibao"] is True and rows["王有福"]["tekun"] is True and rows["王有福"]["no_self_rescue"]
    assert rows["赵小红"]["no_housing"] and rows["赵小红"]["no_livelihood"] and rows["赵小红"]["village_code"] == "140105001201"
    assert rows["王有福"]["id_number"] == "14010519551102003X"
    again = _upload(client, headers, LEDGER.read_bytes())
    assert again.status_code == 422 and len(again.get_json()["errors"]) == 4
    assert again.get_json()["errors"][0]["field"] == "第 4 行 身份证号码"
    assert _upload(client, headers, LEDGER.read_bytes(), mode="upsert").get_json() == {"created": 0, "updated": 4, "rows": 4}
    assert _count(app) == 4


def _broken_ledger() -> bytes:
    book = load_workbook(LEDGER)
    sheet = book.active
    sheet["E4"] = "140105196203150014"  # wrong check digit
    sheet["C5"] = "不存在村"               # unknown village
    sheet["F6"] = "两"                     # members not a number
    sheet["H7"] = "塌了"                   # unknown damage class
    sheet["I7"] = "也许"                   # not yes/no
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_bad_rows_are_all_named_and_nothing_is_imported(app, client, auth):
    response = _upload(client, auth.token("coordinator", "140105"), _broken_ledger())
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert [e["field"] for e in errors] == ["第 4 行 身份证号码", "第 5 行 村代码", "第 6 行 家庭人口",
                                            "第 7 行 倒损类型", "第 7 行 无房可住"]
    assert "校验码错误" in errors[0]["message"] and "找不到该村" in errors[1]["message"]
    assert _count(app) == 0


def test_import_outside_the_jurisdiction_is_refused_row_by_row(app, client, auth):
    response = _upload(client, auth.token("officer", "140105001201"), LEDGER.read_bytes())
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == {"第 4 行 村代码", "第 5 行 村代码"}
    assert _count(app) == 0


def test_import_of_a_file_that_is_not_a_ledger(client, auth):
    headers = auth.token("coordinator", "140105")
    not_excel = _upload(client, headers, b"not a spreadsheet")
    assert not_excel.status_code == 422 and not_excel.get_json()["errors"][0]["field"] == "file"
    missing = client.post("/api/v1/households/import", headers=headers, data={}, content_type="multipart/form-data")
    assert missing.status_code == 422


def test_import_page_lists_errors(app, client, auth):
    auth.login("coordinator", "140105")
    page = client.post("/cycles/households/import", data={"file": (io.BytesIO(_broken_ledger()), "ledger.xlsx"),
                                                           "mode": "create"}, content_type="multipart/form-data")
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "第 6 行 家庭人口" in html and "未导入任何数据" in html
    good = client.post("/cycles/households/import", data={"file": (io.BytesIO(LEDGER.read_bytes()), "ledger.xlsx"),
                                                           "mode": "create"}, content_type="multipart/form-data")
    assert good.status_code == 302 and _count(app) == 4


def test_register_on_the_page(app, client, auth):
    auth.login("officer", "140105001")
    number = id_number()
    response = client.post("/cycles/households", data={
        "village_code": VILLAGE, "head_name": "周", "id_number": number, "members": "3",
        "damage_class": "collapsed", "no_housing": "y"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "已登记受灾户 周" in html and idcard.mask_id(number) in html and number not in html
    bad = client.post("/cycles/households", data={"village_code": VILLAGE, "head_name": "吴",
                                                  "id_number": number, "members": "2", "damage_class": "none"})
    assert "身份证号码已登记" in bad.get_data(as_text=True)
    assert _count(app) == 1

