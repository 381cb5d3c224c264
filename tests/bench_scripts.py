"""Test support: load a script of ``bench/`` as a module (they are scripts, not a package)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[1] / "bench"


def load(name: str) -> ModuleType:
    """A fresh module from ``bench/<name>.py``, registered in ``sys.modules`` as
    ``_bench_<name>_under_test`` (dataclasses look their module up there)."""
    spec = importlib.util.spec_from_file_location(f"_bench_{name}_under_test", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
