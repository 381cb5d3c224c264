"""Notifications (通知): every user's in-app list and the outbound adapters (log, email, SMS).

Other areas send with :func:`notify` (to the users :func:`coordinators_covering` a region, for
example); each user reads and marks their own on the notifications page or the API. Outbound
messages wait in an outbox written with the change and go out after it commits
(:mod:`.delivery`, the ``notifications.deliver`` job, ``flask notifications deliver``).
"""
from __future__ import annotations

from flask import Flask

from .models import Notification
from .service import coordinators_covering, goods, listing, notify, unread_count

__all__ = ["Notification", "coordinators_covering", "goods", "listing", "notify", "register", "unread_count"]


def register(app: Flask) -> None:
    from flask_login import current_user

    from . import api, cli, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="notifications_api")
    app.cli.add_command(cli.notifications_cli)

    @app.context_processor
    def _notification_globals():
        # the bell in the navigation bar
        return {"unread_notifications": lambda: unread_count(current_user)
                if current_user.is_authenticated else 0}
