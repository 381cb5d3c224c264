"""The ``flask depots`` commands: add the shipped catalogue and default norms, and check that
every stock balance equals the sum of its ledger lines."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..extensions import db
from . import service


@click.group("depots", cls=AppGroup, help="救灾物资 (depots and stock).")
def depots_cli():
    pass


@depots_cli.command("catalogue")
def catalogue_command():
    """Add the shipped catalogue items and, when none exist, the default demand norms."""
    added = service.ensure_catalogue()
    norms = service.ensure_default_norms()
    db.session.commit()
    click.echo(f"物资目录新增 {added} 项；" + ("已写入默认需求定额。" if norms else "需求定额已存在，未改动。"))


@depots_cli.command("check")
@click.option("--depot", default=None, help="只检查一个物资库")
def check_command(depot):
    """Check that every stock balance equals the sum of its ledger lines."""
    mismatches = service.check_ledger(depot)
    for m in mismatches:
        click.echo(f"不一致：{m.depot_code} {m.item_code} 批次 {m.lot or '-'} 有效期 {m.expiry or '-'}："
                   f"结存 {m.balance}，台账合计 {m.ledger_sum}")
    if mismatches:
        raise click.ClickException(f"{len(mismatches)} 处库存与台账不一致")
    click.echo("库存与台账一致。")
