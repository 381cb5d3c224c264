"""``flask demo load``: the demo province and everything that hangs on it. Idempotent.

Each step is ``module:function`` taking ``echo`` and returning nothing; a step must itself be
idempotent (it checks what is there before it adds).
"""
from __future__ import annotations

import importlib
from typing import Callable, Iterator

STEPS: tuple[tuple[str, str], ...] = (
    ("区划（山西省）", "app.regions.demo:load_regions"),
    ("演示用户", "app.auth.demo:load_users"),
    ("应急预案", "app.responses.demo:load_plans"),
    ("物资目录、物资库与库存", "app.depots.demo:load_depots"),
    ("演示灾害过程与灾情", "app.reports.demo:load_event"),
    ("救助周期", "app.cycles.demo:load_cycles"),
)


def load(echo: Callable[[str], None] = print) -> Iterator[str]:
    for label, target in STEPS:
        module_name, function_name = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        yield f"== {label}"
        getattr(module, function_name)(echo)
    yield "演示数据已就绪。"
