"""Regions (行政区划): the administrative geography every other area hangs on.

Other areas read :class:`Region` rows and use the helpers below in their own services.
"""
from __future__ import annotations

from flask import Flask

from .models import Region
from .service import (descendant_codes, find_region, get_region, import_regions, like_contains, name_contains,
                      region_names, search_regions, subtree_condition)

__all__ = ["Region", "descendant_codes", "find_region", "get_region", "import_regions", "like_contains",
           "name_contains", "region_names", "register", "search_regions", "subtree_condition"]


def register(app: Flask) -> None:
    from . import api, cli, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="regions_api")
    app.cli.add_command(cli.regions_cli)
