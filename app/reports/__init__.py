"""Loss reporting (灾情报送): events, initial/update/verified reports, roll-up and deadlines."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from . import models  # noqa: F401  (tables)
