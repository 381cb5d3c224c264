"""Relief funds (救灾资金): sources, budget lines by relief item, and their ledgers.

Money is kept apart (专款专用, 分账核算): a budget line belongs to one source and one relief
item; a cycle draws on exactly one line of its own relief item; every allocation and every
payment is one append-only ledger entry with the line's balance after it; a balance never goes
below zero (checked under a row lock, and by a database CHECK). Amounts come in yuan and are kept
in fen.
"""
from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from gis import codes

from ... import audit
from ...database import lock_for_update
from ...errors import Conflict, Invalid, NotFound
from ...extensions import db
from ...permissions import can, require
from ...regions import Region
from ...reports import visible_events
from ...validation import Field, validate
from ..models import FUND_LEVELS, Cycle, FundEntry, FundLine, FundSource, Payment
from ..rules import KINDS
from .base import ID, YEAR_FIELD, check_item, get_cycle, refuse, region_names

#: The largest amount (元) one allocation or budget line may carry: far above any real one,
#: far below what the ledger's 64-bit fen columns can add up.
AMOUNT_MAX_YUAN = 1_000_000_000_000
RELIEF_ITEM = Field("str", choices=tuple(KINDS), description="救助项目")
#: A budget line as a source is registered with it (an element of ``lines``).
SOURCE_LINE_FIELDS = {
    "relief_item": RELIEF_ITEM,
    "amount": Field("number", min=0, max=AMOUNT_MAX_YUAN, description="元"),
}
FUND_FIELDS = {
    "code": Field("str", max_length=40, description="资金来源编号（文号）"),
    "name": Field("str", max_length=200),
    "level": Field("str", choices=tuple(FUND_LEVELS)),
    "region_code": Field("code", description="管理这笔资金的区划"),
    "year": replace(YEAR_FIELD, description="年度"),
    "lines": Field("list", required=False, default=[], items="dict", max_items=100,
                   description="资金指标 [{relief_item, amount}]（元）"),
    "note": Field("str", required=False, default="", max_length=4000, multiline=True),
}
LINE_FIELDS = {**SOURCE_LINE_FIELDS, "note": Field("str", required=False, default="", max_length=4000, multiline=True)}
ALLOCATION_FIELDS = {
    "amount": Field("number", min=-AMOUNT_MAX_YUAN, max=AMOUNT_MAX_YUAN, description="元；负数为调减"),
    "note": Field("str", max_length=4000, multiline=True, description="文号或说明"),
}
ASSIGN_FIELDS = {"fund_line_id": Field("int", min=1, description="资金指标")}


def _fen(yuan: float | None, field: str, errors: list[dict], *, allow_negative: bool = False) -> int | None:
    """A checked amount in fen: never zero, negative only where allowed (its field bounded it)."""
    if yuan is None:
        return None
    fen = int(round(yuan * 100))
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
        value = int(value) if value.isascii() and value.isdigit() and len(value) <= 10 else None
    return ID.convert("id", value, []) if value is not None else None


def get_source(user, source_id: int) -> FundSource:
    row_id = _row_id(source_id)
    source = db.session.get(FundSource, row_id) if row_id else None
    if source is None:
        raise NotFound(f"资金来源 {source_id} 不存在。")
    require(user, "cycle.view", source.region_code)
    return source


def get_line(user, line_id, action: str = "cycle.view") -> FundLine:
    row_id = _row_id(line_id)
    line = db.session.get(FundLine, row_id) if row_id else None
    if line is None:
        raise NotFound(f"资金指标 {line_id} 不存在。")
    require(user, action, line.source.region_code)
    return line


# --- sources and lines ---------------------------------------------------------------------------------

def create_source(user, data) -> FundSource:
    """Register a source with its budget lines (``{code, name, level, region_code, year, lines}``)."""
    require(user, "payment.manage")
    values, errors = validate(FUND_FIELDS, data)
    lines = [check_item(SOURCE_LINE_FIELDS, line, f"lines[{i}].", errors) for i, line in enumerate(values["lines"] or [])]
    return _create_source(user, values, list(enumerate(lines)), "lines[{i}].", errors)


def register_source(user, data) -> FundSource:
    """Register a source with one budget line from the funds page's form (the fields of a source
    and of one line: ``relief_item``, ``amount``)."""
    require(user, "payment.manage")
    values, errors = validate({name: spec for name, spec in FUND_FIELDS.items() if name != "lines"}, data)
    line, line_errors = validate(SOURCE_LINE_FIELDS, data)
    return _create_source(user, values, [(0, line)], "", errors + line_errors)


def _create_source(user, values: dict, lines: list[tuple[int, dict | None]], where: str,
                   errors: list[dict]) -> FundSource:
    rules = _source_rules(values)
    parsed = _parsed_lines(lines, where, rules)
    if values["region_code"] and "region_code" not in {e["field"] for e in rules}:
        require(user, "payment.manage", values["region_code"])
    refuse(errors, "资金来源有 {n} 处错误。", rules)
    code = values["code"]
    if db.session.scalar(select(FundSource.id).filter_by(code=code)) is not None:
        raise Conflict("资金来源编号已存在。", [{"field": "code", "message": "编号已存在"}])
    source = FundSource(code=code, name=values["name"][:200], level=values["level"], region_code=values["region_code"],
                        year=values["year"], note=values["note"] or "", created_by_id=getattr(user, "id", None))
    db.session.add(source)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("资金来源编号已存在。", [{"field": "code", "message": "编号已存在"}]) from None
    for item, amount in parsed:
        _new_line(user, source, item, amount, "下达资金指标")
    audit.record(user, "fund.create", "fund_source", source.id, after={"code": code, "lines": parsed},
                 region_code=source.region_code)
    db.session.commit()
    return source


def _source_rules(values: dict) -> list[dict]:
    errors = []
    year = values["year"]
    if year is not None and not 2000 <= year <= 2100:
        errors.append({"field": "year", "message": "年度必须是 2000–2100 的整数"})
    if values["region_code"] and db.session.get(Region, values["region_code"]) is None:
        errors.append({"field": "region_code", "message": f"区划 {values['region_code']} 不存在"})
    return errors


def _parsed_lines(lines: list[tuple[int, dict | None]], where: str, errors: list[dict]) -> list[tuple[str, int]]:
    """``(relief item, fen)`` of each line; one line per relief item."""
    parsed, seen = [], set()
    for index, line in lines:
        if line is None:
            continue
        name = where.format(i=index)
        if line["relief_item"] in seen:
            errors.append({"field": name + "relief_item", "message": "同一救助项目只能有一个资金指标"})
            continue
        seen.add(line["relief_item"])
        amount = _fen(line["amount"], name + "amount", errors)
        if amount is not None:
            parsed.append((line["relief_item"], amount))
    return parsed


def _new_line(user, source: FundSource, item: str, amount_fen: int, note: str) -> FundLine:
    line = FundLine(source_id=source.id, relief_item=item, budget_fen=0, spent_fen=0, balance_fen=0)
    db.session.add(line)
    db.session.flush()
    post_allocation(user, line, amount_fen, note)
    return line


def post_allocation(user, line: FundLine, amount_fen: int, note: str) -> FundEntry:
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


def add_line(user, source_id: int, data) -> FundLine:
    """A budget line for a relief item the source has none for (``{relief_item, amount, note}``)."""
    source = get_source(user, source_id)
    require(user, "payment.manage", source.region_code)
    values, errors = validate(LINE_FIELDS, data)
    amount = _fen(values["amount"], "amount", errors)
    refuse(errors, "资金指标有误。")
    item = values["relief_item"]
    if db.session.scalar(select(FundLine.id).filter_by(source_id=source.id, relief_item=item)) is not None:
        raise Conflict("该资金来源已有此救助项目的资金指标，请追加资金。",
                       [{"field": "relief_item", "message": "已存在"}])
    line = _new_line(user, source, item, amount, values["note"] or "下达资金指标")
    audit.record(user, "fund.line.create", "fund_line", line.id, after=line.to_dict(), region_code=source.region_code)
    db.session.commit()
    return line


def allocate(user, line_id, data) -> FundEntry:
    """Add money to a line (追加) or take back unspent money (调减, a negative amount)."""
    line = get_line(user, line_id, "payment.manage")
    values, errors = validate(ALLOCATION_FIELDS, data)
    amount = _fen(values["amount"], "amount", errors, allow_negative=True)
    refuse(errors, "资金调整有误。")
    note = values["note"]
    db.session.execute(lock_for_update(select(FundLine.id).where(FundLine.id == line.id)))
    db.session.refresh(line)
    entry = post_allocation(user, line, amount, note)
    db.session.flush()
    audit.record(user, "fund.allocate", "fund_line", line.id, after={"amount": amount / 100, "note": note},
                 region_code=line.source.region_code)
    db.session.commit()
    return entry


# --- a cycle's budget line -----------------------------------------------------------------------------

def attach_line(cycle: Cycle, line_id: int, field: str) -> FundLine:
    """Let ``cycle`` draw on the line (its relief item, from a source covering its county)."""
    line = db.session.get(FundLine, line_id)
    if line is None:
        raise Invalid("资金指标不存在。", [{"field": field, "message": "资金指标不存在"}])
    if line.relief_item != cycle.kind:
        raise Invalid("资金指标的救助项目与本周期不符（专款专用）。",
                      [{"field": field, "message": f"该指标用于「{KINDS[line.relief_item]}」，不能用于「{cycle.kind_label}」"}])
    if not codes.is_within(cycle.region_code, line.source.region_code):
        raise Invalid("资金来源不覆盖本周期所在的县。", [{"field": field, "message": "资金来源的区划不包含本县"}])
    cycle.fund_line_id = line.id
    return line


def assign_line(user, cycle_id: int, data) -> Cycle:
    """Choose the budget line a cycle draws on (``{"fund_line_id"}``); not once it has paid from another."""
    cycle = get_cycle(user, cycle_id, "payment.manage")
    values, errors = validate(ASSIGN_FIELDS, data)
    refuse(errors, "请选择资金指标。")
    if cycle.status in ("closed", "cancelled"):
        raise Conflict("救助周期已结束或已撤销。")
    if cycle.status == "disbursing" and cycle.fund_line_id is not None:
        paid = db.session.scalar(select(func.count(Payment.id)).where(Payment.cycle_id == cycle.id))
        if paid:
            raise Conflict("本周期已从原资金指标发放，不能更换（分账核算）。")
    before = cycle.fund_line_id
    attach_line(cycle, values["fund_line_id"], "fund_line_id")
    audit.record(user, "cycle.fund_line", "relief_cycle", cycle.id, before={"fund_line_id": before},
                 after={"fund_line_id": cycle.fund_line_id}, region_code=cycle.region_code)
    db.session.commit()
    return cycle


def lines_for(user, cycle: Cycle) -> list[FundLine]:
    """Budget lines a cycle may draw on: its relief item, from a source covering its county."""
    lines = db.session.scalars(select(FundLine).where(FundLine.relief_item == cycle.kind)).all()
    return [line for line in lines if codes.is_within(cycle.region_code, line.source.region_code)
            and can(user, "cycle.view", line.source.region_code)]


def line_choices(user, cycle: Cycle) -> list[tuple[int, str]]:
    """The lines a cycle may draw on, labelled for the cycle page's choice."""
    from flask_babel import format_decimal, gettext

    return [(line.id, f"{line.source.name} · {gettext(line.to_dict()['relief_item_label'])} · "
                      f"{gettext('余额')} {format_decimal(line.balance_fen / 100, format='#,##0.00')} {gettext('元')}")
            for line in lines_for(user, cycle)]


# --- reading -------------------------------------------------------------------------------------------

def ledger(user, line_id) -> list[FundEntry]:
    line = get_line(user, line_id)
    return db.session.scalars(select(FundEntry).where(FundEntry.line_id == line.id).order_by(FundEntry.id)).all()


def report(user, *, year: int | None = None, region_code: str | None = None) -> dict:
    """Spending against allocation per source, per budget line (with the cycles it paid) and per
    relief item."""
    sources = db.session.scalars(source_query(user, year=year, region_code=region_code)).all()
    by_item: dict[str, dict] = {}
    for source in sources:
        for line in source.lines:
            item = by_item.setdefault(line.relief_item, {"relief_item": line.relief_item,
                                                         "relief_item_label": KINDS[line.relief_item],
                                                         "budget": 0, "spent": 0, "balance": 0})
            item["budget"] += line.budget_fen
            item["spent"] += line.spent_fen
            item["balance"] += line.balance_fen
    items = [{**v, "budget": v["budget"] / 100, "spent": v["spent"] / 100, "balance": v["balance"] / 100}
             for _k, v in sorted(by_item.items())]
    return {"sources": [_source_report(source) for source in sources], "by_item": items}


def _source_report(source: FundSource) -> dict:
    lines = []
    for line in source.lines:
        spent_by_cycle = db.session.execute(
            select(Payment.cycle_id, Cycle.name, func.sum(Payment.amount_fen))
            .join(Cycle, Cycle.id == Payment.cycle_id).where(Payment.fund_line_id == line.id)
            .group_by(Payment.cycle_id, Cycle.name).order_by(Payment.cycle_id)).all()
        cycles = [{"cycle_id": cycle_id, "name": name, "spent": int(spent) / 100}
                  for cycle_id, name, spent in spent_by_cycle]
        lines.append({**line.to_dict(), "cycles": cycles})
    return {"id": source.id, "code": source.code, "name": source.name, "level": source.level,
            "level_label": FUND_LEVELS[source.level], "region_code": source.region_code, "year": source.year,
            "budget": sum(line.budget_fen for line in source.lines) / 100,
            "spent": sum(line.spent_fen for line in source.lines) / 100,
            "balance": sum(line.balance_fen for line in source.lines) / 100,
            "lines": lines}


def funds_page(user, year: int | None = None) -> dict:
    """What the funds page shows ``user``: the report of their jurisdiction, and whether they may
    register sources and allocate."""
    found = report(user, year=year)
    events = db.session.scalars(visible_events(user).limit(20)).all() if can(user, "event.view") else []
    return {"report": found, "year": year, "can_pay": can(user, "payment.manage", user.region_code), "events": events,
            "names": region_names(s["region_code"] for s in found["sources"])}


def ledger_page(user, line_id) -> dict:
    return {"line": get_line(user, line_id), "entries": ledger(user, line_id), "kinds": KINDS}
