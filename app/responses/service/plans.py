"""Contingency plans (应急预案) as stored versions: the plans in force, a plan with its versions,
the upload of a new version (YAML, JSON or a parsed mapping) and putting a version in force or
retiring a plan.

A plan is data for :mod:`response_levels`; each upload of the same ``plan_id`` is a new row and
at most one version is active, the one assessments use. Reads are open to every signed-in user
(``plan.view``, reference data); uploads and activation take ``plan.upload`` inside the plan's
jurisdiction. Every input (a JSON body, a posted form, a raw text body) goes through
:data:`UPLOAD_FIELDS` / :data:`ACTIVATION_FIELDS`.
"""
from __future__ import annotations

import json
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import response_levels as rl
from gis import codes

from ... import audit
from ...api import Field, check, parse
from ...database import lock_for_update
from ...errors import Conflict, Invalid, NotFound
from ...extensions import db
from ...models_common import utcnow
from ...permissions import can, require
from ...regions import find_region
from ..models import ContingencyPlan

#: Depth of each level of the region tree, the nation at the top.
DEPTH = {"nation": 0, "province": 1, "prefecture": 2, "county": 3, "township": 4, "village": 5}
UNIT_LABELS = {"province": "省级", "prefecture": "市级", "county": "县级"}
STATUS_LABELS = {"checked": "已核对原文", "secondary": "二手来源", "default": "默认解读",
                 "sample": "示例数据"}

PLAN_TEXT = Field("str", required=False, max_length=1_000_000, multiline=True,
                  description="预案全文（YAML 或 JSON 文本）")
UPLOAD_FIELDS = {
    "text": PLAN_TEXT,
    "plan": Field("dict", required=False, description="或：已解析的预案对象"),
}
ACTIVATION_FIELDS = {
    "active": Field("bool", description="true：使该版本生效；false：停用该预案"),
    "version": Field("str", required=False, max_length=40, description="要生效的版本，默认最新版本"),
}
#: Column lengths of a plan's id, version and name (:class:`ContingencyPlan`).
_LENGTHS = (("id", 80), ("version", 40), ("name", 200))


# --- Reading ----------------------------------------------------------------------------------

@lru_cache(maxsize=256)
def _plan_from_json(text: str) -> rl.Plan:
    return rl.load_plan(json.loads(text))


def plan_of(row: ContingencyPlan) -> rl.Plan:
    """The :class:`response_levels.Plan` of a stored plan version."""
    return _plan_from_json(json.dumps(row.document, sort_keys=True, ensure_ascii=False))


def plan_to_dict(row: ContingencyPlan, versions: list[ContingencyPlan] | None = None) -> dict:
    """A plan in the shape of ``GET /plans`` (``plan_summary``) plus its upload details."""
    data = rl.plan_summary(plan_of(row))
    data.update(active=row.active, uploaded_by=row.uploaded_by,
                uploaded_at=row.uploaded_at.isoformat())
    if versions is not None:
        data["versions"] = [v.version_dict() for v in versions]
    return data


def plan_versions(plan_id: str) -> list[ContingencyPlan]:
    """Every stored version of a plan, oldest first."""
    return list(db.session.scalars(select(ContingencyPlan).filter_by(plan_id=plan_id)
                                   .order_by(ContingencyPlan.uploaded_at, ContingencyPlan.id)))


def active_plan_rows() -> list[ContingencyPlan]:
    return list(db.session.scalars(select(ContingencyPlan).filter_by(active=True)
                                   .order_by(ContingencyPlan.plan_id)))


def level_name(label: str) -> str:
    """``Ⅳ`` → ``Ⅳ级响应``, ``四级`` → ``四级响应``."""
    return f"{label}{'' if label.endswith('级') else '级'}响应"


def list_plans(user, include_inactive: bool = False) -> list[ContingencyPlan]:
    """The plans in force (the active version of each); with ``include_inactive`` also the
    latest version of each retired plan."""
    require(user, "plan.view")
    if not include_inactive:
        return active_plan_rows()
    rows = db.session.scalars(select(ContingencyPlan).order_by(
        ContingencyPlan.plan_id, ContingencyPlan.uploaded_at, ContingencyPlan.id)).all()
    chosen: dict[str, ContingencyPlan] = {}
    for row in rows:
        held = chosen.get(row.plan_id)
        if held is None or not held.active:
            chosen[row.plan_id] = row
    return [chosen[k] for k in sorted(chosen)]


def get_plan(user, plan_id: str, version: str | None = None) -> tuple[ContingencyPlan, list]:
    """A plan's version (the active one, else the latest) and every version of it."""
    require(user, "plan.view")
    versions = plan_versions(plan_id)
    if not versions:
        raise NotFound(f"预案 {plan_id} 不存在。")
    if version is not None:
        row = next((v for v in versions if v.version == version), None)
        if row is None:
            raise NotFound(f"预案 {plan_id} 没有版本 {version}。")
    else:
        row = next((v for v in versions if v.active), versions[-1])
    return row, versions


def plan_json(user, plan_id: str, version: str | None = None) -> dict:
    """``GET /plans/{id}``: the plan's version (:func:`get_plan`) with every version listed."""
    return plan_to_dict(*get_plan(user, plan_id, version))


def plan_yaml(user, plan_id: str, version: str | None = None) -> tuple[ContingencyPlan, str]:
    """The plan's version and its text as YAML (the download, a template for a new version)."""
    row, _versions = get_plan(user, plan_id, version)
    return row, rl.dump_plan_text(plan_of(row))


# --- What the plan pages show -----------------------------------------------------------------

def plans_page(user, include_inactive: bool = False) -> dict:
    """The plans page: the plans (:func:`list_plans`), each one's number of versions, and
    whether the user may upload."""
    rows = list_plans(user, include_inactive=include_inactive)
    return {"rows": rows, "counts": {row.plan_id: len(plan_versions(row.plan_id)) for row in rows},
            "include_inactive": include_inactive, "can_upload": can(user, "plan.upload"),
            "unit_labels": UNIT_LABELS}


def plan_page(user, plan_id: str, version: str | None = None) -> dict:
    """A plan's page: the version shown, its plan, every version, the jurisdiction's region and
    whether the user may put versions in force."""
    row, versions = get_plan(user, plan_id, version)
    return {"row": row, "plan": plan_of(row), "versions": versions,
            "region": find_region(row.jurisdiction_code),
            "can_upload": can(user, "plan.upload", row.jurisdiction_code),
            "status_labels": STATUS_LABELS, "unit_labels": UNIT_LABELS}


# --- Upload -----------------------------------------------------------------------------------

def _upload_input(body, file=None) -> tuple[str | None, dict | None]:
    """``(text, mapping)`` of an upload: a page's file (its content is the text) or form, the
    API's JSON body (``{"text"}``, ``{"plan"}`` or the plan itself) or its raw text body."""
    if file:
        body = {"text": file.read().decode("utf-8-sig", errors="replace")}
    if isinstance(body, str):
        errors: list[dict] = []
        text = check("text", body, PLAN_TEXT, errors)
        if errors:
            raise Invalid("预案全文有误。", errors)
        return text, None
    if hasattr(body, "getlist") or (isinstance(body, dict) and ("text" in body or "plan" in body)):
        fields = parse(UPLOAD_FIELDS, body)
        return fields["text"], fields["plan"]
    if not isinstance(body, dict):
        raise Invalid("请求体必须是 JSON 对象。", [{"field": "", "message": "请求体必须是 JSON 对象"}])
    return None, body


def _parse_upload(text: str | None, data: dict | None) -> rl.Plan:
    try:
        if data is not None:
            return rl.load_plan(data)
        if text is not None and text.strip():
            return rl.parse_plan_text(text)
    except rl.PlanError as exc:
        raise Invalid(f"预案不符合格式要求，共 {len(exc.errors)} 处问题。", exc.to_list()) from None
    raise Invalid("请提供预案内容（YAML 或 JSON）。", [{"field": "text", "message": "不能为空"}])


def _check_plan_geography(plan: rl.Plan) -> list[dict]:
    """The plan's jurisdiction exists, and its unit level is not above its jurisdiction."""
    errors = []
    jurisdiction = plan.jurisdiction_code
    if jurisdiction == codes.NATIONAL:
        level = "nation"
    else:
        region = find_region(jurisdiction)
        if region is None:
            errors.append({"field": "jurisdiction_code",
                           "message": f"区划 {jurisdiction} 不在系统中（请先导入区划）"})
            return errors
        level = region.level
    if DEPTH[plan.unit_level] < DEPTH.get(level, 0):
        errors.append({"field": "unit_level",
                       "message": f"{plan.unit_level} 高于预案的管辖层级 {level}：预案只能评估本辖区或其下级单元"})
    return errors


def _checked_plan(body, file) -> tuple[rl.Plan, str | None]:
    """The uploaded plan and its text, once it reads, fits its columns and its geography."""
    text, data = _upload_input(body, file)
    plan = _parse_upload(text, data)
    errors = [{"field": name, "message": f"长度不能超过 {limit}"}
              for name, limit in _LENGTHS if len(str(getattr(plan, name))) > limit]
    if errors:
        raise Invalid("预案的编号、版本或名称过长。", errors)
    errors = _check_plan_geography(plan)
    if errors:
        raise Invalid("预案的管辖区划有误。", errors)
    return plan, text


def upload_plan(user, body, file=None) -> ContingencyPlan:
    """Store a new version of a plan: ``body`` is the API's JSON body (``{"text"}`` YAML/JSON
    text, ``{"plan"}`` a parsed mapping, or the plan mapping itself) or raw text, or a page's
    posted form (its ``text``), whose uploaded ``file`` takes precedence.

    The new version becomes the active one; older versions are kept, inactive, so decisions
    keep the version they were made under. The same plan id and version twice is a 409.
    """
    require(user, "plan.upload")
    plan, text = _checked_plan(body, file)
    require(user, "plan.upload", plan.jurisdiction_code)
    existing = db.session.scalars(lock_for_update(
        select(ContingencyPlan).filter_by(plan_id=plan.id))).all()
    if any(row.version == plan.version for row in existing):
        raise Conflict(f"预案 {plan.id} 的版本 {plan.version} 已存在：上传新版本时请修改 version。",
                       [{"field": "version", "message": "该版本已存在"}])
    previous = next((row.version for row in existing if row.active), None)
    for row in existing:
        row.active = False
    row = ContingencyPlan(plan_id=plan.id, version=plan.version, name=plan.name,
                          jurisdiction_code=plan.jurisdiction_code, unit_level=plan.unit_level,
                          document=rl.dump_plan(plan), source_text=text,
                          uploaded_by_id=getattr(user, "id", None),
                          uploaded_by=getattr(user, "username", None) or "system",
                          uploaded_at=utcnow(), active=True)
    db.session.add(row)
    audit.record(user, "plan.upload", "contingency_plan", f"{plan.id}@{plan.version}",
                 before={"active_version": previous} if previous else None,
                 after={"plan_id": plan.id, "version": plan.version, "name": plan.name},
                 region_code=plan.jurisdiction_code)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(f"预案 {plan.id} 的版本 {plan.version} 已由他人同时上传。") from None
    return row


# --- Activation -------------------------------------------------------------------------------

def set_plan_activation(user, plan_id: str, data) -> ContingencyPlan:
    """Put a version of a plan in force (``active``), or retire the plan (no version active).
    ``data`` (:data:`ACTIVATION_FIELDS`) is the API's JSON body or a page's posted form."""
    require(user, "plan.upload")
    fields = parse(ACTIVATION_FIELDS, data)
    active, version = fields["active"], fields["version"]
    versions = db.session.scalars(lock_for_update(
        select(ContingencyPlan).filter_by(plan_id=plan_id)
        .order_by(ContingencyPlan.uploaded_at, ContingencyPlan.id))).all()
    if not versions:
        raise NotFound(f"预案 {plan_id} 不存在。")
    require(user, "plan.upload", versions[-1].jurisdiction_code)
    target = versions[-1]
    if version is not None:
        target = next((v for v in versions if v.version == version), None)
        if target is None:
            raise Invalid(f"预案 {plan_id} 没有版本 {version}。",
                          [{"field": "version", "message": "版本不存在"}])
    before = next((v.version for v in versions if v.active), None)
    for row in versions:
        row.active = active and row is target
    audit.record(user, "plan.activate" if active else "plan.retire", "contingency_plan", plan_id,
                 before={"active_version": before},
                 after={"active_version": target.version if active else None},
                 region_code=target.jurisdiction_code)
    db.session.commit()
    return target
