"""Demand (需求): the latest loss figures times the norms, less what was already dispatched."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from stockpile._catalogue import DEFAULT_NORMS, DemandNorm
from stockpile._numbers import ceil_exact, exact


@dataclass(frozen=True, order=True)
class DemandLine:
    """Outstanding need of one region for one item, in whole units.

    Parameters
    ----------
    region_code : str
        Region (区划代码) the goods are for.
    item : str
        Item code.
    quantity : int
        Units still needed; positive in results of :func:`compute_demand`.
    """

    region_code: str
    item: str
    quantity: int

    def __post_init__(self) -> None:
        if not isinstance(self.region_code, str) or not self.region_code:
            raise ValueError(f"DemandLine.region_code must be a code, got {self.region_code!r}")
        if not isinstance(self.item, str) or not self.item:
            raise ValueError(f"DemandLine.item must be an item code, got {self.item!r}")
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity < 0:
            raise ValueError(f"DemandLine.quantity must be a whole number ≥ 0, got {self.quantity!r}")


def compute_demand(
    figures_by_region: Mapping[str, Mapping[str, object]],
    norms: Iterable[DemandNorm] = DEFAULT_NORMS,
    dispatched: Mapping[tuple[str, str], object] | None = None,
) -> list[DemandLine]:
    """Outstanding needs per region and item.

    For every region, each norm gives ``ceil(figure × per_person × days)``; norms for the same item
    add up. What was already dispatched (已调拨) to that region is subtracted; a result below zero
    becomes zero, and zero lines are left out.

    Parameters
    ----------
    figures_by_region : mapping
        ``{region_code: {indicator: figure}}``, the latest cumulative figures (累计数) of each region.
        A missing indicator counts as 0.
    norms : iterable of DemandNorm
        The norms (需求定额); defaults to :data:`DEFAULT_NORMS`.
    dispatched : mapping, optional
        ``{(region_code, item): quantity}`` already sent to the region.

    Returns
    -------
    list of DemandLine
        Sorted by region code, then item.

    Raises
    ------
    ValueError
        A figure or dispatched quantity is negative or not finite.

    Examples
    --------
    >>> from stockpile import DemandNorm
    >>> compute_demand({"140105": {"relocated_population": 10}},
    ...                [DemandNorm("tent", "relocated_population", 1 / 3)])
    [DemandLine(region_code='140105', item='tent', quantity=4)]
    """
    norms = tuple(norms)
    sent = dict(dispatched or {})
    lines: list[DemandLine] = []
    for region_code, figures in figures_by_region.items():
        needed: dict[str, int] = {}
        for norm in norms:
            needed[norm.item] = needed.get(norm.item, 0) + norm.quantity(figures)
        for item, quantity in needed.items():
            already = exact(sent.get((region_code, item), 0), f"dispatched[{region_code!r}, {item!r}]")
            if already < 0:
                raise ValueError(f"dispatched quantity for {(region_code, item)} must not be negative")
            outstanding = ceil_exact(quantity - already)
            if outstanding > 0:
                lines.append(DemandLine(region_code, item, outstanding))
    lines.sort()
    return lines
