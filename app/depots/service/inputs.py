"""The input of the depots service: the ``Field`` s every operation's set is made of (items,
depots, quantities, notes, lots, lines of items) and the checks that need the database once the
fields have passed (an item in the catalogue, a depot, a region or an event that exists, an item
named twice). Each operation declares its own set next to it (``RECEIPT_FIELDS`` …); the JSON
API documents those very sets, and pages post forms that the same sets read.
"""
from __future__ import annotations


from ...extensions import db
from ...regions import Region, region_names
from ...reports import Event
from ...validation import Field, validate
from ..models import Depot, Item

MAX_QUANTITY = 10**9

ITEM = Field("str", max_length=40, description="物资代码", extra={"required_message": "必填（物资代码）"})
DEPOT = Field("str", max_length=40, description="物资库代码")
QUANTITY = Field("int", min=1, max=MAX_QUANTITY)
NOTE = Field("str", required=False, max_length=500, multiline=True)
LOT = Field("str", required=False, max_length=60, description="批次号")
EVENT = Field("int", required=False, min=1, description="灾害过程")
#: One line of a dispatch or of a supply request: an item and its quantity
LINE = {"item": ITEM, "quantity": QUANTITY}
LINES_MESSAGE = "至少需要一行（物资、数量）"


def line_field(fields: dict[str, Field]) -> Field:
    """The documented element of a ``lines`` array whose elements ``fields`` check."""
    return Field("dict", extra={"schema": {
        "required": [name for name, spec in fields.items() if spec.required],
        "properties": {name: spec.openapi() for name, spec in fields.items()}}})


def lines_field(fields: dict[str, Field], description: str, *, required: bool = True,
                message: str = LINES_MESSAGE) -> Field:
    """A ``lines`` array of objects, each checked by ``fields`` (:func:`checked_lines`)."""
    return Field("list", required=required, items=line_field(fields), description=description,
                 extra={"required_message": message})


def checked_lines(data, fields: dict[str, Field], errors: list[dict], name: str = "lines") -> list[dict]:
    """Each object of ``data[name]`` checked by ``fields``, its errors named ``lines[i].field``:
    one dict of checked values per object (``None`` for a refused value). The array itself was
    checked by its own ``Field`` (an element that is not an object is named there)."""
    raw = data.get(name) if isinstance(data, dict) else None
    if not isinstance(raw, list) or any(error["field"] == name for error in errors):
        return []
    out = []
    for index, element in enumerate(raw):
        if not isinstance(element, dict):
            continue
        values, found = validate(fields, element)
        errors.extend({**error, "field": f"{name}[{index}].{error['field']}"} for error in found)
        out.append({"index": index, **values})
    return out


def item_lines(lines: list[dict], errors: list[dict], name: str = "lines") -> list[tuple[Item, int]]:
    """Checked ``{item, quantity}`` lines as ``[(Item, quantity)]``: every item in the catalogue
    and named once."""
    out: list[tuple[Item, int]] = []
    seen: set[str] = set()
    for line in lines:
        where = f"{name}[{line['index']}].item"
        item = known_item(line["item"], where, errors)
        if item is not None and item.code in seen:
            errors.append({"field": where, "message": f"物资 {item.code} 重复"})
            continue
        if item is not None:
            seen.add(item.code)
        if item is not None and line["quantity"] is not None:
            out.append((item, line["quantity"]))
    return out


def known_item(code: str | None, field: str, errors: list[dict]) -> Item | None:
    """The catalogue item of a checked code (``None``: refused already, or not in the catalogue)."""
    if code is None:
        return None
    item = db.session.get(Item, code)
    if item is None:
        errors.append({"field": field, "message": f"物资 {code} 不在目录中"})
    return item


def known_depot(code: str | None, field: str, errors: list[dict]) -> Depot | None:
    if code is None:
        return None
    depot = db.session.get(Depot, code)
    if depot is None:
        errors.append({"field": field, "message": f"物资库 {code} 不存在"})
    return depot


def known_region(code: str | None, field: str, errors: list[dict]) -> Region | None:
    if code is None:
        return None
    region = db.session.get(Region, code)
    if region is None:
        errors.append({"field": field, "message": f"区划 {code} 不存在"})
    return region


def known_event(event_id: int | None, field: str, errors: list[dict]) -> int | None:
    """An optional reference to a disaster event: ``None``, or the id of one that exists."""
    if event_id is not None and db.session.get(Event, event_id) is None:
        errors.append({"field": field, "message": f"灾害过程 {event_id} 不存在"})
        return None
    return event_id


