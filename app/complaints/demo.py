"""Demo step: two complaints from the public about the demo county, one answered. Idempotent."""
from __future__ import annotations

from sqlalchemy import select

from ..auth import User
from ..extensions import db
from . import service
from .models import PublicComplaint


def load_complaints(echo) -> None:
    if db.session.scalar(select(PublicComplaint.id).limit(1)) is not None:
        echo("演示投诉举报已存在，跳过。")
        return
    counties = service.county_choices()
    admin = db.session.scalar(select(User).filter_by(username="admin"))
    if not counties or admin is None:
        echo("缺少县级区划或演示管理员，跳过演示投诉举报。")
        return
    code = "140105" if "140105" in dict(counties) else counties[0][0]
    answered = service.file_complaint({
        "kind": "complaint", "subject": "amount", "programme": "transitional", "region_code": code,
        "content": "我家过渡期生活救助金 8 月份没有到账。", "anonymous": True})
    service.answer_complaint(admin, answered.id, {"answer": "经核实，因银行账户信息有误退票，已更正账户并补发。"})
    waiting = service.file_complaint({
        "kind": "tip", "subject": "misuse", "programme": "goods", "region_code": code,
        "content": "村里发放的棉被数量和公示的不一致。", "anonymous": True})
    echo(f"演示投诉举报：{answered.ticket}（已答复）、{waiting.ticket}（办理中）")
