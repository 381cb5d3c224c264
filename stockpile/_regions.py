"""Region containment by code prefix (区划代码, ``domain.md`` §6), without importing ``gis``.

Codes are 6 digits down to the county (province ``PP0000``, prefecture ``PPCC00``, county
``PPCCDD``), 9 for a township and 12 for a village; ``000000`` is the nation. The zero-padded
12-digit form is accepted.
"""
from __future__ import annotations

import re

import numpy as np

NATIONAL = "000000"
_CODE = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")


def canonical_code(code: str) -> str:
    """The canonical form of ``code`` (6, 9 or 12 digits, trailing ``000`` groups dropped).

    Raises
    ------
    ValueError
        ``code`` is not a 6, 9 or 12-digit code.
    """
    text = str(code).strip()
    if not _CODE.match(text):
        raise ValueError(f"region code must have 6, 9 or 12 digits, got {code!r}")
    if len(text) == 12 and text.endswith("000"):
        text = text[:9]
    if len(text) == 9 and text.endswith("000"):
        text = text[:6]
    return text


def code_prefix(code: str) -> str:
    """The digits every code inside ``code`` starts with: ``"14"`` for ``140000``, ``""`` for
    the nation, ``"1401"`` for ``140100``, the whole code for a county, township or village."""
    text = canonical_code(code)
    if text == NATIONAL:
        return ""
    if len(text) == 6 and text.endswith("0000"):
        return text[:2]
    if len(text) == 6 and text.endswith("00"):
        return text[:4]
    return text


def prefix_contains(ancestor_code: str, code: str) -> bool:
    """Whether region ``ancestor_code`` is ``code`` or contains it (the default containment rule).

    >>> prefix_contains("140000", "140105001")
    True
    >>> prefix_contains("140105", "140106")
    False
    """
    return canonical_code(code).startswith(code_prefix(ancestor_code))


def prefix_contains_matrix(ancestors: list[str], codes: list[str]) -> np.ndarray:
    """``result[i, j] = prefix_contains(ancestors[i], codes[j])``, vectorised."""
    canonical = np.array([canonical_code(code) for code in codes], dtype=str)
    result = np.zeros((len(ancestors), len(codes)), dtype=bool)
    by_prefix: dict[str, np.ndarray] = {}
    for row, ancestor in enumerate(ancestors):
        prefix = code_prefix(ancestor)
        if prefix not in by_prefix:
            by_prefix[prefix] = np.char.startswith(canonical, prefix) if len(codes) else np.zeros(0, bool)
        result[row] = by_prefix[prefix]
    return result
