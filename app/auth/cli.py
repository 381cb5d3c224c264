"""``flask --app wsgi users create|set-password|deactivate|activate|revoke-tokens|unlock|list``."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup

from ..errors import ServiceError
from ..extensions import db
from .service import (Reset, cli_create_user, cli_revoke_tokens, cli_set_active, cli_set_password,
                      cli_unlock, cli_users)


@click.group("users", cls=AppGroup, help="用户管理 (users).")
def users_cli():
    pass


def _refused(exc) -> click.ClickException:
    return click.ClickException(exc.detail + " " + "; ".join(
        f"{e['field']}: {e['message']}" for e in exc.errors))


@users_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, help="admin, coordinator, officer, depot_manager, auditor")
@click.option("--region", "region_code", required=True, help="管辖区划代码或名称；000000 为全国")
@click.option("--password", required=True, help="至少 8 位，含字母、数字、符号中的至少两类")
@click.option("--full-name", default="")
def create_user(username, role, region_code, password, full_name):
    """Create a user with a role and a jurisdiction."""
    try:
        user = cli_create_user(username, role, region_code, password, full_name)
    except ServiceError as exc:
        raise _refused(exc) from exc
    click.echo(f"已创建用户 {user.username}（{user.role}，管辖 {user.region_code}）")


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password", help="新密码（不给则提示输入，不回显）")
@click.option("--generate", is_flag=True, help="生成一次性临时密码并打印；用户登录后必须修改")
def set_password(username, password, generate):
    """Set a user's password (a lost demo password too): prompts, --password, or --generate.
    Ends the user's sessions and tokens and lifts a sign-in lock-out."""
    if generate and password:
        raise click.UsageError("--generate 与 --password 不能同时使用。")
    if not generate and password is None:
        password = click.prompt("新密码", hide_input=True, confirmation_prompt="再次输入新密码")
    try:
        result = cli_set_password(username, None if generate else password)
    except ServiceError as exc:
        raise _refused(exc) from exc
    finally:
        db.session.remove()
    if isinstance(result, Reset):
        click.echo(f"用户 {username} 的临时密码（只显示这一次；只能登录一次，登录后必须修改）：")
        click.echo(f"  {result.password}")
        local = result.expires_at.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
        click.echo(f"有效期至 {local:%Y-%m-%d %H:%M}（{current_app.config['TIMEZONE']}）。")
    else:
        click.echo(f"已设置用户 {username} 的密码；其原有会话和令牌已作废。")


@users_cli.command("deactivate")
@click.argument("username")
def deactivate_user(username):
    """Deactivate a user: their sessions and tokens end at once."""
    _set_active(username, False)


@users_cli.command("activate")
@click.argument("username")
def activate_user(username):
    """Reactivate a user."""
    _set_active(username, True)


def _set_active(username: str, active: bool) -> None:
    try:
        cli_set_active(username, active)
    except ServiceError as exc:
        raise _refused(exc) from exc
    finally:
        db.session.remove()
    click.echo(f"已{'启用' if active else '停用'}用户 {username}。")


@users_cli.command("revoke-tokens")
@click.argument("username")
def revoke_tokens(username):
    """Revoke every API token of a user."""
    try:
        count = cli_revoke_tokens(username)
    except ServiceError as exc:
        raise _refused(exc) from exc
    finally:
        db.session.remove()
    click.echo(f"已作废用户 {username} 的 {count} 个令牌。")


@users_cli.command("unlock")
@click.argument("username")
def unlock_user(username):
    """Lift the sign-in lock-out of an account (its failed sign-ins are forgiven)."""
    cli_unlock(username)
    db.session.remove()
    click.echo(f"已解除账户 {username} 的登录锁定。")


@users_cli.command("list")
def list_users():
    """Every user: name, role, jurisdiction, status, live sessions."""
    rows = cli_users()
    for user, region_name, sessions in rows:
        status = "启用" if user.active else "停用"
        if user.active and user.must_change_password:
            status = "待改密码"
        click.echo(f"{user.username:<16} {user.role:<14} {user.region_code:<12} {region_name or '':<12} "
                   f"{status:<6} 会话 {sessions}")
    click.echo(f"共 {len(rows)} 个用户。")
    db.session.remove()
