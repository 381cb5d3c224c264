"""Demo plans: the plans shipped with :mod:`response_levels` (national 2016 and 2024, the
Shanxi, Xinjiang and county samples), loaded once each."""
from __future__ import annotations

from sqlalchemy import select

import response_levels as rl

from ..extensions import db
from ..models_common import utcnow
from .models import ContingencyPlan


def load_plans(echo) -> None:
    """Store each built-in plan version that is not stored yet; a plan with no active version
    gets this one in force. Running it again changes nothing."""
    added = []
    for plan_id, plan in sorted(rl.builtin_plans().items()):
        rows = db.session.scalars(select(ContingencyPlan).filter_by(plan_id=plan_id)).all()
        if any(row.version == plan.version for row in rows):
            continue
        db.session.add(ContingencyPlan(
            plan_id=plan.id, version=plan.version, name=plan.name,
            jurisdiction_code=plan.jurisdiction_code, unit_level=plan.unit_level,
            document=rl.dump_plan(plan), source_text=rl.dump_plan_text(plan),
            uploaded_by="system", uploaded_at=utcnow(), active=not any(r.active for r in rows)))
        added.append(f"{plan.id}@{plan.version}")
    db.session.commit()
    if added:
        echo("已载入预案：" + "、".join(added))
    else:
        echo("内置预案均已存在，跳过。")
