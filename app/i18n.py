"""Locale selection: Chinese first (zh_CN), English on request (``?lang=en``, remembered)."""
from __future__ import annotations

from flask import Flask, has_request_context, request, session
from flask_babel import Babel


def select_locale() -> str:
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the CLI (flask demo load), the scheduler: Chinese
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    wanted = request.args.get("lang")
    if wanted in languages:
        session["lang"] = wanted
        return wanted
    if session.get("lang") in languages:
        return session["lang"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask, babel: Babel) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=translation_directories())


def translation_directories() -> str:
    """``translations`` (what every page shares) and each area's own ``<area>/translations``,
    relative to the ``app`` package, as Flask-Babel takes them; the catalogs are merged."""
    from . import areas

    return ";".join(["translations", *(f"{area.name}/translations" for area in areas.AREAS)])
