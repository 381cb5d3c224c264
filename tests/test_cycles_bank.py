"""The money that reaches households: the bank's payment file (finance only, full identity
numbers, audited, watermarked), its return file (回盘) marking payments paid, failed or returned,
the credit back to the fund line, the re-issue in the next batch (never twice for an instalment),
and the reconciliation per batch and per fund line. A property test keeps every fund line's
ledger balanced through any sequence of allocations, batches and returns."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from tests.test_cycles_support import approve_cycle, at, make_event, make_fund, make_household, post, run_due, walk_to_notice

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NAMES = ["赵一", "钱二", "孙三", "李四", "周五"]


@pytest.fixture
def batch(app, client, auth, runner):
    """A transitional cycle of five households disbursing from a 50 000 CNY line, and its first
    batch (2025-08-09)."""
    event = make_event(app, stabilised=at("2025-07-31 18:00"))
    households = [make_household(app, head_name=name, members=3 + i % 2, damage_class="collapsed", no_housing=True,
                                 bank_account=f"62170000111100{i:02d}") for i, name in enumerate(NAMES)]
    headers = auth.token("coordinator", "140105")
    line = make_fund(app, "transitional", 50_000)
    with time_machine.travel(at("2025-08-01 09:00"), tick=False):
        cycle = post(client, headers, "/cycles", {"kind": "transitional", "region_code": "140105", "event_id": event,
                                                  "starts_on": "2025-08-01", "fund_line_id": line}, 201).get_json()["id"]
        walk_to_notice(client, headers, cycle)
    with time_machine.travel(at("2025-08-08 10:00"), tick=False):
        approve_cycle(client, headers, cycle, 200)
        post(client, headers, f"/cycles/{cycle}/transitions", {"action": "disburse"}, 200)
    with time_machine.travel(at("2025-08-09 07:00"), tick=False):
        run_due(runner, at("2025-08-09 07:00"), "cycles.rolls")
    rolls = client.get(f"/api/v1/cycles/{cycle}/payment-rolls", headers=headers).get_json()["items"]
    assert len(rolls) == 1 and rolls[0]["payment_count"] == 5
    return {"cycle": cycle, "roll": rolls[0]["id"], "line": line, "households": households, "headers": headers}


def return_file(rows: list[tuple], *, csv: bool = False) -> tuple[io.BytesIO, str]:
    """A bank return file: rows of (payment id, identity number, amount, result, reason)."""
    header = ["序号", "款项编号", "姓名", "身份证号码", "金额（元）", "结果", "失败原因"]
    lines = [[i, pid, "", number, amount, result, reason] for i, (pid, number, amount, result, reason)
             in enumerate(rows, start=1)]
    if csv:
        text = "\n".join(",".join(str(c) for c in row) for row in [header, *lines])
        return io.BytesIO(("\ufeff" + text).encode("utf-8")), "回盘.csv"
    book = Workbook()
    sheet = book.active
    sheet.append(["某某银行代发回盘"])
    sheet.append(header)
    for line in lines:
        sheet.append([str(c) if isinstance(c, str) else c for c in line])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer, "回盘.xlsx"


def upload(client, headers, roll, rows, *, csv=False):
    stream, name = return_file(rows, csv=csv)
    return client.post(f"/api/v1/payment-rolls/{roll}/bank-return", headers=headers,
                       data={"file": (stream, name)}, content_type="multipart/form-data")


def payments_of(client, headers, roll):
    return client.get(f"/api/v1/payment-rolls/{roll}/reconciliation", headers=headers).get_json()


def full_numbers(app, roll) -> dict[int, tuple[str, float]]:
    from app.cycles.models import Payment
    from app.extensions import db

    with app.app_context():
        return {p.id: (p.id_number, p.amount_fen / 100)
                for p in db.session.scalars(select(Payment).where(Payment.payment_roll_id == roll))}


def test_the_bank_file_is_for_finance_only_full_and_watermarked(app, client, auth, batch):
    from app.models_common import AuditEntry
    from app.extensions import db

    roll = batch["roll"]
    assert client.get(f"/api/v1/payment-rolls/{roll}/export.xlsx", headers=batch["headers"]).status_code == 403
    assert client.get(f"/api/v1/payment-rolls/{roll}/export.xlsx",
                      headers=auth.token("finance", "140106")).status_code == 403
    finance = auth.token("finance", "140105", username="caiwu")
    with time_machine.travel(at("2025-08-09 15:30"), tick=False):
        response = client.get(f"/api/v1/payment-rolls/{roll}/export.xlsx", headers=finance)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert "caiwu" in sheet.cell(row=2, column=1).value and "2025-08-09 15:30" in sheet.cell(row=2, column=1).value
    assert "caiwu" in sheet.oddHeader.center.text
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    numbers = full_numbers(app, roll)
    assert {row[8]: row[2] for row in rows[:-1]} == {pid: n for pid, (n, _a) in numbers.items()}  # full numbers
    assert rows[-1][0] == "合计" and rows[-1][5] == sum(a for _n, a in numbers.values())
    with app.app_context():
        logged = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "payment.bank_file")).all()
        assert [(e.username, e.entity_id) for e in logged] == [("caiwu", str(roll))]


def test_a_return_with_three_failures_credits_back_and_reissues_once(app, client, auth, runner, batch):
    from app.cycles.models import FundLine, Payment
    from app.extensions import db

    roll, line, headers = batch["roll"], batch["line"], batch["headers"]
    finance = auth.token("finance", "140105")
    numbers = full_numbers(app, roll)
    ids = sorted(numbers)
    failed = ids[:3]
    rows = [(pid, numbers[pid][0], numbers[pid][1], "失败" if pid in failed else "成功",
             "账户已销户" if pid in failed else "") for pid in ids]
    with app.app_context():
        before = db.session.get(FundLine, line).balance_fen
    assert upload(client, headers, roll, rows).status_code == 403  # coordinators do not reconcile
    answer = upload(client, finance, roll, rows)
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["paid"], answer.get_json()["failed"]) == (2, 3)
    credited = sum(numbers[pid][1] for pid in failed)
    assert answer.get_json()["credited"] == credited
    with app.app_context():
        assert db.session.get(FundLine, line).balance_fen == before + round(credited * 100)
    seen = payments_of(client, headers, roll)
    assert sorted(f["id"] for f in seen["failures"]) == failed
    assert all(f["reason"] == "账户已销户" and f["reissued_in"] is None for f in seen["failures"])
    assert seen["totals"]["failed"]["count"] == 3 and seen["totals"]["paid"]["count"] == 2
    # the same file again changes nothing
    again = upload(client, finance, roll, rows)
    assert again.status_code == 200 and again.get_json()["unchanged"] == 5 and again.get_json()["credited"] == 0
    ledger = client.get(f"/api/v1/fund-lines/{line}/ledger", headers=headers).get_json()["items"]
    assert sorted(e["credit_of_id"] for e in ledger if e["kind"] == "credit") == failed
    # the next batch re-issues the three, and only them; the one after re-issues nothing
    for day in ("2025-08-10", "2025-08-11"):
        with time_machine.travel(at(f"{day} 07:00"), tick=False):
            run_due(runner, at(f"{day} 07:00"), "cycles.rolls")
    rolls = client.get(f"/api/v1/cycles/{batch['cycle']}/payment-rolls", headers=headers).get_json()["items"]
    assert [(r["period"], r["payment_count"]) for r in rolls] == [("2025-08-09", 5), ("2025-08-10", 3)]
    seen = payments_of(client, headers, roll)
    assert {f["reissued_in"] for f in seen["failures"]} == {"2025-08-10"}
    with app.app_context():
        payments = db.session.scalars(select(Payment).where(Payment.cycle_id == batch["cycle"])).all()
        reissued = [p for p in payments if p.payment_roll_id == rolls[1]["id"]]
        assert sorted(p.reissue_of_id for p in reissued) == failed and {p.attempt for p in reissued} == {1}
        live = [(p.household_id, p.period) for p in payments if p.id not in failed]
        assert len(live) == len(set(live)) == 5  # no household paid twice in the period
        assert db.session.get(FundLine, line).balance_fen == before
    # a re-issued payment that fails again is credited back and re-issued once more, never twice
    second = full_numbers(app, rolls[1]["id"])
    first_again = sorted(second)[0]
    answer = upload(client, finance, rolls[1]["id"], [(first_again, *second[first_again], "退回", "户名不符")])
    assert answer.status_code == 200 and answer.get_json()["returned"] == 1
    for day in ("2025-08-12", "2025-08-13"):
        with time_machine.travel(at(f"{day} 07:00"), tick=False):
            run_due(runner, at(f"{day} 07:00"), "cycles.rolls")
    rolls = client.get(f"/api/v1/cycles/{batch['cycle']}/payment-rolls", headers=headers).get_json()["items"]
    assert [(r["period"], r["payment_count"]) for r in rolls][2:] == [("2025-08-12", 1)]
    with app.app_context():
        attempts = db.session.scalar(select(func.max(Payment.attempt)).where(Payment.cycle_id == batch["cycle"]))
        assert attempts == 2


def test_a_bad_return_file_names_each_row_and_imports_nothing(app, client, auth, batch):
    from app.cycles.models import PaymentOutcome
    from app.extensions import db

    roll = batch["roll"]
    finance = auth.token("finance", "140105")
    numbers = full_numbers(app, roll)
    ids = sorted(numbers)
    rows = [(ids[0], numbers[ids[0]][0], numbers[ids[0]][1], "成功", ""),
            (ids[1], "110101199001011234", numbers[ids[1]][1], "成功", ""),   # wrong number
            (ids[2], numbers[ids[2]][0], 1.0, "成功", ""),                    # wrong amount
            (ids[3], numbers[ids[3]][0], numbers[ids[3]][1], "失败", ""),      # no reason
            (99999, numbers[ids[4]][0], numbers[ids[4]][1], "成功", ""),       # not in the batch
            (ids[0], numbers[ids[0]][0], numbers[ids[0]][1], "???", "")]       # twice, bad result
    answer = upload(client, finance, roll, rows)
    assert answer.status_code == 422
    fields = [e["field"] for e in answer.get_json()["errors"]]
    assert fields == ["第 4 行 身份证号码", "第 5 行 金额（元）", "第 6 行 失败原因", "第 7 行 款项编号", "第 8 行 结果"]
    with app.app_context():
        assert db.session.scalar(select(func.count(PaymentOutcome.id))) == 0
    assert upload(client, finance, roll, []).status_code == 422
    no_file = client.post(f"/api/v1/payment-rolls/{roll}/bank-return", headers=finance)
    assert no_file.status_code == 422 and no_file.get_json()["errors"][0]["field"] == "file"
    # nothing follows a failure: a failed payment cannot later be reported paid
    good = [(pid, *numbers[pid], "失败", "账号错误") for pid in ids[:1]]
    assert upload(client, finance, roll, good, csv=True).status_code == 200
    late = upload(client, finance, roll, [(ids[0], *numbers[ids[0]], "成功", "")], csv=True)
    assert late.status_code == 422 and "不能再记为" in late.get_json()["errors"][0]["message"]


def test_reconciliation_per_fund_line_and_its_workbooks(app, client, auth, batch):
    roll, line, headers = batch["roll"], batch["line"], batch["headers"]
    finance = auth.token("finance", "140105")
    numbers = full_numbers(app, roll)
    ids = sorted(numbers)
    upload(client, finance, roll, [(ids[0], *numbers[ids[0]], "失败", "账户冻结"),
                                   (ids[1], *numbers[ids[1]], "成功", "")])
    found = client.get(f"/api/v1/fund-lines/{line}/reconciliation", headers=headers).get_json()
    total = sum(a for _n, a in numbers.values())
    assert found["received"] == 50_000 and found["paid"] == total and found["credited"] == numbers[ids[0]][1]
    assert found["balance"] == 50_000 - total + numbers[ids[0]][1] and found["balanced"]
    assert found["batches"][0]["failed"] == numbers[ids[0]][1] and found["batches"][0]["issued"] == \
        sum(numbers[pid][1] for pid in ids[2:])
    officer = auth.token("officer", "140105")
    book = client.get(f"/api/v1/payment-rolls/{roll}/reconciliation.xlsx", headers=officer)
    assert book.status_code == 200
    rows = list(load_workbook(io.BytesIO(book.data)).active.iter_rows(min_row=4, values_only=True))
    assert rows[0][6] == "失败" and rows[0][7] == "账户冻结" and "*" in rows[0][2]  # masked for an officer
    line_book = client.get(f"/api/v1/fund-lines/{line}/reconciliation.xlsx", headers=headers)
    values = [row for row in load_workbook(io.BytesIO(line_book.data)).active.iter_rows(min_row=4, values_only=True)]
    assert [row[2] for row in values if row[0] == "余额"] == [found["balance"]]


# --- the property: received − paid + credited back = balance, at any point -----------------------------------

def _balanced(app) -> None:
    from app.cycles.models import FundEntry, FundLine
    from app.extensions import db

    for line in db.session.scalars(select(FundLine)).all():
        entries = db.session.scalars(select(FundEntry).where(FundEntry.line_id == line.id).order_by(FundEntry.id)).all()
        received = sum(e.amount_fen for e in entries if e.kind == "allocation")
        paid = -sum(e.amount_fen for e in entries if e.kind == "payment")
        credited = sum(e.amount_fen for e in entries if e.kind == "credit")
        assert received - paid + credited == line.balance_fen == line.budget_fen - line.spent_fen >= 0
        running = 0
        for entry in entries:
            running += entry.amount_fen
            assert entry.balance_after_fen == running


OUTCOME = st.sampled_from(["成功", "失败", "退回", None])


def test_every_fund_line_balances_at_any_point(app, client, auth, batch):
    from werkzeug.datastructures import FileStorage

    from app.auth.models import User
    from app.cycles.models import Payment
    from app.cycles.service import funds, reconcile
    from app.cycles.service.disbursement import generate_rolls
    from app.errors import Conflict
    from app.extensions import db

    finance_name, coordinator_name = auth.user("finance", "140105"), auth.user("coordinator", "140105")
    day = [at("2025-08-10 07:00")]

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.one_of(
        st.tuples(st.just("allocate"), st.integers(min_value=-30_000, max_value=30_000).filter(bool)),
        st.tuples(st.just("batch"), st.integers(min_value=1, max_value=20)),
        st.tuples(st.just("return"), st.lists(OUTCOME, min_size=1, max_size=12))), min_size=1, max_size=6))
    def run(operations):
        with app.app_context():
            finance = db.session.scalar(select(User).filter_by(username=finance_name))
            coordinator = db.session.scalar(select(User).filter_by(username=coordinator_name))
            for operation, argument in operations:
                if operation == "allocate":
                    try:
                        funds.allocate(coordinator, batch["line"], {"amount": argument, "note": "调整"})
                    except Conflict:
                        db.session.rollback()
                elif operation == "batch":
                    day[0] += timedelta(days=argument)
                    generate_rolls(day[0], day[0].date().isoformat())
                else:
                    _import_some(finance, argument)
                _balanced(app)
                live = [(p.household_id, p.period) for p in db.session.scalars(select(Payment))
                        if p.id not in reconcile.unpaid_payment_ids(p.cycle_id)]
                assert len(live) == len(set(live))

    def _import_some(finance, outcomes):
        roll = db.session.scalar(select(Payment.payment_roll_id).order_by(Payment.id.desc()).limit(1))
        payments = db.session.scalars(select(Payment).where(Payment.payment_roll_id == roll).order_by(Payment.id)).all()
        current = reconcile.states(p.id for p in payments)
        words = {"成功": "paid", "失败": "failed", "退回": "returned"}
        rows = [(p.id, p.id_number, p.amount_fen / 100, word, "原因") for p, word in zip(payments, outcomes)
                if word and words[word] in reconcile.NEXT[current[p.id][0]]]
        if rows:
            stream, name = return_file(rows)
            reconcile.import_return(finance, roll, FileStorage(stream, filename=name, content_type=XLSX))

    run()


def test_pages_of_a_batch_for_finance_and_for_others(app, client, auth, batch):
    roll, line = batch["roll"], batch["line"]
    numbers = full_numbers(app, roll)
    ids = sorted(numbers)
    auth.login("coordinator", "140105")
    page = client.get(f"/cycles/payment-rolls/{roll}").get_data(as_text=True)
    assert 'id="bank-file"' not in page and 'id="import-return"' not in page
    assert client.get(f"/cycles/payment-rolls/{roll}.xlsx").status_code == 403
    auth.logout()
    auth.login("finance", "140105")
    page = client.get(f"/cycles/payment-rolls/{roll}").get_data(as_text=True)
    assert 'id="bank-file"' in page and 'id="import-return"' in page
    assert client.get(f"/cycles/payment-rolls/{roll}.xlsx").status_code == 200
    stream, name = return_file([(ids[0], *numbers[ids[0]], "失败", "账户已销户"),
                                (ids[1], *numbers[ids[1]], "成功", "")])
    done = client.post(f"/cycles/payment-rolls/{roll}/bank-return", data={"file": (stream, name)},
                       content_type="multipart/form-data", follow_redirects=True)
    assert done.status_code == 200
    page = done.get_data(as_text=True)
    assert "账户已销户" in page and "待下一批次重发" in page and "已导入回盘" in page
    stream, name = return_file([(ids[2], *numbers[ids[2]], "失败", "")])
    refused = client.post(f"/cycles/payment-rolls/{roll}/bank-return", data={"file": (stream, name)},
                          content_type="multipart/form-data")
    assert refused.status_code == 422 and "第 3 行 失败原因" in refused.get_data(as_text=True)
    ledger = client.get(f"/cycles/fund-lines/{line}").get_data(as_text=True)
    assert "账实相符" in ledger and "退回" in ledger
    assert client.get(f"/cycles/fund-lines/{line}/reconciliation.xlsx").status_code == 200
    assert client.get(f"/cycles/payment-rolls/{roll}/reconciliation.xlsx").status_code == 200
    detail = client.get(f"/cycles/{batch['cycle']}").get_data(as_text=True)
    assert "失败/退回" in detail and "一卡通发放文件" in detail
