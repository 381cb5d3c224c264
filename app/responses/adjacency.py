"""Adjacent provinces (相邻省份), for 联动启动 of the 2024 national plan.

Source: the land borders of the 31 provincial-level divisions of the mainland as drawn on the
standard map of China (标准地图, 自然资源部), read off by hand and listed once per pair below;
the table is made symmetric on import. Hainan (46) has no land border: it is paired with
Guangdong (44) across the Qiongzhou Strait (琼州海峡), which typhoons cross as one process.
Hong Kong, Macao and Taiwan are outside the system. Counties and prefectures have no table:
linkage is a provincial rule of the national plans.
"""
from __future__ import annotations

from gis import codes

#: Each pair once, by the two-digit province prefix.
BORDERS: tuple[tuple[str, str], ...] = (
    ("11", "12"), ("11", "13"),
    ("12", "13"),
    ("13", "14"), ("13", "15"), ("13", "21"), ("13", "37"), ("13", "41"),
    ("14", "15"), ("14", "41"), ("14", "61"),
    ("15", "21"), ("15", "22"), ("15", "23"), ("15", "61"), ("15", "62"), ("15", "64"),
    ("21", "22"),
    ("22", "23"),
    ("31", "32"), ("31", "33"),
    ("32", "33"), ("32", "34"), ("32", "37"),
    ("33", "34"), ("33", "35"), ("33", "36"),
    ("34", "36"), ("34", "37"), ("34", "41"), ("34", "42"),
    ("35", "36"), ("35", "44"),
    ("36", "42"), ("36", "43"), ("36", "44"),
    ("37", "41"),
    ("41", "42"), ("41", "61"),
    ("42", "43"), ("42", "50"), ("42", "61"),
    ("43", "44"), ("43", "45"), ("43", "50"), ("43", "52"),
    ("44", "45"), ("44", "46"),
    ("45", "52"), ("45", "53"),
    ("50", "51"), ("50", "52"), ("50", "61"),
    ("51", "52"), ("51", "53"), ("51", "54"), ("51", "61"), ("51", "62"), ("51", "63"),
    ("52", "53"),
    ("53", "54"),
    ("54", "63"), ("54", "65"),
    ("61", "62"), ("61", "64"),
    ("62", "63"), ("62", "64"), ("62", "65"),
    ("63", "65"),
)

PROVINCES: tuple[str, ...] = (
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65",
)


def _build() -> dict[str, frozenset[str]]:
    neighbours: dict[str, set[str]] = {p: set() for p in PROVINCES}
    for a, b in BORDERS:
        neighbours[a].add(b)
        neighbours[b].add(a)
    return {p + "0000": frozenset(n + "0000" for n in ns) for p, ns in neighbours.items()}


ADJACENT: dict[str, frozenset[str]] = _build()


def adjacent(code_a: str, code_b: str) -> bool:
    """True when two province codes share a border (a province is not adjacent to itself)."""
    a, b = codes.normalise(code_a), codes.normalise(code_b)
    return b in ADJACENT.get(a, frozenset())
