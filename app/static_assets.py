"""Serve the front-end libraries shipped by XStatic packages, so no page needs the internet.

``url_for("xstatic", lib="leaflet", filename="leaflet.js")``.
"""
from __future__ import annotations

import importlib

from flask import Flask, abort, send_from_directory

XSTATIC = {
    "leaflet": "xstatic.pkg.leaflet",
    "markercluster": "xstatic.pkg.leaflet_markercluster",
    "jquery": "xstatic.pkg.jquery",
    "fontawesome": "xstatic.pkg.font_awesome",
}


def xstatic_dir(lib: str) -> str:
    return importlib.import_module(XSTATIC[lib]).BASE_DIR


def init_app(app: Flask) -> None:
    dirs = {lib: xstatic_dir(lib) for lib in XSTATIC}

    @app.route("/xstatic/<lib>/<path:filename>", endpoint="xstatic")
    def _xstatic(lib: str, filename: str):
        if lib not in dirs:
            abort(404)
        return send_from_directory(dirs[lib], filename, max_age=86400)
