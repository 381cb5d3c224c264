"""Relief materials (救灾物资): catalogue and norms, depots, the stock ledger, demand,
allocation, dispatch orders (调拨单) and supply requests (申请). The pure rules live in
:mod:`stockpile`; this area stores them and serves them."""
from __future__ import annotations

import click
from flask import Flask

from .models import TIERS, Item
from .service import depot_stock_table, dispatches_in_transit, list_items

__all__ = ['Item', 'TIERS', 'depot_stock_table', 'dispatches_in_transit', 'list_items', 'register']
from flask.cli import AppGroup


def register(app: Flask) -> None:
    from . import api, models, views  # noqa: F401  (models: tables)

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="depots_api")
    app.cli.add_command(depots_cli)


@click.group("depots", cls=AppGroup, help="救灾物资 (depots and stock).")
def depots_cli():
    pass


@depots_cli.command("catalogue")
def catalogue_command():
    """Add the shipped catalogue items and, when none exist, the default demand norms."""
    from ..extensions import db
    from . import service

    added = service.ensure_catalogue()
    norms = service.ensure_default_norms()
    db.session.commit()
    click.echo(f"物资目录新增 {added} 项；" + ("已写入默认需求定额。" if norms else "需求定额已存在，未改动。"))


@depots_cli.command("check")
@click.option("--depot", default=None, help="只检查一个物资库")
def check_command(depot):
    """Check that every stock balance equals the sum of its ledger lines."""
    from . import service

    mismatches = service.check_ledger(depot)
    for m in mismatches:
        click.echo(f"不一致：{m.depot_code} {m.item_code} 批次 {m.lot or '-'} 有效期 {m.expiry or '-'}："
                   f"结存 {m.balance}，台账合计 {m.ledger_sum}")
    if mismatches:
        raise click.ClickException(f"{len(mismatches)} 处库存与台账不一致")
    click.echo("库存与台账一致。")
