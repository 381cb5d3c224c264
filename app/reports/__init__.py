"""Loss reporting (灾情报送): events, initial/update/verified reports, roll-up and deadlines."""
from __future__ import annotations

from flask import Flask

#: Settings of this area that ``app/config.py`` does not define; instance config and
#: ``JIUZAI_*`` variables still override them.
DEFAULTS = {
    "REPORT_MAJOR_MIN_PHOTOS": 3,  # 重大灾害: photos per report asked by the national system
    "REPORT_PHOTO_MAX_PER_REPORT": 20,
}


def register(app: Flask) -> None:
    from . import api, views  # both import .models, which declares the tables

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="reports_api")
