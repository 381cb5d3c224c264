"""The cycle jobs named in :data:`app.jobs.JOBS`. Each takes ``(now, run)``: ``now`` is the
scheduled fire time, so a caught-up run does exactly what the on-time run would have done."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..notifications import coordinators_covering, notify
from .models import Cycle, ReconstructionProject, Roll
from .rules import report_due
from .service import disbursement, winter


def generate_rolls(now, run):
    """``cycles.rolls``: the payment batch of every disbursing cycle for this period."""
    period = now.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date().isoformat()
    return disbursement.generate_rolls(now, period, heartbeat=run.heartbeat)


def open_winter_spring(now, run):
    """``cycles.winter_spring.open_survey``: open this year's county surveys."""
    return winter.open_surveys(now)


def winter_spring_deadlines(now, run):
    """``cycles.winter_spring.deadlines``: 15/20/25 October reminders and alerts; Spring Festival."""
    return winter.check_deadlines(now)


def reconstruction_progress(now, run):
    """``cycles.reconstruction.progress``: alert on houses whose progress report is overdue."""
    days = current_app.config["CYCLE_RECONSTRUCTION_REPORT_DAYS"]
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    rows = db.session.scalars(
        select(ReconstructionProject).join(Cycle, Cycle.id == ReconstructionProject.cycle_id)
        .where(Cycle.status.in_(("approved", "disbursing")), ReconstructionProject.stage != "moved_in")
        .order_by(ReconstructionProject.id)).all()
    overdue: dict[int, list[ReconstructionProject]] = {}
    for project in rows:
        if now > report_due(project.last_report_at, days):
            overdue.setdefault(project.cycle_id, []).append(project)
    alerts = 0
    for cycle_id, late in overdue.items():
        cycle = db.session.get(Cycle, cycle_id)
        names = "、".join(p.household.head_name for p in late[:10]) + ("等" if len(late) > 10 else "")
        day = now.astimezone(tz).date().isoformat()
        made = notify(coordinators_covering(cycle.region_code), "reconstruction.overdue",
                      "%(cycle)s：%(count)s 户重建进度报告逾期", "每 %(days)s 天应报告一次进度：%(names)s。",
                      f"/cycles/{cycle.id}/board", dedupe_key=f"rc-overdue:{cycle.id}:{day}",
                      params={"cycle": cycle.name, "count": len(late), "days": days, "names": names})
        alerts += len(made)
    db.session.commit()
    return {"overdue_projects": sum(len(v) for v in overdue.values()), "alerts": alerts}


def notices_ended(now, run):
    """``cycles.notices``: tell coordinators which notices ended and await the township's 乡审."""
    cycles = db.session.scalars(select(Cycle).where(Cycle.status == "notice", Cycle.notice_ends_at <= now)).all()
    rolls = db.session.scalars(select(Roll).where(Roll.status == "notice", Roll.notice_ends_at <= now)).all()
    told = 0
    for cycle in cycles:
        told += len(notify(coordinators_covering(cycle.region_code), "cycle.notice_ended",
                           "%(cycle)s：公示期满，待乡镇审核", "公示期已满，乡镇审核后由县级审批并冻结名册。",
                           f"/cycles/{cycle.id}", dedupe_key=f"notice-ended:{cycle.id}:{cycle.notice_ends_at.isoformat()}",
                           params={"cycle": cycle.name}))
    for roll in rolls:
        cycle = db.session.get(Cycle, roll.cycle_id)
        told += len(notify(coordinators_covering(cycle.region_code), "cycle.notice_ended",
                           "%(cycle)s：补充名册第 %(seq)s 号公示期满", "公示期已满，乡镇审核后由县级审批。",
                           f"/cycles/{cycle.id}", dedupe_key=f"roll-notice-ended:{roll.id}",
                           params={"cycle": cycle.name, "seq": roll.seq}))
    db.session.commit()
    return {"cycles": [c.id for c in cycles], "rolls": [r.id for r in rolls], "notified": told}
