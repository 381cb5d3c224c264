"""Administrative division codes (行政区划代码), as ``domain.md`` §6 defines them.

Codes are 6 digits down to the county (GB/T 2260: province ``PP0000``, prefecture ``PPCC00``,
county ``PPCCDD``), 9 digits for a township (乡镇, statistical code) and 12 digits for a village
(村, statistical code). The 12-digit zero-padded form of any code (``140000000000``) is accepted
everywhere and normalised to the canonical form.

The national jurisdiction is ``000000``: every code is inside it.
"""
from __future__ import annotations

import re

NATIONAL = "000000"
LEVELS = ("province", "prefecture", "county", "township", "village")
_DIGITS = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")


class CodeError(ValueError):
    """A string that is not a valid administrative division code."""


def normalise(code: str | int) -> str:
    """Return the canonical form of ``code``: 6 digits down to county, 9 township, 12 village.

    >>> normalise("140105000000")
    '140105'
    >>> normalise("140105001000")
    '140105001'
    """
    text = str(code).strip()
    if not _DIGITS.match(text):
        raise CodeError(f"区划代码必须是 6、9 或 12 位数字 (got {text!r})")
    if len(text) == 12 and text.endswith("000"):
        text = text[:9]
    if len(text) == 9 and text.endswith("000"):
        text = text[:6]
    if text[:2] == "00" and text != NATIONAL:
        raise CodeError(f"省级代码不能为 00 (got {text!r})")
    return text


def level_of(code: str) -> str:
    """The level of a canonical code: province, prefecture, county, township or village."""
    return canonical_level(normalise(code))


def canonical_level(code: str) -> str:
    """:func:`level_of` for a code already in canonical form (from :func:`normalise`), unchecked:
    for many codes at once, once each has been normalised."""
    if code == NATIONAL:
        return "nation"
    if len(code) == 12:
        return "village"
    if len(code) == 9:
        return "township"
    if code[2:] == "0000":
        return "province"
    if code[4:] == "00":
        return "prefecture"
    return "county"


def parent_of(code: str) -> str | None:
    """The parent's canonical code, ``None`` for a province.

    Counties directly under a province (省直辖县级行政单位, e.g. ``429004``) and prefectures
    without counties follow the rule literally: the caller resolves a missing parent to the
    nearest existing ancestor with :func:`ancestors`.
    """
    return canonical_parent(normalise(code))


def canonical_parent(code: str) -> str | None:
    """:func:`parent_of` for a code already in canonical form (from :func:`normalise`), unchecked."""
    level = canonical_level(code)
    if level in ("nation", "province"):
        return None
    if level == "village":
        return code[:9]
    if level == "township":
        return code[:6]
    if level == "county":
        return code[:4] + "00"
    return code[:2] + "0000"


def ancestors(code: str) -> list[str]:
    """Every ancestor, nearest first, ending with the province."""
    out: list[str] = []
    parent = parent_of(code)
    while parent is not None:
        out.append(parent)
        parent = canonical_parent(parent)
    return out


def is_within(code: str, jurisdiction: str) -> bool:
    """True when ``code`` is the region ``jurisdiction`` or one of its descendants.

    >>> is_within("140105001200", "140000")
    True
    >>> is_within("140105", "650000")
    False
    """
    code, jurisdiction = normalise(code), normalise(jurisdiction)
    if jurisdiction == NATIONAL:
        return True
    return code == jurisdiction or jurisdiction in ancestors(code)


def prefix_of(code: str) -> str:
    """The shortest string prefix shared by ``code`` and all of its descendants.

    Useful for ``LIKE 'prefix%'`` queries over canonical codes.
    """
    code = normalise(code)
    level = level_of(code)
    return {"nation": "", "province": code[:2], "prefecture": code[:4]}.get(level, code)
