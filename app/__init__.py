"""Jiuzai (救灾): the Flask shell around the pure ``response_levels``, ``stockpile`` and ``gis``
libraries. ``create_app`` serves gunicorn (``wsgi.py``), the CLI, the tests and the scheduler."""
from __future__ import annotations

import importlib
import os

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from . import areas, ratelimit, security, storage  # ratelimit registers the database:// storage
from .config import Defaults
from .extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate


class StrictJSONProvider(DefaultJSONProvider):
    """JSON as RFC 8259 has it: ``NaN`` and ``Infinity`` in a request body are invalid input
    (a 400/422), never a float that poisons totals and later responses."""

    ensure_ascii = False

    def loads(self, s, **kwargs):
        kwargs.setdefault("parse_constant", _reject_constant)
        return super().loads(s, **kwargs)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the application: defaults, then the instance folder and ``JIUZAI_*`` variables,
    then ``test_config``. Outside testing it refuses to start without a secret key of its own
    (``instance/secret_key`` when no configuration sets one; see :mod:`app.security`).
    ``instance_path`` replaces the ``instance/`` folder next to the package."""
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.json = StrictJSONProvider(app)
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("JIUZAI")
    if os.environ.get("JIUZAI_SECRET_KEY"):
        # As typed, not parsed as JSON: a key of digits (or "1e5…") must stay the same string.
        app.config["SECRET_KEY"] = os.environ["JIUZAI_SECRET_KEY"]
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    security.configure_secret_key(app)
    security.configure_transport(app)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        path = os.path.join(app.instance_path, "jiuzai.sqlite")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    engine_options: dict = {"pool_pre_ping": True}
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        engine_options["connect_args"] = {"timeout": 30}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**engine_options, **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    ratelimit.init_app(app, limiter)
    bootstrap.init_app(app)

    from . import database, errors, i18n, input_guard, static_assets, templating, uploads

    database.init_app(app)
    i18n.init_app(app, babel)
    # input no view may accept (control characters, ids beyond their column) is refused first
    input_guard.init_app(app)
    errors.init_app(app)
    uploads.init_app(app)
    security.init_app(app)
    storage.init_app(app)
    static_assets.init_app(app)
    templating.init_app(app)

    from . import cli, models_common, openapi, scheduler  # noqa: F401  (models_common: tables every area uses)

    for area in areas.AREAS:
        # an area that fails to import stops the application here, loudly
        importlib.import_module(f"{__name__}.{area.name}").register(app)
        if area.home_panel:
            areas.resolve(area.home_panel)

    openapi.init_app(app)
    cli.init_app(app)
    scheduler.init_app(app)
    return app
