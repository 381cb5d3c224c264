"""``flask demo load``: the demo province and everything that hangs on it. Idempotent.

The steps are the ``demo`` entries of the areas in :mod:`app.areas`, by step number; each is a
``module:function`` taking ``echo`` and must itself be idempotent (it checks what is there
before it adds).
"""
from __future__ import annotations

from typing import Callable, Iterator

from . import areas


def load(echo: Callable[[str], None] = print) -> Iterator[str]:
    steps = sorted(step for area in areas.AREAS for step in area.demo)
    for _step, label, target in steps:
        yield f"== {label}"
        areas.resolve(target)(echo)
    yield "演示数据已就绪。"
