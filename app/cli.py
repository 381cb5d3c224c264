"""Commands of the shell itself: ``flask --app wsgi demo load``. Each area adds its own group
(``users`` in :mod:`app.auth`, ``regions`` in :mod:`app.regions`, ``depots`` …)."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from .extensions import db


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_cli)


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
