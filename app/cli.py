"""Command line: ``flask --app wsgi users create``, ``regions import``, ``demo load``."""
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


@users_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, help="admin, coordinator, officer, depot_manager, auditor")
@click.option("--region", "region_code", required=True, help="管辖区划代码；000000 为全国")
@click.option("--password", required=True, help="至少 8 位")
@click.option("--full-name", default="")
def create_user(username, role, region_code, password, full_name):
    """Create a user with a role and a jurisdiction."""
    from .auth.service import create_user as create
    from .errors import ServiceError

    try:
        user = create(None, username, role, region_code, password, full_name)
    except ServiceError as exc:
        raise click.ClickException(exc.detail + " " + "; ".join(
            f"{e['field']}: {e['message']}" for e in exc.errors)) from exc
    click.echo(f"已创建用户 {user.username}（{user.role}，管辖 {user.region_code}）")


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
