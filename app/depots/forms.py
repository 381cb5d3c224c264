"""The page forms of the depots area and how a posted one becomes the service's input.

The ``FlaskForm`` classes only render (labels, descriptions, widgets) and emit the CSRF token;
they decide nothing: the service reads the posted form by its operation's ``Field`` s, under the
same names, so a page refuses what the API refuses with the field named by its label here.
Quantities are text inputs (``type=number`` in the templates) so that WTForms' own coercion never
answers before the service does. Forms that share a page post under a prefix (``r-item``), which
:func:`unprefixed` takes off; per-item quantity inputs (``qty-tent``, ``received-tent``,
``fill-<depot>--<item>``) become the ``lines`` a JSON body holds (:func:`with_lines`).
"""
from __future__ import annotations

import json
import re

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from ..validation import form_data

NUMERIC = {"inputmode": "numeric"}


class ReceiptForm(FlaskForm):
    item = SelectField("物资", validate_choice=False)
    quantity = StringField("数量", render_kw=NUMERIC)
    lot = StringField("批次号", description="可不填；同一批次号的有效期必须一致")
    expiry = StringField("有效期至", description="不填时：有保质期的物资按今天加保质期计算，其余物资不设有效期")
    note = StringField("备注（来源、入库单号等）")


class AdjustmentForm(FlaskForm):
    item = SelectField("物资", validate_choice=False)
    quantity = StringField("调整数量", render_kw=NUMERIC,
                           description="正数为盘盈，负数为盘亏；盘亏不指定批次时按先到期先出扣减")
    lot = StringField("批次号")
    reason = StringField("调整原因")


class ReserveForm(FlaskForm):
    item = SelectField("物资", validate_choice=False)
    floor = StringField("保底储备数量", render_kw=NUMERIC,
                        description="本库为本辖区保留的数量：调往辖区外时不得动用，除非勾选“动用保底储备”")
    released = BooleanField("动用保底储备（允许调往辖区外）")


class WriteOffForm(FlaskForm):
    reason = StringField("说明")


class ActionForm(FlaskForm):
    """CSRF plus an optional note (ship, fill) or reason (cancel) for a dispatch's or a
    request's step."""

    note = StringField("说明")
    reason = StringField("撤销原因")


class DispatchForm(FlaskForm):
    from_depot = SelectField("调出物资库", validate_choice=False)
    to_region_code = StringField("接收区划", description="输入区、县、乡镇或村的名称或代码，从列表中选择")
    event_id = SelectField("灾害过程", validate_choice=False)
    note = StringField("备注（数量远超需求时须说明理由）")


class SupplyRequestForm(FlaskForm):
    from_region_code = StringField("申请区划", description="本级（通常为县级）区划")
    to_region_code = StringField("受理区划", description="不选则向直接上级申请")
    to_depot = StringField("接收物资库", description="可不选；选定后物资签收时直接入该库")
    event_id = SelectField("灾害过程", validate_choice=False)
    reason = TextAreaField("申请理由（书面申请）", description="说明灾情、本级库存不足的情况和所需物资用途")


class RejectForm(FlaskForm):
    reason = TextAreaField("不予调拨的理由")


class ReplenishForm(FlaskForm):
    """Sending goods back to a depot a higher level drew on (回补): from which depot, how many
    of each item (``qty-<item>``), a note."""

    from_depot = SelectField("回补调出库", choices=[], validate_choice=False)
    note = StringField("说明")


def unprefixed(form, prefix: str) -> MultiDict:
    """The inputs of one form of a page that holds several (``r-item`` → ``item``)."""
    head = f"{prefix}-"
    return MultiDict([(key[len(head):], value) for key, value in form.items(multi=True) if key.startswith(head)])


def _number(raw: str):
    """A quantity as typed: its integer when it reads as one, else the text (which the service
    then refuses by the same message as the API's)."""
    try:
        return int(raw)
    except ValueError:
        return raw


def quantity_lines(form, prefix: str = "qty-") -> list[dict]:
    """Per-item quantity inputs named ``qty-<item>`` → ``[{"item", "quantity"}]`` (blank skipped)."""
    return [{"item": key[len(prefix):], "quantity": _number(raw)} for key, raw in form.items()
            if key.startswith(prefix) and raw.strip()]


def received_lines(form) -> list[dict]:
    """A receipt's counted quantities (``received-<item>``) with their notes (``note-<item>``)."""
    return [{**line, "note": form.get(f"note-{line['item']}") or None}
            for line in quantity_lines(form, "received-")]


def fill_lines(form) -> list[dict]:
    """A fill's quantities, one input per depot and item named ``fill-<depot>--<item>``."""
    lines = []
    for key, raw in form.items():
        if not key.startswith("fill-") or not raw.strip() or "--" not in key:
            continue
        depot_code, item = key[5:].split("--", 1)
        lines.append({"from_depot": depot_code, "item": item, "quantity": _number(raw)})
    return lines


def with_lines(form, fields: dict, lines: list[dict]) -> dict:
    """A posted form that carries per-item lines as the JSON body the service takes: its other
    inputs read by ``fields`` as any posted form is (:func:`app.validation.form_data`; a value
    that does not read stays as typed, for the service to refuse), and ``lines``."""
    body, unreadable = form_data(fields, form)
    for error in unreadable:
        body[error["field"]] = form.get(error["field"])
    body["lines"] = lines
    return body


class AcceptForm(FlaskForm):
    """Accepting an allocation plan: the chosen lines (checkboxes), a note, the submission mark."""

    lines = StringField("方案行")
    note = StringField("备注")
    submission = StringField("提交标识")


def plan_label(name: str) -> str:
    """A plan option by the label the allocation page shows."""
    return {"max_distance_km": "最大调运距离（公里）", "released": "动用保底储备的物资库",
            "items": "物资"}.get(name.split("[", 1)[0], name)


def accept_body(form) -> dict:
    """The allocation page's accept form as the JSON body: each ticked ``line`` carries its plan
    line as JSON (a value that does not read stays as posted, for the service to refuse)."""
    lines = []
    for raw in form.getlist("line"):
        try:
            lines.append(json.loads(raw))
        except ValueError:
            lines.append(raw)
    return {"lines": lines, "note": form.get("note") or None, "submission": form.get("submission") or None}


def line_labels(label, lines: list[dict], names: dict[str, str]):
    """``label`` (a form's field names by their labels), with ``lines[i]…`` read as the quantity
    input of the i-th posted item (``帐篷 数量``)."""
    def labelled(name: str) -> str:
        found = re.match(r"lines\[(\d+)\]", name)
        if found and int(found.group(1)) < len(lines):
            code = lines[int(found.group(1))]["item"]
            return f"{names.get(code, code)} 数量"
        return label(name)

    return labelled
