"""Demo step: the demo event's first bulletin for Shanxi, drafted by the demo coordinator and
approved by the demo admin (a second user, as every approval needs). Idempotent."""
from __future__ import annotations

from sqlalchemy import select

from ..auth import User
from ..extensions import db
from ..reports import Event
from . import service
from .models import Release


def load_releases(echo) -> None:
    users = {u.username: u for u in db.session.scalars(
        select(User).where(User.username.in_(["coordinator", "admin"]))).all()}
    event = db.session.scalars(select(Event).order_by(Event.id.desc())).first()
    if len(users) < 2 or event is None:
        echo("缺少演示用户或演示灾害过程，跳过演示通报。")
        return
    if db.session.scalar(select(Release.id).where(Release.event_id == event.id)) is not None:
        echo("演示通报已存在，跳过。")
        return
    release = service.draft_release(users["coordinator"], {
        "event_id": event.id, "summary": "各地全力开展抢险救灾，受灾群众基本生活得到妥善安排。",
        "relief": "省级下拨自然灾害救灾资金，调运帐篷、折叠床、棉被等救灾物资。"})
    service.approve_release(users["admin"], release.id)
    echo(f"演示通报：{release.title}（公众页面 /public/releases/{release.id}）")
