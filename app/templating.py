"""Template globals and filters shared by every page."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_login import current_user

from .permissions import ROLE_LABELS, can

#: (endpoint, label, Font Awesome icon, action the user needs); shown when the endpoint exists.
NAV = (
    ("reports.events", "灾情", "fa-triangle-exclamation", "event.view"),
    ("dashboard.index", "地图", "fa-map-location-dot", "dashboard.view"),
    ("responses.plans", "预案", "fa-book", "plan.view"),
    ("depots.index", "物资", "fa-boxes-stacked", "depot.view"),
    ("cycles.index", "救助", "fa-hand-holding-heart", "cycle.view"),
    ("regions.browse", "区划", "fa-sitemap", "region.view"),
    ("auth.users", "用户", "fa-users", "user.view"),
    ("audit.index", "审计", "fa-clipboard-list", "audit.view"),
    ("auth.account", "我的账户", "fa-user-gear", "account.view"),
)


def init_app(app: Flask) -> None:
    @app.context_processor
    def _globals():
        from flask_babel import get_locale

        return {"nav_items": nav_items, "role_label": ROLE_LABELS.get, "can": can,
                "get_locale": get_locale}

    @app.template_filter("localtime")
    def _localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if value is None:
            return ""
        return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(fmt)


def nav_items():
    views = current_app.view_functions
    return [(endpoint, label, icon) for endpoint, label, icon, action in NAV
            if endpoint in views and can(current_user, action)]
