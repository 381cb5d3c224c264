"""Keeping the reserve whole (储备管理): replenishment obligations (回补), rotation of items near
expiry (轮换) and depot area against the building standard (建标121-2009).

Pure: plain data in, plain data out.

- A higher level that draws directly on a lower level's depot (``domain.md`` §5: "in a major
  event a higher level may draw on lower-level stock directly, to be replenished later") owes
  that depot what it took: :func:`creates_obligation` decides, :func:`settle` tracks what was
  received against what is owed.
- :func:`rotation_proposals`: lots expiring within a horizon are proposed for transfer to where
  the item is wanted (nearest first, earliest expiry first) and the rest for rotation (轮换:
  used, sold or donated and replaced with fresh stock); expired lots for write-off.
- :func:`area_standard`: a depot's floor area against the band of its tier.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from stockpile._regions import canonical_code, prefix_contains

# --- replenishment obligations (回补) -------------------------------------------------------------


def creates_obligation(depot_region: str, drawer_region: str | None, destination_region: str) -> bool:
    """Whether a dispatch from a depot serving ``depot_region``, requested by a level whose
    jurisdiction is ``drawer_region``, to ``destination_region`` is a draw by a higher level on a
    lower level's stock, to be replenished (回补).

    It is when the drawer is strictly above the depot's region (contains it and is not it) and
    the goods leave the depot's own area. The depot's own level using its own stock, or the
    system (``drawer_region`` ``None``), owes nothing.

    >>> creates_obligation("140105", "140000", "140106")
    True
    >>> creates_obligation("140105", "140105", "140106")
    False
    >>> creates_obligation("140105", "140000", "140105001")
    False
    """
    if drawer_region is None:
        return False
    if canonical_code(drawer_region) == canonical_code(depot_region):
        return False
    if not prefix_contains(drawer_region, depot_region):
        return False
    return not prefix_contains(depot_region, destination_region)


@dataclass(frozen=True)
class Settlement:
    """Where an obligation stands: per item what is owed, received, on its way, still to send
    (``outstanding`` = owed − received − in transit, never below 0) and the ``status``:
    ``open`` (nothing received), ``partial`` or ``settled`` (everything owed received)."""

    owed: Mapping[str, int]
    received: Mapping[str, int]
    in_transit: Mapping[str, int]
    outstanding: Mapping[str, int]
    status: str


def settle(owed: Mapping[str, int], received: Iterable[tuple[str, int]] = (),
           in_transit: Iterable[tuple[str, int]] = ()) -> Settlement:
    """What is left of an obligation ``owed`` (``{item: quantity}``) after the replenishments
    ``received`` and those ``in_transit`` (``(item, quantity)`` pairs; items not owed are
    ignored; more than owed settles the item, never makes it negative).

    >>> settle({"tent": 10}, [("tent", 4)], [("tent", 3)]).outstanding["tent"]
    3
    """
    got = {item: 0 for item in owed}
    moving = {item: 0 for item in owed}
    for item, quantity in received:
        if item in got:
            got[item] += max(int(quantity), 0)
    for item, quantity in in_transit:
        if item in moving:
            moving[item] += max(int(quantity), 0)
    outstanding = {item: max(owed[item] - got[item] - moving[item], 0) for item in owed}
    if all(got[item] >= owed[item] for item in owed):
        status = "settled"
    elif any(got.values()):
        status = "partial"
    else:
        status = "open"
    return Settlement(dict(owed), got, moving, outstanding, status)


# --- rotation (轮换) -----------------------------------------------------------------------------

#: Days before expiry a lot is proposed for rotation, unless told otherwise.
ROTATION_HORIZON_DAYS = 90


@dataclass(frozen=True)
class StockLot:
    """Units of one lot of an item at a depot."""

    depot_code: str
    item: str
    quantity: int
    expiry: date | None
    lot: str | None = None


@dataclass(frozen=True)
class Want:
    """Somewhere the item is wanted now (an open supply request, a region with demand):
    ``key`` names it, ``region_code`` is where it goes."""

    key: str
    region_code: str
    item: str
    quantity: int


@dataclass(frozen=True)
class RotationProposal:
    """What to do with (part of) a lot: ``transfer`` to ``want`` (its key), ``rotate``, or
    ``write_off`` (already expired). ``days_left`` is negative for an expired lot."""

    depot_code: str
    item: str
    lot: str | None
    expiry: date
    days_left: int
    quantity: int
    action: str
    want: str | None = None
    region_code: str | None = None
    distance_km: float | None = None


def rotation_proposals(lots: Iterable[StockLot], wants: Iterable[Want], today: date,
                       horizon_days: int = ROTATION_HORIZON_DAYS,
                       distance: Callable[[str, str], float | None] | None = None) -> list[RotationProposal]:
    """Proposals for every lot expiring within ``horizon_days`` of ``today`` (or expired).

    Lots are taken earliest expiry first; each is sent where its item is wanted, nearest want
    first by ``distance(depot_code, region_code)`` (then in the order given; a ``None``
    distance means unreachable), never more than a want asks in all; what no want takes is
    proposed for rotation. Expired lots are proposed for write-off, never transferred. Lots
    without expiry, or expiring later, are left alone.
    """
    if horizon_days < 0:
        raise ValueError("horizon_days must be >= 0")
    left = {}
    order = []
    for index, want in enumerate(wants):
        if want.quantity > 0:
            left[(index, want.key, want.item)] = want.quantity
            order.append((index, want))
    due = sorted((lot for lot in lots if lot.expiry is not None and lot.quantity > 0
                  and (lot.expiry - today).days <= horizon_days),
                 key=lambda lot: (lot.expiry, lot.depot_code, lot.item, lot.lot or ""))
    out: list[RotationProposal] = []
    for lot in due:
        days_left = (lot.expiry - today).days
        if days_left < 0:
            out.append(RotationProposal(lot.depot_code, lot.item, lot.lot, lot.expiry, days_left, lot.quantity,
                                        "write_off"))
            continue
        remaining = lot.quantity
        candidates = []
        for index, want in order:
            if want.item != lot.item or left[(index, want.key, want.item)] <= 0:
                continue
            km = distance(lot.depot_code, want.region_code) if distance else 0.0
            if distance is not None and km is None:
                continue
            candidates.append((km, index, want))
        for km, index, want in sorted(candidates, key=lambda c: (c[0], c[1])):
            if remaining == 0:
                break
            key = (index, want.key, want.item)
            share = min(remaining, left[key])
            left[key] -= share
            remaining -= share
            out.append(RotationProposal(lot.depot_code, lot.item, lot.lot, lot.expiry, days_left, share, "transfer",
                                        want.key, want.region_code, km if distance else None))
        if remaining:
            out.append(RotationProposal(lot.depot_code, lot.item, lot.lot, lot.expiry, days_left, remaining,
                                        "rotate"))
    return out


# --- depot area (建标121-2009) ------------------------------------------------------------------

@dataclass(frozen=True)
class AreaBand:
    """A size class of 建标121-2009: total floor area (m²) for the relocated population served."""

    tier: str
    size: str
    people_min: int
    people_max: int
    area_min: float
    area_max: float


#: 建标121-2009 table 1 by tier. County and prefecture bands are those of ``domain.md`` §5; the
#: provincial and central bands (12–20万 people; central large/medium/small 72–86, 54–64 and
#: 36–42万) are from the standard's table as secondary sources quote it, not re-checked
#: against the printed standard. Townships have no band: below the smallest class the standard
#: calls for a storage point (储备点), not a depot.
AREA_BANDS: tuple[AreaBand, ...] = (
    AreaBand("central", "large", 720_000, 860_000, 21_800, 25_700),
    AreaBand("central", "medium", 540_000, 640_000, 16_700, 19_800),
    AreaBand("central", "small", 360_000, 420_000, 11_500, 13_400),
    AreaBand("provincial", "", 120_000, 200_000, 6_200, 10_000),
    AreaBand("prefecture", "", 40_000, 60_000, 2_900, 4_100),
    AreaBand("county", "", 5_000, 7_000, 630, 800),
)


@dataclass(frozen=True)
class AreaCheck:
    """A depot's area against its tier: ``verdict`` ``below`` (smaller than the smallest band
    of its tier), ``within`` (inside a band: ``band``), ``between`` (between two bands of the
    tier), ``above`` (larger than the largest), ``no_standard`` (no band for the tier) or
    ``unknown`` (no area recorded). ``people`` estimates the relocated population the area
    serves at the tier's ratio (m² per person of the nearest band), ``None`` when unknown."""

    tier: str
    area_m2: float | None
    verdict: str
    band: AreaBand | None
    bands: tuple[AreaBand, ...]
    people: int | None


def area_standard(tier: str, area_m2: float | None) -> AreaCheck:
    """``area_m2`` of a depot of ``tier`` against 建标121-2009 (:data:`AREA_BANDS`).

    >>> area_standard("county", 700).verdict
    'within'
    >>> area_standard("county", 500).verdict
    'below'
    """
    bands = tuple(sorted((b for b in AREA_BANDS if b.tier == tier), key=lambda b: b.area_min))
    if not bands:
        return AreaCheck(tier, area_m2, "no_standard", None, (), None)
    if area_m2 is None or area_m2 != area_m2 or area_m2 < 0:
        return AreaCheck(tier, None, "unknown", None, bands, None)
    area = float(area_m2)
    inside = next((b for b in bands if b.area_min <= area <= b.area_max), None)
    nearest = inside or min(bands, key=lambda b: min(abs(area - b.area_min), abs(area - b.area_max)))
    per_person = (nearest.area_min + nearest.area_max) / (nearest.people_min + nearest.people_max)
    people = int(round(area / per_person))
    if inside is not None:
        verdict = "within"
    elif area < bands[0].area_min:
        verdict = "below"
    elif area > bands[-1].area_max:
        verdict = "above"
    else:
        verdict = "between"
    return AreaCheck(tier, area, verdict, inside, bands, people)
