"""Command line: ``flask --app wsgi users create|set-password|deactivate|activate|revoke-tokens|unlock|list``,
``regions import``, ``demo load``."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from flask import Flask

from .extensions import db


def init_app(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(regions_cli)
    app.cli.add_command(demo_cli)


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
    from .auth.service import create_user as create
    from .errors import ServiceError

    try:
        user = create(None, username, role, region_code, password, full_name)
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
    from .auth.service import Reset, cli_set_password
    from .errors import ServiceError

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
        from zoneinfo import ZoneInfo

        from flask import current_app

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
    from .auth.service import cli_set_active
    from .errors import ServiceError

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
    from .auth.service import cli_revoke_tokens
    from .errors import ServiceError

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
    from .auth.service import cli_unlock

    cli_unlock(username)
    db.session.remove()
    click.echo(f"已解除账户 {username} 的登录锁定。")


@users_cli.command("list")
def list_users():
    """Every user: name, role, jurisdiction, status, live sessions."""
    from .auth.service import cli_users

    rows = cli_users()
    for user, region_name, sessions in rows:
        status = "启用" if user.active else "停用"
        if user.active and user.must_change_password:
            status = "待改密码"
        click.echo(f"{user.username:<16} {user.role:<14} {user.region_code:<12} {region_name or '':<12} "
                   f"{status:<6} 会话 {sessions}")
    click.echo(f"共 {len(rows)} 个用户。")
    db.session.remove()


@click.group("regions", cls=AppGroup, help="行政区划 (regions).")
def regions_cli():
    pass


@regions_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--skip-bad", is_flag=True, help="跳过有错误的行，导入其余行")
@click.option("--from-gcj02", is_flag=True, help="输入坐标为 GCJ-02（国内网络地图坐标），转换为 WGS-84")
def import_regions(path, skip_bad, from_gcj02):
    """Import regions from GeoJSON, GeoPackage, zipped Shapefile or CSV.

    Every failure ends in one message and exit code 1, never a traceback: a file that cannot be
    read at all (malformed GeoJSON, a damaged zip, a zip bomb, a Shapefile missing parts), rows
    with errors (each named; nothing imported unless --skip-bad), or a database refusal
    (nothing imported).
    """
    from flask import current_app
    from sqlalchemy.exc import SQLAlchemyError

    import gis

    from .regions.service import import_regions as run_import

    click.echo(f"读取 {path} …")
    try:
        with click.progressbar(length=1, label="读取文件") as bar:
            def read_progress(done, total):
                bar.length = max(total, done, 1)
                bar.update(done - bar.pos)

            result = gis.read_region_file(
                path, from_gcj02=from_gcj02, progress=read_progress,
                max_unzipped_bytes=int(current_app.config["REGION_FILE_MAX_UNZIPPED_BYTES"]))
    except gis.RegionFileError as exc:
        raise click.ClickException(f"无法导入 {path}：{exc}。未导入任何数据。") from exc
    except MemoryError as exc:
        raise click.ClickException(f"文件 {path} 过大，内存不足。未导入任何数据。") from exc
    except Exception as exc:  # any other parser failure is still a property of the file
        reason = (str(exc).strip().splitlines() or [""])[0][:300]
        raise click.ClickException(f"无法读取 {path}（{type(exc).__name__}：{reason}）。未导入任何数据。") from exc
    try:
        with click.progressbar(length=max(len(result.records), 1), label="导入区划") as bar:
            state = {"done": 0}

            def progress(done, _total):
                bar.update(done - state["done"])
                state["done"] = done

            outcome = run_import(None, result.records, result.errors, skip_bad=skip_bad, source=str(path),
                                 progress=progress)
    except SQLAlchemyError as exc:
        db.session.rollback()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
        raise click.ClickException(f"数据库拒绝写入（{reason}），未导入任何数据。") from exc
    for error in outcome.errors:
        click.echo(f"第 {error.row} 行  字段 {error.field}：{error.reason}", err=True)
    if outcome.errors and not skip_bad:
        raise click.ClickException(f"文件有 {len(outcome.errors)} 处错误，未导入任何数据（可加 --skip-bad 跳过错误行）。")
    click.echo(f"已导入 {outcome.imported} 个区划；跳过 {outcome.skipped_rows} 行。")


@click.group("demo", cls=AppGroup, help="演示数据 (demo).")
def demo_cli():
    pass


@demo_cli.command("load")
def load_demo():
    """Load the demo province (Shanxi), users, depots and plans. Idempotent."""
    from .demo import load

    for line in load(echo=click.echo):
        click.echo(line)
    db.session.remove()
