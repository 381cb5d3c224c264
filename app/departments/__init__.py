"""Department sharing (部门共享, domain.md §3b): 教育, 住建, 人社, 卫健, 公安 and 财政 accounts see
the households of their jurisdiction with only the fields their task needs, every access audited;
住建's house-safety appraisals set a household's damage class through
:func:`app.cycles.set_damage_class`.

No other area reads the departments."""
from __future__ import annotations

from flask import Flask

__all__ = ["register"]


def register(app: Flask) -> None:
    from . import views

    app.register_blueprint(views.bp)
