"""The bank and the money that reaches households (银行代发与对账).

- :func:`bank_file`: the batch's 一卡通 payment file with full identity numbers, for the finance
  role only (``payment.bank_file``), audited and watermarked with who took it and when;
- :func:`import_return`: the bank's return file (回盘, layout in :mod:`app.cycles.bankfile`), all
  or nothing (``payment.reconcile``): each line marks its payment paid, failed or returned; a
  failed or returned payment is credited back to its fund line (one append-only ledger entry,
  once per payment) and the next batch re-issues it (:mod:`.disbursement`), never twice;
- :func:`batch_reconciliation` and :func:`line_reconciliation`: what was issued, paid, failed,
  returned and credited back, per batch and per fund line, with their workbooks.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ... import audit
from ...database import lock_for_update
from ...errors import Conflict, Invalid, NotFound
from ...extensions import db
from ...models_common import utcnow
from ...permissions import can, require
from .. import bankfile
from ..models import (OUTCOMES, PAYMENT_STATES, BankReturn, Cycle, FundEntry, FundLine, Payment, PaymentOutcome,
                      PaymentRoll)
from ..rules import KINDS
from .base import get_cycle, show_id, tz
from .funds import get_line

#: The outcomes after which a payment is owed again (credited back, re-issued by the next batch).
UNPAID = ("failed", "returned")
#: What may follow what the bank said before (nothing follows a failure or a return).
NEXT = {"issued": {"paid", "failed", "returned"}, "paid": {"returned"}, "failed": set(), "returned": set()}


def _batch(user, roll_id: int) -> tuple[PaymentRoll, Cycle]:
    found = db.session.get(PaymentRoll, roll_id)
    if found is None:
        raise NotFound(f"发放批次 {roll_id} 不存在。")
    return found, get_cycle(user, found.cycle_id)


def _payments(roll_id: int) -> list[Payment]:
    return db.session.scalars(select(Payment).where(Payment.payment_roll_id == roll_id).order_by(Payment.id)).all()


def states(payment_ids) -> dict[int, tuple[str, str]]:
    """``payment id → (state, bank's reason)``: the last thing the bank said, else ``issued``."""
    ids = list(payment_ids)
    found = {pid: ("issued", "") for pid in ids}
    rank = {"paid": 1, "failed": 2, "returned": 3}
    for i in range(0, len(ids), 500):
        for outcome in db.session.scalars(select(PaymentOutcome).where(PaymentOutcome.payment_id.in_(ids[i:i + 500]))):
            current = found[outcome.payment_id][0]
            if rank[outcome.status] > rank.get(current, 0):
                found[outcome.payment_id] = (outcome.status, outcome.reason)
    return found


def unpaid_payment_ids(cycle_id: int) -> set[int]:
    """Payments of the cycle the bank failed or returned (owed again)."""
    return set(db.session.scalars(
        select(PaymentOutcome.payment_id).join(Payment, Payment.id == PaymentOutcome.payment_id)
        .where(Payment.cycle_id == cycle_id, PaymentOutcome.status.in_(UNPAID))).all())


# --- the payment file ----------------------------------------------------------------------------------

def bank_file(user, roll_id: int) -> tuple[bytes, str]:
    """The batch's payment file for the bank (full identity numbers) and its name; audited."""
    found, cycle = _batch(user, roll_id)
    require(user, "payment.bank_file", cycle.region_code)
    now = utcnow()
    content = bankfile.write_bank_file(cycle.name, found.period, _payments(found.id), who=user.username,
                                       when=now.astimezone(tz()))
    audit.record(user, "payment.bank_file", "payment_roll", found.id, region_code=cycle.region_code,
                 after={"period": found.period, "payments": found.payment_count, "total": found.total_fen / 100},
                 note="导出一卡通发放文件（含完整身份证号码）")
    db.session.commit()
    return content, f"发放文件-{cycle.id}-{found.period}.xlsx"


# --- the return file -----------------------------------------------------------------------------------

def import_return(user, roll_id: int, upload) -> dict:
    """Import the bank's return file ``upload`` for the batch, all or nothing. Lines already
    recorded with the same result are skipped (importing the same file twice changes nothing)."""
    found, cycle = _batch(user, roll_id)
    require(user, "payment.reconcile", cycle.region_code)
    if upload is None or not getattr(upload, "filename", ""):
        raise Invalid("请上传银行回盘文件。", [{"field": "file", "message": "必填（multipart 字段 file）"}])
    if found.status != "complete":
        raise Conflict("发放批次尚未生成完毕。")
    lines, errors = bankfile.read_return(upload.stream, upload.filename)
    payments = {p.id: p for p in _payments(found.id)}
    current = states(payments)
    changes = _checked(lines, payments, current, errors)
    if not lines and not errors:
        errors.append({"field": "file", "message": "文件中没有数据行"})
    if errors:
        errors.sort(key=_row_order)
        raise Invalid(f"回盘文件有 {len(errors)} 处错误，未导入任何数据。", errors)
    counts = {status: sum(1 for _p, s, _r in changes if s == status) for status in OUTCOMES}
    counts["unchanged"] = len(lines) - len(changes)
    received = BankReturn(payment_roll_id=found.id, file_name=upload.filename[:200], username=user.username,
                          line_count=len(lines), paid_count=counts["paid"], failed_count=counts["failed"],
                          returned_count=counts["returned"],
                          credited_fen=sum(p.amount_fen for p, s, _r in changes if s in UNPAID))
    db.session.add(received)
    db.session.flush()
    counts["credited"] = 0
    for payment, status, reason in changes:
        db.session.add(PaymentOutcome(payment_id=payment.id, bank_return_id=received.id, status=status,
                                      reason=reason))
        if status in UNPAID:
            counts["credited"] += credit_back(user, payment, f"银行{OUTCOMES[status]}：{reason}")
    if counts["credited"] != received.credited_fen:  # a payment is failed or returned once: credited once
        db.session.rollback()
        raise Conflict("回盘与资金台账不一致，未导入。")
    audit.record(user, "payment.bank_return", "payment_roll", found.id, region_code=cycle.region_code,
                 after={**counts, "credited": counts["credited"] / 100, "file": received.file_name})
    try:
        db.session.commit()
    except IntegrityError:  # the same lines recorded by a concurrent import
        db.session.rollback()
        raise Conflict("同一回盘正由他人导入，请刷新后重试。") from None
    return {**received.to_dict(), "unchanged": counts["unchanged"]}


def _row_order(error: dict) -> int:
    words = error["field"].split()
    return int(words[1]) if len(words) > 2 and words[1].isdigit() else 0


def _checked(lines: list[dict], payments: dict[int, Payment], current: dict, errors: list[dict]) -> list:
    """``(payment, new state, reason)`` of each line that changes something; errors name the row."""
    changes, seen = [], set()
    for line in lines:
        where = f"第 {line['_row']} 行 "
        payment = payments.get(line["payment_id"]) if line["payment_id"] is not None else None
        if line["payment_id"] is None or line["result"] is None or line["amount_fen"] is None:
            continue  # already reported by the reader
        if payment is None:
            errors.append({"field": where + "款项编号", "message": f"款项 {line['payment_id']} 不在本批次"})
            continue
        if payment.id in seen:
            errors.append({"field": where + "款项编号", "message": "同一款项在文件中出现两次"})
            continue
        seen.add(payment.id)
        if line["id_number"] != payment.id_number:
            errors.append({"field": where + "身份证号码", "message": "与发放文件不符"})
        if line["amount_fen"] != payment.amount_fen:
            errors.append({"field": where + "金额（元）", "message": f"与发放文件不符（应为 {payment.amount_fen / 100:.2f}）"})
        state = current[payment.id][0]
        if line["result"] == state:
            continue
        if line["result"] not in NEXT[state]:
            errors.append({"field": where + "结果", "message": f"该款项已记为「{PAYMENT_STATES[state]}」，"
                                                            f"不能再记为「{OUTCOMES[line['result']]}」"})
            continue
        changes.append((payment, line["result"], line["reason"]))
    return changes


def credit_back(user, payment: Payment, note: str) -> int:
    """Credit a failed or returned payment back to its fund line (once): the fen credited."""
    db.session.execute(lock_for_update(select(FundLine.id).where(FundLine.id == payment.fund_line_id)))
    if db.session.scalar(select(FundEntry.id).where(FundEntry.credit_of_id == payment.id)) is not None:
        return 0
    line = db.session.get(FundLine, payment.fund_line_id)
    db.session.refresh(line)
    line.spent_fen -= payment.amount_fen
    line.balance_fen += payment.amount_fen
    db.session.add(FundEntry(line_id=line.id, source_id=line.source_id, cycle_id=payment.cycle_id,
                             credit_of_id=payment.id, kind="credit", amount_fen=payment.amount_fen,
                             balance_after_fen=line.balance_fen, username=getattr(user, "username", "system"),
                             note=f"{payment.head_name} {payment.label} {note}"[:500]))
    return payment.amount_fen


# --- reconciliation ------------------------------------------------------------------------------------

def _reissues(payment_ids) -> dict[int, Payment]:
    ids = list(payment_ids)
    if not ids:
        return {}
    return {p.reissue_of_id: p for p in db.session.scalars(select(Payment).where(Payment.reissue_of_id.in_(ids)))}


def batch_summaries(roll_ids) -> dict[int, dict[str, int]]:
    """``batch id → {state: count}`` for the cycle page."""
    ids = list(roll_ids)
    if not ids:
        return {}
    payments = db.session.execute(select(Payment.id, Payment.payment_roll_id)
                                  .where(Payment.payment_roll_id.in_(ids))).all()
    current = states(pid for pid, _roll in payments)
    found = {roll: {state: 0 for state in PAYMENT_STATES} for roll in ids}
    for pid, roll in payments:
        found[roll][current[pid][0]] += 1
    return found


def batch_reconciliation(user, roll_id: int) -> dict:
    """A batch as the bank answered it: totals by state, each payment with its state and reason,
    the failures with where they were re-issued, and the return files imported."""
    found, cycle = _batch(user, roll_id)
    show = show_id(user, cycle.region_code)
    payments = _payments(found.id)
    current = states(p.id for p in payments)
    reissued = _reissues(pid for pid, (state, _r) in current.items() if state in UNPAID)
    periods = dict(db.session.execute(select(PaymentRoll.id, PaymentRoll.period).where(
        PaymentRoll.id.in_({p.payment_roll_id for p in reissued.values()}))).all()) if reissued else {}
    totals = {state: {"count": 0, "amount": 0.0} for state in PAYMENT_STATES}
    rows = []
    for p in payments:
        state, reason = current[p.id]
        totals[state]["count"] += 1
        totals[state]["amount"] += p.amount_fen / 100
        again = reissued.get(p.id)
        rows.append({**p.to_dict(show_id=show), "status": state, "status_label": PAYMENT_STATES[state],
                     "reason": reason, "reissued_as": again.id if again else None,
                     "reissued_in": periods.get(again.payment_roll_id) if again else None})
    returns = db.session.scalars(select(BankReturn).where(BankReturn.payment_roll_id == found.id)
                                 .order_by(BankReturn.id)).all()
    return {"batch": found.to_dict(), "cycle": {"id": cycle.id, "name": cycle.name, "status": cycle.status},
            "totals": totals, "payments": rows, "failures": [r for r in rows if r["status"] in UNPAID],
            "returns": [r.to_dict() for r in returns]}


def batch_page(user, roll_id: int) -> dict:
    """What the batch's reconciliation page shows, and which files ``user`` may take or bring."""
    found = batch_reconciliation(user, roll_id)
    region = db.session.get(Cycle, found["cycle"]["id"]).region_code
    returns = [{**r, "at": datetime.fromisoformat(r["at"])} for r in found["returns"]]
    return {**found, "returns": returns, "can_download": can(user, "payment.bank_file", region),
            "can_import": can(user, "payment.reconcile", region)}


def batch_workbook(user, roll_id: int) -> tuple[bytes, str]:
    found = batch_reconciliation(user, roll_id)
    batch, cycle = found["batch"], found["cycle"]
    rows = [[p["id"], p["head_name"], p["id_number"], p["bank_account"], p["amount"], p["label"],
             p["status_label"], p["reason"], p["reissued_in"] or ""] for p in found["payments"]]
    for state, label in PAYMENT_STATES.items():
        rows.append([f"{label}合计", "", "", "", found["totals"][state]["amount"], "",
                     f"{found['totals'][state]['count']} 笔", "", ""])
    content = bankfile.write_reconciliation(
        "发放批次对账表", f"{cycle['name']}    发放批次：{batch['period']}",
        ["款项编号", "姓名", "身份证号码", "一卡通账号", "金额（元）", "款项", "状态", "银行原因", "重发批次"], rows,
        [10, 12, 22, 24, 12, 24, 10, 24, 14])
    return content, f"对账表-{cycle['id']}-{batch['period']}.xlsx"


def line_reconciliation(user, line_id) -> dict:
    """A fund line's money: received (allocations) − paid + credited back = balance, with the
    batches that drew on it (issued, paid, failed, returned, awaiting the bank)."""
    line = get_line(user, line_id)
    sums = dict(db.session.execute(select(FundEntry.kind, func.coalesce(func.sum(FundEntry.amount_fen), 0))
                                   .where(FundEntry.line_id == line.id).group_by(FundEntry.kind)).all())
    received, paid, credited = int(sums.get("allocation", 0)), -int(sums.get("payment", 0)), int(sums.get("credit", 0))
    payments = db.session.scalars(select(Payment).where(Payment.fund_line_id == line.id).order_by(Payment.id)).all()
    current = states(p.id for p in payments)
    batches: dict[int, dict] = {}
    for p in payments:
        row = batches.setdefault(p.payment_roll_id, {"payment_roll_id": p.payment_roll_id, "cycle_id": p.cycle_id,
                                                     **{state: 0.0 for state in PAYMENT_STATES}, "total": 0.0})
        row[current[p.id][0]] += p.amount_fen / 100
        row["total"] += p.amount_fen / 100
    if batches:
        info = db.session.execute(select(PaymentRoll.id, PaymentRoll.period, Cycle.name)
                                  .join(Cycle, Cycle.id == PaymentRoll.cycle_id)
                                  .where(PaymentRoll.id.in_(batches))).all()
        for roll_id, period, name in info:
            batches[roll_id].update(period=period, cycle_name=name)
    return {"line": {**line.to_dict(), "source_name": line.source.name},
            "received": received / 100, "paid": paid / 100, "credited": credited / 100,
            "balance": line.balance_fen / 100, "balanced": received - paid + credited == line.balance_fen,
            "batches": [batches[k] for k in sorted(batches)]}


def line_workbook(user, line_id) -> tuple[bytes, str]:
    found = line_reconciliation(user, line_id)
    line = found["line"]
    rows = [[b.get("cycle_name", ""), b.get("period", ""), b["total"], b["paid"], b["issued"], b["failed"],
             b["returned"]] for b in found["batches"]]
    rows += [["下达（收到）", "", found["received"], "", "", "", ""], ["支出", "", found["paid"], "", "", "", ""],
             ["退回入账", "", found["credited"], "", "", "", ""], ["余额", "", found["balance"], "", "", "", ""]]
    content = bankfile.write_reconciliation(
        "资金指标对账表", f"{line['source_name']} · {KINDS.get(line['relief_item'], line['relief_item'])}",
        ["救助周期", "发放批次", "发出（元）", "已入账", "待回盘", "失败", "已退回"], rows, [30, 14, 14, 14, 14, 14, 14])
    return content, f"资金指标对账表-{line['id']}.xlsx"
