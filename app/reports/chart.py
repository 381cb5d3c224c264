"""A small SVG trend chart (趋势图), drawn on the server: no chart library, nothing to download.

:func:`small_multiples` turns a series of rolled-up figures into one panel per key indicator,
each on its own scale (deaths and affected population differ by orders of magnitude), with the
coordinates a template draws as ``<polyline>`` and ``<circle>`` elements.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from .indicators import INDICATORS

WIDTH, HEIGHT = 320, 120
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 10, 12, 24


@dataclass
class Point:
    x: float
    y: float
    value: float
    label: str
    time: str = ""  # the moment (Asia/Shanghai, ``MM-DD HH:MM``) for the tooltip


@dataclass
class Panel:
    field: str
    label: str
    unit: str
    points: list[Point] = field(default_factory=list)
    top: float = 0
    first_label: str = ""
    last_label: str = ""

    @property
    def title(self) -> str:
        """The label with its unit, once (``倒塌房屋（间）`` already carries it)."""
        unit = f"（{self.unit}）"
        return self.label if self.label.endswith(unit) else self.label + unit

    @property
    def ticks(self) -> list[tuple[float, str]]:
        """(y, text) of the value axis at round steps from 0 to the top (3 to 6 ticks)."""
        step = _nice_step(self.top)
        inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
        ticks, value = [], 0.0
        while value <= self.top * 1.0001:
            ticks.append((PAD_TOP + inner_h - value / self.top * inner_h, _fmt(value)))
            value += step
        return ticks

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def last(self) -> float:
        return self.points[-1].value if self.points else 0


def _nice_step(top: float) -> float:
    """A round step (1, 2 or 5 × 10ⁿ) dividing 0..top into at most five parts."""
    import math

    rough = top / 5 if top > 0 else 1
    power = 10 ** math.floor(math.log10(rough))
    for factor in (1, 2, 5, 10):
        if factor * power >= rough:
            return factor * power
    return 10 * power


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def small_multiples(series: list[dict], tz: ZoneInfo, fields: tuple[str, ...] | None = None) -> list[Panel]:
    """One :class:`Panel` per key indicator over ``series`` (``[{"as_of", "figures"}]``, in time
    order). x is proportional to time; y runs from 0 to the panel's maximum."""
    chosen = [i for i in INDICATORS if (i.field in fields if fields else i.key)]
    if not series:
        return []
    times = [s["as_of"] for s in series]
    start, end = times[0], times[-1]
    span = (end - start).total_seconds() or 1.0
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def label_of(moment: datetime) -> str:
        return moment.astimezone(tz).strftime("%m-%d %H:%M")

    panels = []
    for indicator in chosen:
        values = [float(s["figures"].get(indicator.field, 0) or 0) for s in series]
        top = max(values) or 1.0
        panel = Panel(indicator.field, indicator.label, indicator.unit, top=top,
                      first_label=label_of(start), last_label=label_of(end))
        for moment, value in zip(times, values):
            x = PAD_LEFT + ((moment - start).total_seconds() / span * inner_w if len(series) > 1 else inner_w / 2)
            y = PAD_TOP + inner_h - value / top * inner_h
            panel.points.append(Point(x, y, value, f"{label_of(moment)}：{_fmt(value)} {indicator.unit}",
                                      label_of(moment)))
        panels.append(panel)
    return panels


GEOMETRY = {"width": WIDTH, "height": HEIGHT, "left": PAD_LEFT, "right": WIDTH - PAD_RIGHT,
            "top": PAD_TOP, "bottom": HEIGHT - PAD_BOTTOM}
