"""``flask notifications deliver|outbox``: send the outbox now, and see what waits (operators)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from .delivery import deliver_due, outbox_counts


@click.group("notifications", cls=AppGroup, help="外发通知 (notifications outbox).")
def notifications_cli():
    pass


@notifications_cli.command("deliver", help="立即发送到期的外发通知（计划任务每分钟也会发送）。")
def deliver():
    counts = deliver_due()
    click.echo(f"已发送 {counts['sent']}，待重试 {counts['retry']}，失败 {counts['failed']}，他处处理中 {counts['skipped']}。")


@notifications_cli.command("outbox", help="外发通知队列：待发送、已发送、失败各多少。")
def outbox():
    counts = outbox_counts()
    click.echo("，".join(f"{status} {counts.get(status, 0)}" for status in ("pending", "sent", "failed")))
