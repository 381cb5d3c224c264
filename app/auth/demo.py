"""One demo user per role (and an officer of a township and of a village below the demo county),
with a password printed once."""
from __future__ import annotations

from sqlalchemy import select

from gis import codes

from ..extensions import db
from ..regions import find_region
from .models import User
from .service import cli_create_user, generate_password

DEMO_USERS = (
    ("admin", "admin", "000000", "系统管理员（全国）"),
    ("coordinator", "coordinator", "140000", "山西省减灾委协调员"),
    ("officer", "officer", "140105", "小店区灾害信息员"),
    ("depot", "depot_manager", "140000", "山西省救灾物资库管理员"),
    ("auditor", "auditor", "140000", "山西省审计员"),
    ("finance", "finance", "140105", "小店区财政局财务人员"),
    # below the county: the township's 乡审 and the village's 民主评议, hand-outs on the phone
    ("township", "officer", "140105101", "示例镇01民政助理员"),
    ("village", "officer", "140105101201", "示例村001村文书"),
)

RECOVER = "忘记密码时，运行 flask --app wsgi users set-password admin（或其他用户名）重新设置。"


def load_users(echo) -> None:
    made = []
    for username, role, region, full_name in DEMO_USERS:
        if db.session.scalar(select(User).filter_by(username=username)) is not None:
            continue
        if region != codes.NATIONAL and find_region(region) is None:  # a geography without the demo's villages
            continue
        password = generate_password()
        cli_create_user(username, role, region, password, full_name)
        made.append((username, role, region, password))
    if not made:
        echo("演示用户已存在（密码只在首次创建时显示）。" + RECOVER)
        return
    echo("演示用户（密码只显示这一次，请妥善保存）：")
    for username, role, region, password in made:
        echo(f"  {username:<12} {role:<14} {region}  密码: {password}")
    echo(RECOVER)
