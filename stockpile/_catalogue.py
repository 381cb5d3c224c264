"""The item catalogue (救灾物资目录) and the demand norms (需求定额) that turn loss figures into needs.

No national per-capita norm exists (``domain.md`` §5), so every norm here is a configurable default.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from stockpile._numbers import ceil_exact, exact

#: The two catalogue categories: 生活类 (daily-life goods) and 防汛抗旱类 (flood and drought goods).
CATEGORIES = ("生活类", "防汛抗旱类")

#: The loss-report indicators of ``domain.md`` §3 (统计调查制度 field names) a norm may refer to.
INDICATORS = (
    "affected_population",
    "deaths",
    "missing",
    "injured",
    "evacuated_population",
    "relocated_population",
    "needing_aid_population",
    "needing_transitional_aid",
    "drought_needing_aid_population",
    "water_shortage_population",
    "water_shortage_livestock",
    "collapsed_rooms",
    "collapsed_households",
    "severely_damaged_rooms",
    "severely_damaged_households",
    "generally_damaged_rooms",
    "generally_damaged_households",
    "crop_affected_ha",
    "crop_disaster_ha",
    "crop_failed_ha",
    "direct_loss_10k_cny",
)

#: Persons per household when a norm is given per household (户均人口) [default].
DEFAULT_HOUSEHOLD_SIZE = 3.0


@dataclass(frozen=True)
class Item:
    """One catalogue item (救灾物资品种).

    Parameters
    ----------
    code : str
        Stable identifier used everywhere else (``"tent"``).
    name : str
        Chinese name (``"帐篷"``).
    unit : str
        Counting unit (计量单位, ``"顶"``); quantities are whole units.
    category : str
        ``"生活类"`` or ``"防汛抗旱类"``.
    shelf_life_days : int or None
        Shelf life (保质期) in days; ``None`` for goods that do not expire.
    """

    code: str
    name: str
    unit: str
    category: str
    shelf_life_days: int | None = None

    def __post_init__(self) -> None:
        for attribute in ("code", "name", "unit"):
            value = getattr(self, attribute)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"Item.{attribute} must be a non-empty string, got {value!r}")
        if self.category not in CATEGORIES:
            raise ValueError(f"Item.category must be one of {CATEGORIES}, got {self.category!r}")
        days = self.shelf_life_days
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days <= 0):
            raise ValueError(f"Item.shelf_life_days must be a positive integer or None, got {days!r}")


DEFAULT_ITEMS: tuple[Item, ...] = (
    Item("tent", "帐篷", "顶", "生活类"),
    Item("quilt", "棉被", "床", "生活类"),
    Item("cotton_coat", "棉大衣", "件", "生活类"),
    Item("folding_bed", "折叠床", "张", "生活类"),
    Item("blanket", "毛毯", "床", "生活类"),
    Item("water", "饮用水", "升", "生活类", shelf_life_days=365),
    Item("instant_food", "方便食品", "千克", "生活类", shelf_life_days=180),
    Item("life_jacket", "救生衣", "件", "防汛抗旱类"),
    Item("sandbag", "编织袋", "条", "防汛抗旱类"),
    Item("pump", "抽水泵", "台", "防汛抗旱类"),
)


def items_by_code(items: Iterable[Item] = DEFAULT_ITEMS) -> dict[str, Item]:
    """The catalogue keyed by code; a duplicate code raises ``ValueError``."""
    result: dict[str, Item] = {}
    for item in items:
        if item.code in result:
            raise ValueError(f"duplicate item code {item.code!r}")
        result[item.code] = item
    return result


@dataclass(frozen=True)
class DemandNorm:
    """A demand norm (需求定额): ``ceil(figure[indicator] × per_person × days)`` units of ``item``.

    Parameters
    ----------
    item : str
        Item code.
    indicator : str
        A loss indicator of ``domain.md`` §3, e.g. ``relocated_population`` (紧急转移安置人口).
    per_person : int, float, Fraction or Decimal
        Units per unit of the indicator (per person, per household …) per day; positive. A float
        is read as the nearest fraction with a denominator of at most 10⁶, so ``1/3`` is exact.
    days : int
        Days the norm covers (e.g. 3 days of 饮用水); positive.
    note : str
        Where the number comes from.
    """

    item: str
    indicator: str
    per_person: int | float | Fraction
    days: int = 1
    note: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.item, str) or not self.item.strip():
            raise ValueError(f"DemandNorm.item must be an item code, got {self.item!r}")
        if self.indicator not in INDICATORS:
            raise ValueError(f"DemandNorm.indicator {self.indicator!r} is not a loss indicator")
        if exact(self.per_person, "DemandNorm.per_person") <= 0:
            raise ValueError(f"DemandNorm.per_person must be positive, got {self.per_person!r}")
        if isinstance(self.days, bool) or not isinstance(self.days, int) or self.days <= 0:
            raise ValueError(f"DemandNorm.days must be a positive integer, got {self.days!r}")

    @property
    def rate(self) -> Fraction:
        """Units per unit of the indicator for the whole period, exactly."""
        return exact(self.per_person, "DemandNorm.per_person") * self.days

    def quantity(self, figures: Mapping[str, object]) -> int:
        """Units of the item needed for ``figures`` (a missing indicator counts as 0).

        Raises
        ------
        ValueError
            The figure is negative or not finite.
        """
        raw = figures.get(self.indicator, 0)
        figure = exact(0 if raw is None else raw, self.indicator)
        if figure < 0:
            raise ValueError(f"figure {self.indicator} must not be negative, got {raw!r}")
        return ceil_exact(figure * self.rate)


def default_norms(
    *,
    household_size: float | Fraction = DEFAULT_HOUSEHOLD_SIZE,
    days: int = 3,
    water_litres_per_person_day: float | Fraction = 3,
    food_kg_per_person_day: float | Fraction = Fraction(1, 2),
) -> tuple[DemandNorm, ...]:
    """The shipped norms [default], all configurable.

    - 帐篷 tent: 1 per household of relocated people (紧急转移安置人口 ÷ ``household_size``).
    - 棉被 quilt: 1 per relocated person.
    - 饮用水 water: ``water_litres_per_person_day`` litres per person needing emergency aid
      (需紧急生活救助人口) per day, for ``days`` days.
    - 方便食品 instant food: ``food_kg_per_person_day`` kg per person needing emergency aid per day,
      for ``days`` days.

    Seasonal goods (棉大衣, 毛毯) have no default norm; add them with :func:`norms_from_config`.
    """
    size = exact(household_size, "household_size")
    if size <= 0:
        raise ValueError(f"household_size must be positive, got {household_size!r}")
    return (
        DemandNorm("tent", "relocated_population", 1 / size,
                   note=f"1 顶 per relocated household of {household_size} persons [default]"),
        DemandNorm("quilt", "relocated_population", 1, note="1 床 per relocated person [default]"),
        DemandNorm("water", "needing_aid_population", exact(water_litres_per_person_day, "water"), days,
                   note="drinking water per person per day [default]"),
        DemandNorm("instant_food", "needing_aid_population", exact(food_kg_per_person_day, "food"), days,
                   note="instant food per person per day [default]"),
    )


DEFAULT_NORMS: tuple[DemandNorm, ...] = default_norms()


class NormConfigError(ValueError):
    """Invalid norm configuration; ``errors`` lists every ``(field, message)`` found."""

    def __init__(self, errors: Sequence[tuple[str, str]]):
        self.errors = list(errors)
        super().__init__("; ".join(f"{name}: {message}" for name, message in self.errors))


_CONFIG_KEYS = frozenset({"item", "indicator", "per_person", "per_household", "household_size", "days", "note"})


def norms_from_config(
    config: Sequence[Mapping[str, object]],
    *,
    items: Iterable[Item] = DEFAULT_ITEMS,
    household_size: float | Fraction = DEFAULT_HOUSEHOLD_SIZE,
) -> tuple[DemandNorm, ...]:
    """Norms from configuration data, e.g. a YAML list.

    Each entry has ``item`` and ``indicator``, exactly one of ``per_person`` or ``per_household``
    (units per household, divided by the entry's ``household_size`` or the ``household_size``
    argument), and optionally ``days`` (default 1) and ``note``.

    Parameters
    ----------
    config : sequence of mappings
        The entries.
    items : iterable of Item
        The catalogue the item codes must come from.
    household_size : number
        Persons per household (户均人口) for ``per_household`` entries.

    Returns
    -------
    tuple of DemandNorm

    Raises
    ------
    NormConfigError
        Naming every bad field as ``[index].field``; nothing is returned in part.
    """
    known = items_by_code(items)
    errors: list[tuple[str, str]] = []
    norms: list[DemandNorm] = []
    if isinstance(config, (str, bytes)) or not isinstance(config, Sequence):
        raise NormConfigError([("norms", "must be a list of mappings")])
    for index, entry in enumerate(config):
        where = f"[{index}]"
        if not isinstance(entry, Mapping):
            errors.append((where, "must be a mapping"))
            continue
        before = len(errors)
        for key in sorted(set(entry) - _CONFIG_KEYS, key=str):
            errors.append((f"{where}.{key}", "unknown key"))
        item = entry.get("item")
        if item is None:
            errors.append((f"{where}.item", "is required"))
        elif item not in known:
            errors.append((f"{where}.item", f"unknown item {item!r}"))
        indicator = entry.get("indicator")
        if indicator is None:
            errors.append((f"{where}.indicator", "is required"))
        elif indicator not in INDICATORS:
            errors.append((f"{where}.indicator", f"unknown indicator {indicator!r}"))
        rate = _config_rate(entry, where, household_size, errors)
        days = entry.get("days", 1)
        if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
            errors.append((f"{where}.days", f"must be a positive integer, got {days!r}"))
        note = entry.get("note", "")
        if not isinstance(note, str):
            errors.append((f"{where}.note", "must be a string"))
        if len(errors) == before:
            norms.append(DemandNorm(item, indicator, rate, days, note))
    if errors:
        raise NormConfigError(errors)
    return tuple(norms)


def _config_rate(entry: Mapping[str, object], where: str, household_size: object,
                 errors: list[tuple[str, str]]) -> Fraction | None:
    has_person, has_household = "per_person" in entry, "per_household" in entry
    if has_person == has_household:
        errors.append((f"{where}.per_person", "give exactly one of per_person or per_household"))
        return None
    if "household_size" in entry and not has_household:
        errors.append((f"{where}.household_size", "only applies with per_household"))
    key = "per_person" if has_person else "per_household"
    value = _positive(entry[key], f"{where}.{key}", errors)
    if value is None or has_person:
        return value
    size = _positive(entry.get("household_size", household_size), f"{where}.household_size", errors)
    return None if size is None else value / size


def _positive(value: object, name: str, errors: list[tuple[str, str]]) -> Fraction | None:
    try:
        number = exact(value, name)
    except (TypeError, ValueError) as exc:
        errors.append((name, str(exc)))
        return None
    if number <= 0:
        errors.append((name, f"must be positive, got {value!r}"))
        return None
    return number
