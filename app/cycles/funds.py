"""Relief funds (救灾资金): sources, budget lines by relief item, and their ledgers.

Money is kept apart (专款专用, 分账核算): a budget line belongs to one source and one relief
item; a cycle draws on exactly one line of its own relief item; every allocation and every
payment is one append-only ledger entry with the line's balance after it; a balance never goes
below zero (checked under a row lock, and by a database CHECK).
"""
from __future__ import annotations

from typing import Mapping

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from gis import codes

from .. import audit
from ..api import Field, check
from ..database import lock_for_update
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..permissions import can, require
from ..regions import Region
from .models import FUND_LEVELS, Cycle, FundEntry, FundLine, FundSource, Payment
from .rules import KINDS


#: The largest amount (元) one allocation or budget line may carry: far above any real one,
#: far below what the ledger's 64-bit fen columns can add up.
AMOUNT_MAX_YUAN = 1_000_000_000_000
RELIEF_ITEM = Field("str", choices=tuple(KINDS), description="救助项目")


def _fen(value, field: str, errors: list[dict], *, allow_negative: bool = False) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        errors.append({"field": field, "message": "必须是数字（元）"})
        return None
    spec = Field("number", min=-AMOUNT_MAX_YUAN if allow_negative else 0, max=AMOUNT_MAX_YUAN)
    value = spec.convert(field, value, errors)
    if value is None:
        return None
    fen = int(round(value * 100))
    if fen == 0 or (fen < 0 and not allow_negative):
        errors.append({"field": field, "message": "必须大于 0" if not allow_negative else "不能为 0"})
        return None
    return fen


def source_query(user, *, year: int | None = None, region_code: str | None = None):
    region_code = region_code or user.region_code
    require(user, "cycle.view", region_code)
    prefix = codes.prefix_of(region_code)
    stmt = select(FundSource)
    if prefix:
        stmt = stmt.where(FundSource.region_code.like(prefix + "%"))
    if year:
        stmt = stmt.where(FundSource.year == year)
    return stmt.order_by(FundSource.year.desc(), FundSource.code)


def _row_id(value) -> int | None:
    """An id from a path or a page's hidden field (an int or digits) within its column, else ``None``."""
    if isinstance(value, str):
        value = int(value) if value.isdigit() and len(value) <= 10 else None
    return Field("int", min=1).convert("id", value, []) if value is not None else None


def get_source(user, source_id: int) -> FundSource:
    row_id = _row_id(source_id)
    source = db.session.get(FundSource, row_id) if row_id else None
    if source is None:
        raise NotFound(f"资金来源 {source_id} 不存在。")
    require(user, "cycle.view", source.region_code)
    return source


def get_line(user, line_id: int, action: str = "cycle.view") -> FundLine:
    row_id = _row_id(line_id)
    line = db.session.get(FundLine, row_id) if row_id else None
    if line is None:
        raise NotFound(f"资金指标 {line_id} 不存在。")
    require(user, action, line.source.region_code)
    return line


def source_errors(data: Mapping) -> list[dict]:
    """Every problem with a fund source body (used by the API to name them all at once)."""
    return _clean_source(data)[1]


def _clean_source(data: Mapping) -> tuple[dict, list[dict]]:
    errors: list[dict] = []
    code = check("code", data.get("code"), Field("str", max_length=40), errors)
    name = check("name", data.get("name"), Field("str", max_length=200), errors)
    level = check("level", data.get("level"), Field("str", choices=tuple(FUND_LEVELS)), errors)
    year = data.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        errors.append({"field": "year", "message": "年度必须是 2000–2100 的整数"})
    region_code = check("region_code", data.get("region_code"), Field("code"), errors)
    if region_code is not None and db.session.get(Region, region_code) is None:
        errors.append({"field": "region_code", "message": f"区划 {region_code} 不存在"})
        region_code = None
    lines = data.get("lines") or []
    parsed_lines = []
    if not isinstance(lines, list):
        errors.append({"field": "lines", "message": "必须是数组"})
        lines = []
    seen = set()
    for index, line in enumerate(lines):
        if not isinstance(line, dict):
            errors.append({"field": f"lines[{index}]", "message": "必须是对象 {relief_item, amount}"})
            continue
        item = check(f"lines[{index}].relief_item", line.get("relief_item"), RELIEF_ITEM, errors)
        if item is None:
            continue
        if item in seen:
            errors.append({"field": f"lines[{index}].relief_item", "message": "同一救助项目只能有一个资金指标"})
            continue
        seen.add(item)
        amount = _fen(line.get("amount"), f"lines[{index}].amount", errors)
        if amount is not None:
            parsed_lines.append((item, amount))
    clean = {"code": code, "name": name, "level": level, "year": year, "region_code": region_code,
             "lines": parsed_lines}
    return clean, errors


def create_source(user, data: Mapping) -> FundSource:
    clean, errors = _clean_source(data)
    code, name, level, year, region_code = (clean[k] for k in ("code", "name", "level", "year", "region_code"))
    parsed_lines = clean["lines"]
    if region_code:
        require(user, "payment.manage", region_code)
    if errors:
        raise Invalid(f"资金来源有 {len(errors)} 处错误。", errors)
    if db.session.scalar(select(FundSource.id).filter_by(code=code)) is not None:
        raise Conflict("资金来源编号已存在。", [{"field": "code", "message": "编号已存在"}])
    source = FundSource(code=code, name=name[:200], level=level, region_code=region_code, year=year,
                        note=(data.get("note") or "").strip(), created_by_id=getattr(user, "id", None))
    db.session.add(source)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("资金来源编号已存在。", [{"field": "code", "message": "编号已存在"}]) from None
    for item, amount in parsed_lines:
        line = FundLine(source_id=source.id, relief_item=item, budget_fen=0, spent_fen=0, balance_fen=0)
        db.session.add(line)
        db.session.flush()
        _post_allocation(user, line, amount, "下达资金指标")
    audit.record(user, "fund.create", "fund_source", source.id, after={"code": code, "lines": parsed_lines},
                 region_code=region_code)
    db.session.commit()
    return source


def _post_allocation(user, line: FundLine, amount_fen: int, note: str) -> FundEntry:
    if line.balance_fen + amount_fen < 0:
        raise Conflict(f"调减后余额将为负（当前余额 {line.balance_fen / 100:.2f} 元）。",
                       [{"field": "amount", "message": "超过可调减的余额"}])
    line.budget_fen += amount_fen
    line.balance_fen += amount_fen
    entry = FundEntry(line_id=line.id, source_id=line.source_id, kind="allocation", amount_fen=amount_fen,
                      balance_after_fen=line.balance_fen, username=getattr(user, "username", None) or "system",
                      note=note[:500])
    db.session.add(entry)
    return entry


def add_line(user, source_id: int, data: Mapping) -> FundLine:
    source = get_source(user, source_id)
    require(user, "payment.manage", source.region_code)
    errors = []
    item = check("relief_item", data.get("relief_item"), RELIEF_ITEM, errors)
    amount = _fen(data.get("amount"), "amount", errors)
    if errors:
        raise Invalid("资金指标有误。", errors)
    if db.session.scalar(select(FundLine.id).filter_by(source_id=source.id, relief_item=item)) is not None:
        raise Conflict("该资金来源已有此救助项目的资金指标，请追加资金。",
                       [{"field": "relief_item", "message": "已存在"}])
    line = FundLine(source_id=source.id, relief_item=item, budget_fen=0, spent_fen=0, balance_fen=0)
    db.session.add(line)
    db.session.flush()
    _post_allocation(user, line, amount, (data.get("note") or "下达资金指标").strip())
    audit.record(user, "fund.line.create", "fund_line", line.id, after=line.to_dict(), region_code=source.region_code)
    db.session.commit()
    return line


def allocate(user, line_id: int, data: Mapping) -> FundEntry:
    """Add money to a line (追加) or take back unspent money (调减, a negative amount)."""
    line = get_line(user, line_id, "payment.manage")
    errors = []
    amount = _fen(data.get("amount"), "amount", errors, allow_negative=True)
    note = (data.get("note") or "").strip()
    if not note:
        errors.append({"field": "note", "message": "请写明文号或说明"})
    if errors:
        raise Invalid("资金调整有误。", errors)
    db.session.execute(lock_for_update(select(FundLine.id).where(FundLine.id == line.id)))
    db.session.refresh(line)
    entry = _post_allocation(user, line, amount, note)
    db.session.flush()
    audit.record(user, "fund.allocate", "fund_line", line.id, after={"amount": amount / 100, "note": note},
                 region_code=line.source.region_code)
    db.session.commit()
    return entry


def _attach_line(cycle: Cycle, line_id, field: str) -> FundLine:
    line_id = Field("int", min=1).convert(field, line_id, [])
    line = db.session.get(FundLine, line_id) if line_id is not None else None
    if line is None:
        raise Invalid("资金指标不存在。", [{"field": field, "message": "资金指标不存在"}])
    if line.relief_item != cycle.kind:
        raise Invalid("资金指标的救助项目与本周期不符（专款专用）。",
                      [{"field": field, "message": f"该指标用于「{KINDS[line.relief_item]}」，不能用于「{cycle.kind_label}」"}])
    if not codes.is_within(cycle.region_code, line.source.region_code):
        raise Invalid("资金来源不覆盖本周期所在的县。", [{"field": field, "message": "资金来源的区划不包含本县"}])
    cycle.fund_line_id = line.id
    return line


def assign_line(user, cycle_id: int, line_id) -> Cycle:
    from .service import get_cycle

    cycle = get_cycle(user, cycle_id, "payment.manage")
    if cycle.status in ("closed", "cancelled"):
        raise Conflict("救助周期已结束或已撤销。")
    if cycle.status == "disbursing" and cycle.fund_line_id is not None:
        paid = db.session.scalar(select(func.count(Payment.id)).where(Payment.cycle_id == cycle.id))
        if paid:
            raise Conflict("本周期已从原资金指标发放，不能更换（分账核算）。")
    before = cycle.fund_line_id
    _attach_line(cycle, line_id, "fund_line_id")
    audit.record(user, "cycle.fund_line", "relief_cycle", cycle.id, before={"fund_line_id": before},
                 after={"fund_line_id": cycle.fund_line_id}, region_code=cycle.region_code)
    db.session.commit()
    return cycle


def ledger(user, line_id: int) -> list[FundEntry]:
    line = get_line(user, line_id)
    return db.session.scalars(select(FundEntry).where(FundEntry.line_id == line.id).order_by(FundEntry.id)).all()


def report(user, *, year: int | None = None, region_code: str | None = None) -> dict:
    """Spending against allocation per source, per budget line (with the cycles it paid) and per
    relief item."""
    sources = db.session.scalars(source_query(user, year=year, region_code=region_code)).all()
    by_item: dict[str, dict] = {}
    out_sources = []
    for source in sources:
        lines = []
        for line in source.lines:
            spent_by_cycle = db.session.execute(
                select(Payment.cycle_id, func.sum(Payment.amount_fen)).where(Payment.fund_line_id == line.id)
                .group_by(Payment.cycle_id).order_by(Payment.cycle_id)).all()
            cycles = []
            for cycle_id, spent in spent_by_cycle:
                cycle = db.session.get(Cycle, cycle_id)
                cycles.append({"cycle_id": cycle_id, "name": cycle.name, "spent": int(spent) / 100})
            lines.append({**line.to_dict(), "cycles": cycles})
            item = by_item.setdefault(line.relief_item, {"relief_item": line.relief_item,
                                                         "relief_item_label": KINDS[line.relief_item],
                                                         "budget": 0, "spent": 0, "balance": 0})
            item["budget"] += line.budget_fen
            item["spent"] += line.spent_fen
            item["balance"] += line.balance_fen
        out_sources.append({"id": source.id, "code": source.code, "name": source.name, "level": source.level,
                            "level_label": FUND_LEVELS[source.level], "region_code": source.region_code,
                            "year": source.year,
                            "budget": sum(line.budget_fen for line in source.lines) / 100,
                            "spent": sum(line.spent_fen for line in source.lines) / 100,
                            "balance": sum(line.balance_fen for line in source.lines) / 100,
                            "lines": lines})
    items = [{**v, "budget": v["budget"] / 100, "spent": v["spent"] / 100, "balance": v["balance"] / 100}
             for _k, v in sorted(by_item.items())]
    return {"sources": out_sources, "by_item": items}


def lines_for(user, cycle: Cycle) -> list[FundLine]:
    """Budget lines a cycle may draw on: its relief item, from a source covering its county."""
    lines = db.session.scalars(select(FundLine).where(FundLine.relief_item == cycle.kind)).all()
    return [line for line in lines if codes.is_within(cycle.region_code, line.source.region_code)
            and can(user, "cycle.view", line.source.region_code)]
