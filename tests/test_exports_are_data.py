"""Every workbook the system writes holds data, never a formula (OWASP "CSV injection"): hostile
names and notes go in through the ordinary services, come out of the real download routes, and
openpyxl finds no formula cell and the text intact behind its guarding apostrophe."""
from __future__ import annotations

import io
import re
import zipfile

import pytest
import time_machine
from openpyxl import load_workbook

from app import spreadsheets
from app.extensions import db
from app.regions.models import Region
from tests.test_cycles_support import approve_cycle, at, make_event, make_fund, make_household, post, run_due, walk_to_notice
from tests.test_depots_api import API, catalogue, new_dispatch

HOSTILE = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "+1", "-1+2", "@SUM(1)", "\t=1"]


def cells_of(data: bytes) -> list:
    """Every value in every sheet, after checking that no cell is a formula (neither as
    openpyxl reads it nor as an ``<f>`` element in the sheet XML)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                xml = archive.read(name)
                assert b"<f>" not in xml and b"<f " not in xml, name
    book = load_workbook(io.BytesIO(data))
    values = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                values.append(cell.value)
    return values


def assert_escaped(values: list, hostile=HOSTILE) -> None:
    texts = [v for v in values if isinstance(v, str)]
    for text in hostile:
        assert "'" + text in texts, (text, texts)
        assert text not in texts  # never unguarded
    for text in texts:
        assert not text.startswith(spreadsheets.FORMULA_TRIGGERS), text


# --- the helper -----------------------------------------------------------------------------------

def test_put_escapes_text_and_leaves_numbers_alone():
    book = spreadsheets.new_workbook("t")
    sheet = book.active
    for column, value in enumerate([*HOSTILE, -5, -1.5, 0, "普通文本", "a=b", "#N/A", "坏\x01字符", None], start=1):
        spreadsheets.put(sheet, 1, column, value)
    sheet["Z1"] = "=1+1"  # written past put(): the sweep in workbook_bytes still catches it
    row = [c for c in cells_of(spreadsheets.workbook_bytes(book)) if c is not None]
    assert row[:6] == ["'" + h for h in HOSTILE]
    assert row[6:9] == [-5, -1.5, 0] and all(isinstance(v, (int, float)) for v in row[6:9])
    assert row[9:] == ["普通文本", "a=b", "#N/A", "坏字符", "'=1+1"]
    assert [spreadsheets.unescape(v) for v in row[:6]] == HOSTILE
    assert spreadsheets.unescape("'普通") == "'普通"  # an apostrophe that guards nothing stays


# --- every export, through its route ----------------------------------------------------------------

@pytest.mark.parametrize("via", ["api", "page"])
def test_households_export(app, client, auth, via):
    for index, text in enumerate(HOSTILE):
        make_household(app, head_name=text, note=text, address=text, contact=text, bank_name=text,
                       bank_account=f"62170000111122{index:02d}")
    if via == "api":
        response = client.get("/api/v1/households/export.xlsx?region_code=140105",
                              headers=auth.token("coordinator", "140105"))
    else:
        auth.login("coordinator", "140105")
        response = client.get("/cycles/households.xlsx")
    assert response.status_code == 200
    values = cells_of(response.data)
    assert_escaped(values)
    assert sum(1 for v in values if v == "'=HYPERLINK(\"http://x\",\"y\")") == 5  # five columns of one row
    assert 3 in values  # 家庭人口 stays a number


def test_reports_export(app, client, auth):
    with app.app_context():
        db.session.get(Region, "140106").name = HOSTILE[0]
        db.session.commit()
    headers = auth.token("coordinator", "140000")
    event = client.post("/api/v1/events", headers=headers, json={
        "name": HOSTILE[1], "hazard": "flood", "started_at": "2026-07-06T06:00:00+08:00",
        "region_codes": ["140100"]}).get_json()["id"]
    for hour, (code, note) in enumerate([("140105", HOSTILE[2]), ("140106", HOSTILE[3]),
                                         ("140105001", HOSTILE[4]), ("140105001200", HOSTILE[5])]):
        response = client.post(f"/api/v1/events/{event}/reports", headers=headers, json={
            "region_code": code, "kind": "initial", "as_of": f"2026-07-06T{8 + hour:02d}:00:00",
            "figures": {"affected_population": 10 + hour}, "note": note})
        assert response.status_code == 201, response.get_json()
    exported = client.get(f"/api/v1/events/{event}/reports.xlsx", headers=headers)
    assert exported.status_code == 200
    values = cells_of(exported.data)
    notes = {spreadsheets.unescape(v) for v in values if isinstance(v, str)}
    assert "'" + HOSTILE[0] in values  # the region's name
    assert {HOSTILE[2], HOSTILE[3], HOSTILE[4]} <= notes
    assert "'=1" in values or "'\t=1" in values  # a note may be trimmed, never left live
    assert {10, 11, 12, 13} <= {v for v in values if isinstance(v, int)}


def test_dispatch_note_and_stock_report(app, client, auth):
    from app.depots import service

    catalogue(app)
    keeper = auth.user("depot_manager", "140105", username="keeper")
    with app.app_context():
        service.create_depot(None, {"code": "HX", "name": HOSTILE[0], "tier": "county", "region_code": "140105",
                                    "lon": 112.56, "lat": 37.74, "managers": [keeper]})
        service.receive_stock(None, "HX", "tent", 30, HOSTILE[1], HOSTILE[2])
        db.session.commit()
    headers = auth.token("admin", "000000")
    created = new_dispatch(client, headers, "HX", "140105", [{"item": "tent", "quantity": 7}], note=HOSTILE[3])
    for step, body in (("approve", None), ("ship", {"note": HOSTILE[4]}),
                       ("receive", {"lines": [{"item": "tent", "quantity": 5, "note": HOSTILE[5]}]})):
        response = client.post(f"{API}/dispatches/{created['id']}/{step}", headers=headers, json=body or {})
        assert response.status_code == 200, response.get_json()
    auth.login("depot_manager", "140105", username=keeper)
    note = client.get(f"/depots/dispatches/{created['id']}.xlsx")
    assert note.status_code == 200
    values = cells_of(note.data)
    assert "'=1" in values  # the discrepancy note "\t=1", trimmed by the service, still guarded
    # text not at the start of its cell is harmless and kept as written
    assert any(isinstance(v, str) and v.startswith(f"备注：{HOSTILE[3]}") for v in values)
    assert "'" + HOSTILE[2] + "/无有效期×7" in values  # the lot, at the start of its cell
    assert "'" + HOSTILE[0] + "（HX）" in values  # the depot's name
    assert 7 in values and 5 in values
    report = client.get("/depots/HX/stock.xlsx")
    assert report.status_code == 200
    values = cells_of(report.data)
    assert_escaped(values, [HOSTILE[0], HOSTILE[2]])  # the depot's name and the lot
    assert 23 in values  # 30 received − 7 dispatched, a number


def test_bank_roll_and_needs_table(app, client, auth, runner):
    event = make_event(app, stabilised=at("2025-07-31 18:00"))
    make_household(app, head_name=HOSTILE[0], bank_name=HOSTILE[1], members=4, damage_class="collapsed",
                   no_housing=True)
    make_household(app, head_name=HOSTILE[2], bank_name=HOSTILE[3], members=3, no_livelihood=True)
    headers = auth.token("coordinator", "140105")
    line = make_fund(app, "transitional", 50_000)
    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        cycle = post(client, headers, "/cycles", {"kind": "transitional", "region_code": "140105",
                                                  "event_id": event, "starts_on": "2025-08-01",
                                                  "fund_line_id": line}, 201).get_json()["id"]
        walk_to_notice(client, headers, cycle)
    with time_machine.travel(at("2025-08-08 10:00"), tick=False):
        approve_cycle(client, headers, cycle, 200)
        post(client, headers, f"/cycles/{cycle}/transitions", {"action": "disburse"}, 200)
    with time_machine.travel(at("2025-08-09 07:00"), tick=False):
        run_due(runner, at("2025-08-09 07:00"), "cycles.rolls")
    batch = client.get(f"/api/v1/cycles/{cycle}/payment-rolls", headers=headers).get_json()["items"][0]
    roll = client.get(f"/api/v1/payment-rolls/{batch['id']}/export.xlsx", headers=auth.token("finance", "140105"))
    assert roll.status_code == 200
    values = cells_of(roll.data)
    assert_escaped(values, HOSTILE[:4])
    assert 4 * 20 * 31 in values  # amounts stay numbers

    with app.app_context():
        db.session.get(Region, "140105").name = HOSTILE[4]
        db.session.commit()
    needs = client.get("/api/v1/winter-spring/2025/needs.xlsx?region_code=140100",
                       headers=auth.token("coordinator", "140100"))
    assert needs.status_code == 200
    assert_escaped(cells_of(needs.data), [HOSTILE[4]])


def test_an_exported_ledger_imports_back_unchanged(app, client, auth):
    """The apostrophe is the export's: reading the workbook back drops it again."""
    from app.cycles import excel

    make_household(app, head_name="王五", note=HOSTILE[0], contact="+86 138 0000 0000")
    response = client.get("/api/v1/households/export.xlsx?region_code=140105", headers=auth.token("admin", "000000"))
    records, errors = excel.read_ledger(io.BytesIO(response.data))
    assert errors == []
    assert records[0]["note"] == HOSTILE[0] and records[0]["contact"] == "+86 138 0000 0000"


def test_no_workbook_is_made_or_read_past_the_helper():
    """Only ``app/spreadsheets.py`` makes or opens workbooks, so no export can skip the escaping
    and no import the caps."""
    from pathlib import Path

    root = Path(__file__).parent.parent / "app"
    offenders = [str(path.relative_to(root)) for path in root.rglob("*.py")
                 if path.name != "spreadsheets.py"
                 and re.search(r"\b(Workbook|load_workbook)\b", path.read_text(encoding="utf-8"))]
    assert offenders == []
