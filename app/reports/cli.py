"""``flask reports import-photos``: move report photos kept on one host's disk (before the file
store) into the file store every instance sees. Idempotent: run it again after a partial run."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from .service import import_disk_photos, photo_dir


@click.group("reports", cls=AppGroup, help="灾情报送 (reports).")
def reports_cli():
    pass


@reports_cli.command("import-photos", help="把旧版存放在磁盘上的现场照片迁入文件存储（可重复运行）。")
@click.option("--folder", type=click.Path(file_okay=False), default=None,
              help="照片目录（默认 REPORT_PHOTO_DIR，即 instance/photos）")
@click.option("--remove", is_flag=True, help="迁入并核对后删除磁盘上的文件")
def import_photos(folder, remove):
    folder = folder or photo_dir()
    tally = import_disk_photos(folder, remove=remove)
    click.echo(f"照片目录 {folder}：迁入 {tally.imported}，已在文件存储 {tally.already}，"
               f"缺少文件 {len(tally.missing)}，内容与记录不符 {len(tally.mismatched)}"
               + (f"，已删除磁盘文件 {tally.removed}" if remove else "") + "。")
    for relative in tally.missing:
        click.echo(f"  缺少：{relative}", err=True)
    for relative in tally.mismatched:
        click.echo(f"  不符（未迁入）：{relative}", err=True)
    if tally.missing or tally.mismatched:
        raise SystemExit(1)
