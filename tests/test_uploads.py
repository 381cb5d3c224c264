"""Uploads: request size limits per route family (413 in the user's language, never a 500), and
uploaded workbooks read within caps (not an .xlsx, zip bombs, entity bombs, a cell at XFD1, too
many rows or columns: a 422 naming the field)."""
from __future__ import annotations

import inspect
import io
import re
import tracemalloc
import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from app import spreadsheets
from app.cycles import excel as ledger
from app.errors import Invalid
from app.uploads import FORM_OVERHEAD, TooLarge
from tests.test_reports_photos import png

SH = ZoneInfo("Asia/Shanghai")
XLSX = spreadsheets.XLSX_MIMETYPE
HOUSEHOLDS = "/api/v1/households/import"


def workbook(rows=(("户主姓名", "身份证号码", "家庭人口", "村代码"),), *, far_cell: str | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    if far_cell:
        sheet[far_cell] = "远"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rewrite(data: bytes, member: str, change) -> bytes:
    """The same zip with ``member``'s bytes replaced by ``change(old bytes)``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            target.writestr(info.filename, change(content) if info.filename == member else content)
    return out.getvalue()


def without_dimension(data: bytes) -> bytes:
    return rewrite(data, "xl/worksheets/sheet1.xml", lambda xml: re.sub(rb"<dimension [^>]*/>", b"", xml))


def send(client, headers, content: bytes, url=HOUSEHOLDS, name="台账.xlsx"):
    return client.post(url, headers=headers, data={"file": (io.BytesIO(content), name, XLSX)},
                       content_type="multipart/form-data")


def file_error(response, status=422) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert [e["field"] for e in body["errors"]] == ["file"], body
    return body["detail"] + " " + body["errors"][0]["message"]


@pytest.fixture
def headers(auth):
    return auth.token("coordinator", "140105")


# --- what is not a readable .xlsx -----------------------------------------------------------------

def _ole() -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600


def _other_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    return out.getvalue()


@pytest.mark.parametrize("content, message", [
    (b"code,name\n140105,x\n", "不是有效的 Excel (.xlsx) 文件"),
    (_ole(), "旧版 .xls"),
    (_other_zip(), "不是有效的 Excel (.xlsx) 文件"),
    (workbook()[:300], "不是有效的 Excel (.xlsx) 文件"),
    (rewrite(workbook(), "xl/worksheets/sheet1.xml", lambda xml: xml[: len(xml) // 2]), "已损坏"),
    (rewrite(workbook(), "xl/workbook.xml", lambda xml: b"<not-xml"), "已损坏"),
    (b"", "文件为空"),
])
def test_not_an_xlsx_is_a_clear_422_on_every_import(app, client, auth, headers, content, message):
    text = file_error(send(client, headers, content))
    assert message in text and "zip" not in text.lower()
    reports = client.post("/api/v1/events", headers=auth.token("coordinator", "140000"), json={
        "name": "x", "hazard": "flood", "started_at": "2026-07-06T06:00:00+08:00", "region_codes": ["140105"]})
    eid = reports.get_json()["id"]
    text = file_error(send(client, auth.token("coordinator", "140000"), content,
                           url=f"/api/v1/events/{eid}/reports/import"))
    assert message in text and "zip" not in text.lower()


def test_pages_show_the_reason(app, client, auth):
    auth.login("coordinator", "140105")
    page = client.post("/cycles/households/import", data={"file": (io.BytesIO(_ole()), "a.xlsx"), "mode": "create"},
                       content_type="multipart/form-data")
    assert page.status_code == 422 and "旧版 .xls" in page.get_data(as_text=True)
    with time_machine.travel(datetime(2026, 7, 6, 12, 0, tzinfo=SH), tick=False):
        eid = client.post("/api/v1/events", headers=auth.token("coordinator", "140000"), json={
            "name": "x", "hazard": "flood", "started_at": "2026-07-06T06:00:00+08:00",
            "region_codes": ["140105"]}).get_json()["id"]
        auth.login("coordinator", "140000")
        page = client.post(f"/events/{eid}/import", data={"file": (io.BytesIO(b"plain text"), "a.xlsx")},
                           content_type="multipart/form-data")
    assert page.status_code == 422 and "不是有效的 Excel (.xlsx) 文件" in page.get_data(as_text=True)


# --- zip bombs and XML bombs ----------------------------------------------------------------------

def test_zip_bomb_by_ratio_is_refused_from_the_directory(app, client, headers, monkeypatch):
    bomb = rewrite(workbook(), "xl/worksheets/sheet1.xml",
                   lambda xml: xml.replace(b"</worksheet>", b"<!--" + b" " * (3 * 1024 * 1024) + b"--></worksheet>"))
    assert len(bomb) < 30_000
    opened = []
    monkeypatch.setattr(spreadsheets, "load_workbook", lambda *a, **k: opened.append(1))
    assert "压缩炸弹" in file_error(send(client, headers, bomb))
    assert opened == []  # refused before openpyxl saw it


def test_zip_bomb_by_total_size_is_refused(app, client, headers):
    app.config["SPREADSHEET_MAX_UNZIPPED_BYTES"] = 50_000
    rows = [("户主姓名", "身份证号码", "家庭人口")] + [(f"户主{i}", f"id{i}", i) for i in range(2000)]
    assert "压缩炸弹" in file_error(send(client, headers, workbook(rows)))


def test_entity_expansion_is_refused(app, client, headers):
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
              b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')
    bomb = rewrite(workbook(), "xl/worksheets/sheet1.xml",
                   lambda xml: laughs + re.sub(rb"^<\?xml[^>]*\?>", b"", xml).replace(b"<v>", b"<v>&lol3;", 1))
    assert "已损坏" in file_error(send(client, headers, bomb))


# --- shape: a far cell, too many rows or columns ---------------------------------------------------

def test_a_cell_at_xfd1_with_its_honest_dimension_is_refused_in_little_memory(app):
    rows = [("户主姓名", "身份证号码", "家庭人口", "村代码")] + [(f"户主{i}", "x", 1, "140105001200") for i in range(3000)]
    data = workbook(rows, far_cell="XFD1")
    assert len(data) < 100_000
    with app.app_context():
        tracemalloc.start()
        try:
            records, errors = ledger.read_ledger(io.BytesIO(data))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert records == [] and errors[0]["field"] == "file"
    assert "A1:XFD3001" in errors[0]["message"] and "60 列" in errors[0]["message"]
    assert peak < 50 * 1024 * 1024  # a correctness bound, far above normal: unbounded rows took ~400 MB


def test_a_cell_at_xfd1_without_a_dimension_never_makes_a_wide_row(app):
    rows = [("户主姓名", "身份证号码", "家庭人口", "村代码")] + [(f"户主{i}", "x", 1, "140105001200") for i in range(3000)]
    data = without_dimension(workbook(rows, far_cell="XFD1"))
    with app.app_context():
        tracemalloc.start()
        try:
            with spreadsheets.open_sheet(data) as sheet:
                widths = {len(values) for _, values in sheet.rows()}
            records, errors = ledger.read_ledger(io.BytesIO(data))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert max(widths) <= 60
    assert len(records) == 3000 and not any(e["field"] == "file" for e in errors)
    assert peak < 50 * 1024 * 1024


@pytest.mark.parametrize("shape", ["declared", "undeclared", "understated"])
def test_too_many_rows(app, client, headers, shape):
    app.config["SPREADSHEET_MAX_ROWS"] = 100
    data = workbook([("户主姓名", "身份证号码", "家庭人口", "村代码")] + [(f"户主{i}", "x", 1, "1") for i in range(150)])
    if shape == "undeclared":
        data = without_dimension(data)
    elif shape == "understated":
        data = rewrite(data, "xl/worksheets/sheet1.xml",
                       lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:C2"', xml))
    assert "100 行" in file_error(send(client, headers, data))


def test_too_many_columns(app, client, headers):
    data = workbook([tuple(f"列{i}" for i in range(61))])
    text = file_error(send(client, headers, data))
    assert f"A1:{get_column_letter(61)}1" in text and "60 列" in text
    app.config["SPREADSHEET_MAX_COLUMNS"] = 61
    assert "60 列" not in send(client, headers, data).get_data(as_text=True)


def test_caps_are_configuration(app):
    with app.app_context():
        app.config["SPREADSHEET_MAX_BYTES"] = 10
        with pytest.raises(TooLarge) as raised:
            spreadsheets.open_sheet(workbook(), field="ledger")
        assert raised.value.status == 413 and raised.value.errors[0]["field"] == "ledger"
    with pytest.raises(Invalid):  # outside an application the defaults apply
        spreadsheets.open_sheet(b"x" * 10)


# --- request size limits per route family ------------------------------------------------------------

def test_every_upload_route_has_a_family(app):
    """A view that reads an uploaded file is marked with the limit of its family."""
    marked, unmarked = set(), set()
    for endpoint, view in app.view_functions.items():
        source = inspect.getsource(inspect.unwrap(view))
        if "request.files" in source or "file.data" in source or ".stream" in source:
            (marked if hasattr(view, "upload_limit") else unmarked).add(endpoint)
    assert marked == {"reports_api.upload_photo", "reports_api.import_xlsx", "reports.upload_photo",
                      "reports.import_excel", "cycles_api.import_households", "cycles.import_households",
                      "cycles_api.import_bank_return", "cycles.bank_return", "complaints.public_form",
                      "departments.appraisal", "forecast_api.upload_footprint", "forecast.upload",
                      "rosters.import_roster", "cycles_api.record_check", "cycles.checks"}
    assert unmarked == {"responses.plans"}  # a plan is a small YAML file: the ordinary limit


def test_ordinary_requests_have_the_default_limit(app, client, auth):
    app.config["MAX_CONTENT_LENGTH"] = 2_000
    headers = auth.token("coordinator", "140000")
    response = client.post("/api/v1/events", headers=headers, json={"name": "x" * 3_000})
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 413 and body["title"] == "上传的内容过大" and "2.0 KB" in body["detail"]
    assert body["errors"] == []
    page = client.post("/login?lang=en", data={"username": "x" * 3_000, "password": "y"})
    assert page.status_code == 413
    html = page.get_data(as_text=True)
    assert "Upload too large" in html and "larger than the 2.0 KB limit" in html


def test_photos_have_their_own_limit(app, client, auth):
    app.config["MAX_CONTENT_LENGTH"] = 1_000  # smaller than a photo: the family's limit applies
    with time_machine.travel(datetime(2026, 7, 6, 12, 0, tzinfo=SH), tick=False):
        headers = auth.token("officer", "140105")
        eid = client.post("/api/v1/events", headers=headers, json={
            "name": "x", "hazard": "flood", "started_at": "2026-07-06T06:00:00", "region_codes": ["140105"]}).get_json()["id"]
        rid = client.post(f"/api/v1/events/{eid}/reports", headers=headers, json={
            "region_code": "140105", "kind": "initial", "as_of": "2026-07-06T08:00:00",
            "figures": {"affected_population": 5}}).get_json()["id"]
    url = f"/api/v1/events/{eid}/reports/{rid}/photos"
    headers = auth.token("officer", "140105", username="photographer")  # a token of today
    photo = png(1) + b"\0" * 5_000  # a PNG with trailing bytes, larger than MAX_CONTENT_LENGTH
    ok = client.post(url, headers=headers, data={"file": (io.BytesIO(photo), "a.png", "image/png")},
                     content_type="multipart/form-data")
    assert ok.status_code == 201, ok.get_json()
    app.config["REPORT_PHOTO_MAX_BYTES"] = 4_000
    big = client.post(url, headers=headers, data={"file": (io.BytesIO(b"\0" * (4_000 + FORM_OVERHEAD)), "b.png",
                                                           "image/png")}, content_type="multipart/form-data")
    assert big.status_code == 413
    assert big.get_json()["errors"] == [{"field": "file", "message": big.get_json()["detail"]}]
    assert "3.9 KB" in big.get_json()["detail"]
    auth.login("officer", "140105")
    page = client.post(f"/events/{eid}/reports/{rid}/photos?lang=en",
                       data={"file": (io.BytesIO(b"\0" * (4_000 + FORM_OVERHEAD)), "b.png", "image/png")},
                       content_type="multipart/form-data")
    assert page.status_code == 413 and "Upload too large" in page.get_data(as_text=True)


def test_spreadsheets_have_their_own_limit_even_behind_the_csrf_check(app, client, auth, headers):
    app.config["MAX_CONTENT_LENGTH"] = 1_000
    data = workbook()
    assert len(data) > 1_000
    assert send(client, headers, data).status_code == 422  # read (no rows), not refused for its size
    app.config["SPREADSHEET_MAX_BYTES"] = 2_000
    too_big = send(client, headers, data + b"\0" * (2_000 + FORM_OVERHEAD))
    assert too_big.status_code == 413 and too_big.get_json()["errors"][0]["field"] == "file"
    between = send(client, headers, data + b"\0" * (2_100 - len(data)))  # over the file cap, within the request's
    assert "2.0 KB" in file_error(between, 413)

    # Flask-WTF reads the form in a before_request hook, before the view: the family's limit
    # must already hold there, or a page upload would meet the ordinary limit.
    app.config["WTF_CSRF_ENABLED"] = True
    auth.login("coordinator", "140105")
    page = client.post("/cycles/households/import", data={"file": (io.BytesIO(data), "a.xlsx"), "mode": "create"},
                       content_type="multipart/form-data")
    assert page.status_code == 400 and "CSRF" in page.get_data(as_text=True)  # not 413
    page = client.post("/cycles/households/import",
                       data={"file": (io.BytesIO(b"\0" * (3_000 + FORM_OVERHEAD)), "a.xlsx"), "mode": "create"},
                       content_type="multipart/form-data")
    assert page.status_code == 413


def test_form_memory_and_parts(app, client, auth):
    app.config["MAX_FORM_PARTS"] = 20
    app.config["MAX_FORM_MEMORY_SIZE"] = 1_000
    auth.login("coordinator", "140105")
    many = client.post("/cycles/households/import", data={f"f{i}": "x" for i in range(30)},
                       content_type="multipart/form-data")
    assert many.status_code == 413
    long = client.post("/cycles/households/import", data={"mode": "x" * 2_000}, content_type="multipart/form-data")
    assert long.status_code == 413
    assert client.get("/cycles/households").status_code == 200  # the session is unharmed
