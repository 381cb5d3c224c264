"""Reconstruction of damaged houses (倒损住房恢复重建): the projects of a cycle (one per house),
progress reports whose stage may stay or move forward but never back, the report history, and the
progress board (重建进度看板) with overdue reports marked. Subsidies are paid by stage
(:mod:`.disbursement`)."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ... import audit
from ...errors import Conflict, NotFound
from ...extensions import db
from ...models_common import utcnow
from ...permissions import require
from ...validation import Field, validate
from ..models import Cycle, ProgressReport, ReconstructionProject
from ..rules import STAGE_LABELS, STAGES
from .base import get_cycle, may_act_on_cycle, refuse, region_names, show_id

PROGRESS_FIELDS = {
    "stage": Field("str", choices=STAGES, description="verified → started → main_structure → completed → moved_in"),
    "observed_at": Field("datetime", required=False, description="到达该阶段的时间（默认现在）"),
    "note": Field("str", required=False, default="", max_length=4000, multiline=True),
}


def _report_days() -> int:
    return current_app.config["CYCLE_RECONSTRUCTION_REPORT_DAYS"]


def projects(user, cycle_id: int) -> list[ReconstructionProject]:
    cycle = get_cycle(user, cycle_id)
    return db.session.scalars(select(ReconstructionProject).where(ReconstructionProject.cycle_id == cycle.id)
                              .order_by(ReconstructionProject.id)).all()


def project_dicts(user, cycle_id: int) -> list[dict]:
    """A cycle's projects as ``user`` may see them, with the next report's due time."""
    cycle = get_cycle(user, cycle_id)
    show, days = show_id(user, cycle.region_code), _report_days()
    return [p.to_dict(show_id=show, report_days=days) for p in projects(user, cycle_id)]


def get_project(user, project_id: int) -> ReconstructionProject:
    """A project, once ``user`` may see its cycle."""
    project = db.session.get(ReconstructionProject, project_id)
    if project is None:
        raise NotFound(f"重建项目 {project_id} 不存在。")
    get_cycle(user, project.cycle_id)
    return project


def project_dict(user, project_id: int) -> dict:
    project = get_project(user, project_id)
    cycle = db.session.get(Cycle, project.cycle_id)
    return project.to_dict(show_id=show_id(user, cycle.region_code), report_days=_report_days())


def report_progress(user, project_id: int, data) -> ReconstructionProject:
    """Report a house's progress (a JSON body or the board's form); the stage may stay or move
    forward (never back)."""
    project = db.session.get(ReconstructionProject, project_id)
    if project is None:
        raise NotFound(f"重建项目 {project_id} 不存在。")
    require(user, "household.edit", project.household.village_code)
    cycle = db.session.get(Cycle, project.cycle_id)
    now = utcnow()
    values, errors = validate(PROGRESS_FIELDS, data)
    stage, observed = values["stage"] or project.stage, values["observed_at"] or now
    refuse(errors, "进度报告有误。", _timing_errors(project, observed, now))
    _check_forward(cycle, project, stage)
    before = project.stage
    for name in STAGES[STAGES.index(project.stage) + 1: STAGES.index(stage) + 1]:
        setattr(project, f"{name}_at", observed)
    project.stage = stage
    project.last_report_at = now
    db.session.add(ProgressReport(project_id=project.id, stage=stage, observed_at=observed,
                                  note=values["note"][:2000], reported_by=getattr(user, "username", "system")))
    audit.record(user, "reconstruction.progress", "reconstruction_project", project.id,
                 before={"stage": before}, after={"stage": stage}, region_code=project.household.village_code)
    db.session.commit()
    return project


def _timing_errors(project: ReconstructionProject, observed, now) -> list[dict]:
    errors = []
    if observed > now + timedelta(minutes=5):
        errors.append({"field": "observed_at", "message": "不能晚于当前时间"})
    if observed < max(project.reached().values()):
        errors.append({"field": "observed_at", "message": "不能早于上一阶段的时间"})
    return errors


def _check_forward(cycle: Cycle, project: ReconstructionProject, stage: str) -> None:
    if cycle.status not in ("approved", "disbursing"):
        raise Conflict(f"救助周期处于「{cycle.status_label}」状态，不能报告进度。")
    if STAGES.index(stage) < STAGES.index(project.stage):
        raise Conflict("重建进度不能倒退。")
    if project.stage == "moved_in" and stage == "moved_in":
        raise Conflict("该户已入住，重建已完成。")


def progress_reports(user, project_id: int) -> list[ProgressReport]:
    project = get_project(user, project_id)
    return db.session.scalars(select(ProgressReport).where(ProgressReport.project_id == project.id)
                              .order_by(ProgressReport.id)).all()


def board_page(user, cycle_id: int) -> dict:
    """The progress board (重建进度看板): houses by stage, overdue reports marked."""
    cycle = get_cycle(user, cycle_id)
    days = _report_days()
    items = project_dicts(user, cycle_id)
    return {"cycle": cycle, "columns": {stage: [p for p in items if p["stage"] == stage] for stage in STAGES},
            "stage_labels": STAGE_LABELS, "overdue": sum(1 for p in items if p["report_overdue"]),
            "total": len(items), "days": days, "names": region_names(p["village_code"] for p in items),
            "can_report": may_act_on_cycle(user, cycle, "household.edit")
            and cycle.status in ("approved", "disbursing")}
