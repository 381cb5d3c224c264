"""Excel in and out in the 自然灾害损失情况统计快报表 layout: export, round trip, per-row errors,
all or nothing."""
from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.reports.excel import HEADERS, TITLE
from app.reports.models import LossReport

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def clock(app):
    with time_machine.travel(datetime(2026, 7, 6, 12, 0, tzinfo=SH), tick=False) as traveller:
        yield traveller


@pytest.fixture
def event(client, auth, clock):
    headers = auth.token("coordinator", "140000", username="co")
    response = client.post("/api/v1/events", headers=headers, json={
        "name": "太原暴雨", "hazard": "flood", "started_at": "2026-07-06T06:00:00+08:00", "region_codes": ["140100"]})
    eid = response.get_json()["id"]
    for code, kind, as_of, figures in (
        ("140105001200", "initial", "2026-07-06T08:00:00", {"affected_population": 100, "deaths": 1,
                                                            "collapsed_rooms": 4, "collapsed_households": 2,
                                                            "direct_loss_10k_cny": 12.5}),
        ("140106", "initial", "2026-07-06T08:30:00", {"affected_population": 50}),
        ("140105001200", "update", "2026-07-06T10:00:00", {"affected_population": 120, "deaths": 2,
                                                           "collapsed_rooms": 4, "collapsed_households": 2,
                                                           "direct_loss_10k_cny": 13}),
    ):
        r = client.post(f"/api/v1/events/{eid}/reports", headers=headers,
                        json={"region_code": code, "kind": kind, "as_of": as_of, "figures": figures})
        assert r.status_code == 201, r.get_json()
    return {"id": eid, "headers": headers}


def export(client, event, query=""):
    response = client.get(f"/api/v1/events/{event['id']}/reports.xlsx{query}", headers=event["headers"])
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(io.BytesIO(response.data))


def count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(LossReport))


def test_export_layout(client, event):
    sheet = export(client, event).active
    assert sheet.title == "快报表" and sheet["A1"].value == TITLE
    assert "太原暴雨" in sheet["A2"].value and "洪涝" in sheet["A2"].value
    header = [c.value for c in sheet[3]]
    assert header == list(HEADERS)
    assert header[:4] == ["区划代码", "区划名称", "报告类型", "截至时间"]
    assert "受灾人口（人）" in header and "倒塌房屋（间）" in header and "倒塌房屋（户）" in header
    assert "农作物受灾面积（公顷）" in header and "直接经济损失（万元）" in header
    assert "饮水困难大牲畜（头）" in header and header[-3:] == ["说明", "报送人", "报送时间"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    assert [(r[0], r[1], r[2]) for r in rows] == [("140105001200", "示例一村", "初报"),
                                                  ("140105001200", "示例一村", "续报"),
                                                  ("140106", "迎泽区", "初报")]
    first = dict(zip(header, rows[0]))
    assert first["截至时间"] == datetime(2026, 7, 6, 8, 0)  # Beijing time
    assert first["受灾人口（人）"] == 100 and first["因灾死亡人口（人）"] == 1
    assert first["直接经济损失（万元）"] == 12.5 and first["报送人"] == "co"


def test_export_latest_and_within(client, event):
    rows = list(export(client, event, "?latest=1").active.iter_rows(min_row=4, values_only=True))
    assert [(r[0], r[2]) for r in rows] == [("140105001200", "续报"), ("140106", "初报")]
    rows = list(export(client, event, "?within=140106").active.iter_rows(min_row=4, values_only=True))
    assert [r[0] for r in rows] == ["140106"]


def _upload(client, event, book, headers=None):
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return client.post(f"/api/v1/events/{event['id']}/reports/import", headers=headers or event["headers"],
                       data={"file": (buffer, "kuaibao.xlsx")}, content_type="multipart/form-data")


def test_round_trip_bulk_update(app, client, event):
    book = export(client, event, "?latest=1")
    sheet = book.active
    header = [c.value for c in sheet[3]]
    col = {h: i + 1 for i, h in enumerate(header)}
    for row in (4, 5):
        sheet.cell(row, col["报告类型"], "续报")
        sheet.cell(row, col["截至时间"], datetime(2026, 7, 6, 11, 0))
        sheet.cell(row, col["说明"], None)
    sheet.cell(4, col["受灾人口（人）"], 150)
    sheet.cell(5, col["受灾人口（人）"], 60)
    response = _upload(client, event, book)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["imported"] == 2
    history = client.get(f"/api/v1/events/{event['id']}/reports?region_code=140106",
                         headers=event["headers"]).get_json()["items"]
    assert [(r["kind"], r["sequence"], r["figures"]["affected_population"]) for r in history] == [
        ("initial", 1, 50), ("update", 2, 60)]
    assert history[1]["as_of"] == "2026-07-06T03:00:00+00:00"
    total = client.get(f"/api/v1/events/{event['id']}/totals?region_code=140100", headers=event["headers"])
    assert total.get_json()["figures"]["affected_population"] == 210


def _blank_book(rows):
    book = Workbook()
    sheet = book.active
    sheet.append([TITLE])
    sheet.append(["说明行"])
    sheet.append(["区划代码", "报告类型", "截至时间", "受灾人口（人）", "因灾死亡人口（人）", "因灾失踪人口（人）", "说明"])
    for row in rows:
        sheet.append(row)
    return book


def test_errors_per_row_and_nothing_imported(app, client, event):
    before = count(app)
    book = _blank_book([
        ["140105001201", "初报", "2026-07-06 11:00", 10, 0, 0, None],           # row 4: fine
        ["140106", "续报", "2026-07-06 11:00", 5, 6, 0, None],                  # row 5: deaths > affected
        ["140212", "初报", "2026-07-06 11:00", 1, 0, 0, None],                  # row 6: outside the event
        ["140106", "初报", "2026-07-06 11:00", 50, 0, 0, None],                 # row 7: already has an initial
        ["140106", "续报", "2026-07-06 11:30", 1000, 0, 0, None],               # row 8: jump without a note
        ["140106", "续报", "2026-07-06 13:00", "很多", 0, 0, None],              # row 9: future, not a number
        ["140105", "核报", None, 1, 0, 0, None],                                # row 10: no as_of, first not initial
    ])
    response = _upload(client, event, book)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    rows = {e["row"] for e in errors}
    assert rows == {5, 6, 7, 8, 9, 10}
    fields = {e["field"] for e in errors}
    assert "rows[5].figures.deaths" in fields and "rows[6].region_code" in fields
    assert "rows[7].kind" in fields and "rows[8].note" in fields and "rows[8].figures.affected_population" in fields
    assert {"rows[9].as_of", "rows[9].figures.affected_population", "rows[10].as_of"} <= fields
    assert all(e["message"].startswith(f"第 {e['row']} 行") for e in errors)
    assert count(app) == before  # row 4 was fine, yet nothing was imported


def test_rows_build_on_each_other(app, client, event):
    book = _blank_book([
        ["140105001201", "初报", "2026-07-06 09:00", 10, 0, 0, None],
        ["140105001201", "续报", "2026-07-06 10:00", 20, 0, 1, None],
        ["140105001201", "核报", "2026-07-06 11:00", 21, 0, 1, None],
    ])
    response = _upload(client, event, book)
    assert response.status_code == 201 and response.get_json()["imported"] == 3
    history = client.get(f"/api/v1/events/{event['id']}/reports?region_code=140105001201",
                         headers=event["headers"]).get_json()["items"]
    assert [(r["kind"], r["sequence"]) for r in history] == [("initial", 1), ("update", 2), ("final", 3)]
    again = _upload(client, event, _blank_book([["140105001201", "续报", "2026-07-06 11:30", 21, 0, 1, None]]))
    assert again.status_code == 422 and again.get_json()["errors"][0]["field"] == "rows[4].kind"


def test_import_outside_jurisdiction_is_403(app, client, auth, event):
    officer = auth.token("officer", "140106")
    before = count(app)
    book = _blank_book([["140106", "续报", "2026-07-06 11:00", 60, 0, 0, None],
                        ["140105001201", "初报", "2026-07-06 11:00", 1, 0, 0, None]])
    response = _upload(client, event, book, headers=officer)
    assert response.status_code == 403
    assert [e["row"] for e in response.get_json()["errors"]] == [5]
    assert count(app) == before
    auditor = auth.token("auditor", "140000")
    assert _upload(client, event, book, headers=auditor).status_code == 403


def test_bad_files(client, event):
    url = f"/api/v1/events/{event['id']}/reports/import"
    response = client.post(url, headers=event["headers"], data={"file": (io.BytesIO(b"not excel"), "x.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "file"
    assert client.post(url, headers=event["headers"], data={}, content_type="multipart/form-data").status_code == 422
    book = Workbook()
    book.active.append(["名称", "数"])
    no_header = _upload(client, event, book)
    assert no_header.status_code == 422 and "表头" in no_header.get_json()["detail"]
    empty = _upload(client, event, _blank_book([]))
    assert empty.status_code == 422


def test_import_page_shows_row_errors(app, client, auth, event):
    auth.login("coordinator", "140000")
    book = _blank_book([["140106", "续报", "2026-07-06 11:00", 5, 6, 0, None]])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    response = client.post(f"/events/{event['id']}/import", data={"file": (buffer, "k.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "未导入任何数据" in page and "rows[4].figures.deaths" in page
    buffer = io.BytesIO()
    _blank_book([["140106", "续报", "2026-07-06 11:00", 55, 0, 0, None]]).save(buffer)
    buffer.seek(0)
    ok = client.post(f"/events/{event['id']}/import", data={"file": (buffer, "k.xlsx")},
                     content_type="multipart/form-data")
    assert ok.status_code == 302
    assert count(app) == 4
