"""Every periodic job, declared as data with a stable id (as redash's ``tasks/schedule.py``).

The scheduler process (:mod:`app.scheduler`) reconciles APScheduler with :data:`JOBS` at
start-up (``replace_existing=True``; jobs no longer listed are removed), and
``flask --app wsgi scheduler run-due --now ISO`` runs whatever is due at an instant. A job is a
function ``(now, run)`` — ``now`` is the scheduled fire time (aware), ``run`` gives
``run.heartbeat()`` for long jobs — returning a JSON-able summary. Each (job, fire time) runs
exactly once: see :class:`app.scheduler.JobRun`.

Triggers are APScheduler cron fields in the scheduler's time zone (``SCHEDULER_TIMEZONE``).
``trigger_key`` names a configuration key that replaces the default trigger;
``SCHEDULER_TRIGGERS[job_id]`` overrides any job's trigger fields. ``catchup`` is how far back a
missed fire time is still run (after downtime, or for a duplicate trigger: never twice).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Mapping


@dataclass(frozen=True)
class JobSpec:
    id: str
    name: str
    func: str  # "module:function"
    trigger: Mapping = field(default_factory=dict)
    catchup: timedelta = timedelta(hours=1)
    trigger_key: str | None = None
    description: str = ""


JOBS: tuple[JobSpec, ...] = (
    JobSpec("reports.deadlines", "灾情报送时限检查", "app.reports.jobs:deadlines_job",
            {"minute": "*/15"}, timedelta(hours=1),
            description="初报、续报、核报到期提醒与逾期告警（每 15 分钟）。"),
    JobSpec("notifications.deliver", "发送通知", "app.notifications.jobs:deliver_job",
            {"minute": "*"}, timedelta(minutes=5),
            description="事务提交后逐条发送短信、邮件等外发通知，失败按间隔加倍重试（每分钟）。"),
    JobSpec("responses.refresh", "应急响应评估刷新", "app.responses.jobs:refresh_job",
            {"minute": "*"}, timedelta(minutes=5),
            description="集中报送期间被标记为过期的灾情评估，每分钟重新评估并通知协调员。"),
    JobSpec("cycles.rolls", "生成发放批次", "app.cycles.jobs:generate_rolls",
            {"hour": 6, "minute": 0}, timedelta(days=7),
            description="为发放中的救助周期生成当期到期款项的发放批次（过渡期按月、冬春按月、重建按进度、一次性救助）。"),
    JobSpec("cycles.winter_spring.open_survey", "开启冬春救助调查", "app.cycles.jobs:open_winter_spring",
            {"month": 9, "day": 20, "hour": 8, "minute": 0}, timedelta(days=60),
            trigger_key="CYCLE_WINTER_SPRING_SURVEY_TRIGGER",
            description="每年 9 月下旬为各县开启冬春生活救助调查摸底。"),
    JobSpec("cycles.winter_spring.deadlines", "冬春救助上报与春节前发放提醒",
            "app.cycles.jobs:winter_spring_deadlines", {"hour": 8, "minute": 30}, timedelta(days=2),
            description="县 10 月 15 日、市 10 月 20 日、省 10 月 25 日报送需救助情况统计表的提醒与逾期告警；春节前未发放告警。"),
    JobSpec("cycles.reconstruction.progress", "重建进度报告逾期提醒",
            "app.cycles.jobs:reconstruction_progress", {"hour": 9, "minute": 0}, timedelta(days=2),
            description="倒损住房恢复重建进度报告按周期（默认每 20 天）到期未报的告警。"),
    JobSpec("cycles.notices", "公示期满提醒", "app.cycles.jobs:notices_ended",
            {"hour": 8, "minute": 0}, timedelta(days=2),
            description="公示期已满、待县级审定的救助周期与补充名册提醒。"),
    JobSpec("complaints.escalate", "投诉举报逾期督办", "app.complaints.jobs:escalate_overdue",
            {"hour": 8, "minute": 45}, timedelta(days=2),
            description="超过办理时限（默认 15 个工作日）未答复的公众投诉举报，逐级上报督办。"),
)


def by_id() -> dict[str, JobSpec]:
    return {spec.id: spec for spec in JOBS}
