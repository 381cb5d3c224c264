"""Template globals and filters shared by every page."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_babel import get_locale
from flask_login import current_user

from . import areas
from .permissions import ROLE_LABELS, can

def init_app(app: Flask) -> None:
    @app.context_processor
    def _globals():
        return {"nav_items": nav_items, "role_label": ROLE_LABELS.get, "can": can,
                "get_locale": get_locale}

    @app.template_filter("tr")
    def _translate(value):
        """A label from data (a status, a hazard, an item's name) in the reader's language; the
        catalogs hold the labels, so a label missing from them shows as it is."""
        from flask_babel import gettext

        return gettext(str(value)) if value else value

    @app.template_filter("localtime")
    def _localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if value is None:
            return ""
        local = value.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
        if "年" in fmt and str(get_locale()) != "zh_CN":
            # a Chinese date pattern (``%Y年%m月%d日``) reads as the locale's own date
            from babel.dates import format_date, format_time

            text = format_date(local.date(), "medium", locale=get_locale())
            return text + (" " + format_time(local.time(), "HH:mm", locale=get_locale()) if "%H" in fmt else "")
        return local.strftime(fmt)


def nav_items() -> list[areas.NavEntry]:
    """The navigation entries (from :mod:`app.areas`) the signed-in user may open."""
    return [entry for entry in areas.nav_entries() if can(current_user, entry.action)]
