"""``flask --app wsgi regions import FILE``: regions from GeoJSON, GeoPackage, zipped Shapefile or CSV."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..extensions import db


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

    from .service import import_regions as run_import

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
