"""Allocation (调拨方案): which depot sends how much of which item to which demand point.

The tier rule (``domain.md`` §5: local stock first, then the level above; a higher level may draw
on lower-level stock directly) is expressed as a *rank* of each (depot, demand point) pair, see
:func:`tier_rank`. The allocator minimises, per item:

1. unmet demand (缺口), always first;
2. then, with ``tier_preference="lexicographic"`` (default), ``Σ quantity × rank`` exactly,
   and only then ``Σ quantity × distance_km``;
   with ``"penalty"``, ``Σ quantity × (distance_km + tier_penalty_km × rank)``;
   with ``"none"``, ``Σ quantity × distance_km``.

Items do not interact, so each item is a separate transportation problem (see ``_lp``).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from stockpile import _lp
from stockpile._demand import DemandLine
from stockpile._numbers import ceil_exact, exact
from stockpile._regions import prefix_contains, prefix_contains_matrix

#: Storage tiers (五级储备), lowest first.
TIERS = ("township", "county", "prefecture", "provincial", "central")
TIER_PREFERENCES = ("lexicographic", "penalty", "none")
#: First-LP arcs per point in the rank stage: ranks tie a lot, and ties make big LPs slow.
_RANK_STAGE_ARCS = 3


@dataclass(frozen=True)
class Supply:
    """Stock of one item at one depot that may be allocated.

    Parameters
    ----------
    depot_code : str
    item : str
    available : int
        Units free to allocate (可用库存 = on hand − reserved).
    tier : str
        Storage tier (储备层级) of the depot: township, county, prefecture, provincial, central.
    region_code : str
        The region the depot serves (its own area, 辖区): ``140000`` for Shanxi's provincial depot.
    reserve_floor : int
        Units the depot keeps for its own area (保底储备) unless released.
    """

    depot_code: str
    item: str
    available: int
    tier: str
    region_code: str
    reserve_floor: int = 0

    def __post_init__(self) -> None:
        for name in ("depot_code", "item", "tier", "region_code"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"Supply.{name} must be a non-empty string, got {value!r}")
        for name in ("available", "reserve_floor"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"Supply.{name} must be a whole number ≥ 0, got {value!r}")


@dataclass(frozen=True, eq=False)
class DistanceMatrix:
    """Dense road distances: ``km[i, j]`` from ``depot_codes[i]`` to ``region_codes[j]``.

    ``inf`` or NaN means no route. Pairs not covered by the matrix have no route either.
    """

    depot_codes: Sequence[str]
    region_codes: Sequence[str]
    km: np.ndarray

    def __post_init__(self) -> None:
        km = np.array(self.km, dtype=float)
        object.__setattr__(self, "depot_codes", tuple(self.depot_codes))
        object.__setattr__(self, "region_codes", tuple(self.region_codes))
        if km.shape != (len(self.depot_codes), len(self.region_codes)):
            raise ValueError(f"km has shape {km.shape}, expected "
                             f"{(len(self.depot_codes), len(self.region_codes))}")
        if len(set(self.depot_codes)) != len(self.depot_codes) or len(set(self.region_codes)) != len(self.region_codes):
            raise ValueError("depot and region codes of a DistanceMatrix must be unique")
        if (km < 0).any():
            raise ValueError("distances must not be negative")
        km[np.isnan(km)] = np.inf
        km.setflags(write=False)
        object.__setattr__(self, "km", km)


@dataclass(frozen=True)
class AllocationRules:
    """Settings of the allocator.

    Parameters
    ----------
    max_distance_km : float, optional
        Pairs farther than this are not allowed (equal is allowed).
    reserve_share : float
        Share of a depot's available stock it keeps for its own area, rounded up to whole units;
        the larger of this and :attr:`Supply.reserve_floor` applies.
    released : frozenset of str
        Depots whose reserve is released (动用保底储备): they may send everything anywhere.
    tier_preference : str
        ``"lexicographic"``, ``"penalty"`` or ``"none"`` (see the module docstring).
    tier_penalty_km : float
        With ``"penalty"``: extra kilometres charged per rank step.
    allow_lateral : bool
        Whether a depot may serve a point outside its own area at all (平级调剂).
    tier_order : tuple of str
        Tiers lowest first; the last one (central) serves every region.
    contains : callable
        ``contains(ancestor_code, code) -> bool``; default: the code-prefix rule.
    """

    max_distance_km: float | None = None
    reserve_share: float = 0.0
    released: frozenset[str] = frozenset()
    tier_preference: str = "lexicographic"
    tier_penalty_km: float = 100.0
    allow_lateral: bool = True
    tier_order: tuple[str, ...] = TIERS
    contains: Callable[[str, str], bool] = field(default=prefix_contains, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "released", frozenset(self.released))
        object.__setattr__(self, "tier_order", tuple(self.tier_order))
        if self.max_distance_km is not None and not (exact(self.max_distance_km, "max_distance_km") >= 0):
            raise ValueError("max_distance_km must be ≥ 0")
        if not 0 <= exact(self.reserve_share, "reserve_share") <= 1:
            raise ValueError(f"reserve_share must be within [0, 1], got {self.reserve_share!r}")
        if self.tier_preference not in TIER_PREFERENCES:
            raise ValueError(f"tier_preference must be one of {TIER_PREFERENCES}")
        if exact(self.tier_penalty_km, "tier_penalty_km") < 0:
            raise ValueError("tier_penalty_km must be ≥ 0")
        if not self.tier_order or len(set(self.tier_order)) != len(self.tier_order):
            raise ValueError("tier_order must list distinct tiers")
        if not callable(self.contains):
            raise ValueError("contains must be callable")


@dataclass(frozen=True)
class AllocationLine:
    """``quantity`` units of ``item`` from ``depot_code`` to ``region_code``, ``distance_km`` away."""

    depot_code: str
    region_code: str
    item: str
    quantity: int
    distance_km: float


@dataclass(frozen=True)
class UnmetLine:
    """Demand no depot could meet under the rules (缺口)."""

    region_code: str
    item: str
    quantity: int


@dataclass(frozen=True)
class Allocation:
    """A proposed plan (调拨方案); it moves no stock.

    ``lines`` are sorted by region, item, depot; ``unmet`` by region, item;
    ``total_distance_quantity`` is ``Σ quantity × distance_km``.
    """

    lines: tuple[AllocationLine, ...]
    unmet: tuple[UnmetLine, ...]
    total_distance_quantity: float

    def to_dict(self) -> dict:
        """The JSON shape of ``POST /events/{id}/allocation-plan``."""
        return {
            "lines": [{"depot_code": line.depot_code, "region_code": line.region_code, "item": line.item,
                       "quantity": line.quantity, "distance_km": line.distance_km} for line in self.lines],
            "unmet": [{"region_code": line.region_code, "item": line.item, "quantity": line.quantity}
                      for line in self.unmet],
            "total_distance_quantity": self.total_distance_quantity,
        }


def tier_rank(supply: Supply, region_code: str, rules: AllocationRules = AllocationRules()) -> int | None:
    """Preference rank of serving ``region_code`` from ``supply``'s depot; lower is preferred.

    With ``t`` the index of the depot's tier in ``rules.tier_order`` (township 0, county 1,
    prefecture 2, provincial 3, central 4):

    - ``2·t`` when the depot's own area contains the demand point (本级及上级储备), or the depot is
      in the last tier (central serves everyone);
    - ``2·t + 3`` otherwise (平级调剂, another area's stock): it ranks after the own stock of the
      level above the lending depot, who would direct such a draw;
    - ``None`` when that is not allowed (``rules.allow_lateral`` is false).

    For a county's demand point this gives: own township depot 0, own county depot 2, another
    township's depot 3, own prefecture depot 4, another county's depot 5, provincial depot 6,
    another prefecture's depot 7, central depot 8, another province's depot 9.
    """
    if supply.tier not in rules.tier_order:
        raise ValueError(f"unknown tier {supply.tier!r}; expected one of {rules.tier_order}")
    t = rules.tier_order.index(supply.tier)
    if t == len(rules.tier_order) - 1 or rules.contains(supply.region_code, region_code):
        return 2 * t
    return 2 * t + 3 if rules.allow_lateral else None


def allocate(
    demand: Sequence[DemandLine],
    supply: Sequence[Supply],
    distances: Mapping[tuple[str, str], float] | DistanceMatrix,
    rules: AllocationRules = AllocationRules(),
) -> Allocation:
    """Optimal allocation of ``supply`` to ``demand`` as a linear programme (HiGHS).

    Parameters
    ----------
    demand : sequence of DemandLine
        At most one line per (region, item).
    supply : sequence of Supply
        At most one row per (depot, item); a depot's tier and region must agree across rows.
    distances : mapping or DistanceMatrix
        ``{(depot_code, region_code): km}``; a missing pair has no route.
    rules : AllocationRules

    Returns
    -------
    Allocation
        ``allocated + unmet == demand`` exactly for every (region, item); no depot sends more than
        it has, nor more outside its area than it has above its reserve.

    Notes
    -----
    Per item, ``scipy.optimize.linprog(method="highs")`` solves a transportation problem whose
    matrix is totally unimodular, so the optimal vertex is in whole units (see ``stockpile._lp``):
    an LP, not ``milp``, because integrality comes free and the LP gives the duals that column
    generation needs to reach 200 depots × 2,000 points × 8 items in a few seconds.
    Unmet units cost ``P = max_cost × min(depots, points) + 1`` each: more than any re-routing
    that serves one more unit could cost, so unmet demand is always minimised first. The
    lexicographic tier preference is exact: a first LP minimises unmet and ``Σ q × rank``; a second
    minimises distance over that LP's optimal face (arcs of zero reduced cost, tight rows kept
    tight), which is again a network LP.
    """
    return _Problem(demand, supply, distances, rules).solve(_solve_item)


def greedy_allocate(
    demand: Sequence[DemandLine],
    supply: Sequence[Supply],
    distances: Mapping[tuple[str, str], float] | DistanceMatrix,
    rules: AllocationRules = AllocationRules(),
) -> Allocation:
    """Baseline: nearest first. Same input, output and rules as :func:`allocate`.

    All allowed pairs of an item are taken in order of (rank, distance) with the lexicographic
    preference, ``distance + tier_penalty_km × rank`` with the penalty, distance alone with none
    (ties by depot then region code), each sending as much as the depot can and the point needs.

    :func:`allocate` is never worse: it leaves at most as many units unmet, and at equal unmet it
    is no worse on what the rules minimise (with ``tier_preference="none"``, on
    ``total_distance_quantity`` itself).
    """
    return _Problem(demand, supply, distances, rules).solve(_greedy_item)


@dataclass
class _ItemNetwork:
    item: str
    depots: list[str]
    regions: list[str]
    km: np.ndarray
    rank: np.ndarray
    network: _lp.Network


def _solve_item(net: _ItemNetwork, rules: AllocationRules) -> tuple[np.ndarray, np.ndarray]:
    network, km, rank = net.network, net.km, net.rank
    if not network.allowed.any():
        return np.zeros(network.allowed.shape, dtype=np.int64), network.demand.copy()
    # The greedy plan's arcs seed the column generation: a small first LP close to the optimum.
    greedy_arcs = _greedy_item(net, rules)[0] > 0
    if rules.tier_preference == "lexicographic":
        longest = float(km.max(where=network.allowed, initial=0.0))
        first = _lp.solve(network, rank.astype(float), _unmet_cost(network, rank), seed=greedy_arcs,
                          order=rank * (1.0 + longest) + km, initial_arcs=_RANK_STAGE_ARCS)
        face = network.allowed & (first.reduced_cost <= 0.5)
        second = _lp.Network(network.cap, network.out_cap, network.demand, face, network.outside)
        solution = _lp.solve(second, km, 0.0, unmet_allowed=first.unmet_reduced_cost <= 0.5,
                             equal_cap=first.tight_cap, equal_out=first.tight_out, seed=first.flow > 0)
    else:
        cost = km + rules.tier_penalty_km * rank if rules.tier_preference == "penalty" else km
        solution = _lp.solve(network, cost, _unmet_cost(network, cost), seed=greedy_arcs)
    return solution.flow, solution.unmet


def _unmet_cost(network: _lp.Network, cost: np.ndarray) -> float:
    largest = float(cost.max(where=network.allowed, initial=0.0))
    return max(largest, 1.0) * min(network.allowed.shape) + 1.0


def _greedy_item(net: _ItemNetwork, rules: AllocationRules) -> tuple[np.ndarray, np.ndarray]:
    network = net.network
    rows, cols = np.nonzero(network.allowed)
    km, rank = net.km[rows, cols], net.rank[rows, cols]
    if rules.tier_preference == "lexicographic":
        order = np.lexsort((cols, rows, km, rank))
    elif rules.tier_preference == "penalty":
        order = np.lexsort((cols, rows, km, km + rules.tier_penalty_km * rank))
    else:
        order = np.lexsort((cols, rows, km))
    cap, out_cap = network.cap.tolist(), network.out_cap.tolist()
    need = network.demand.tolist()
    outside = network.outside[rows, cols].tolist()
    rows_list, cols_list = rows.tolist(), cols.tolist()
    flow = np.zeros(network.allowed.shape, dtype=np.int64)
    left_need, left_cap = sum(need), sum(cap)
    for arc in order.tolist():
        if left_need == 0 or left_cap == 0:
            break
        i, j = rows_list[arc], cols_list[arc]
        room = min(cap[i], out_cap[i]) if outside[arc] else cap[i]
        quantity = min(room, need[j])
        if quantity <= 0:
            continue
        flow[i, j] = quantity
        cap[i] -= quantity
        need[j] -= quantity
        if outside[arc]:
            out_cap[i] -= quantity
        left_need -= quantity
        left_cap -= quantity
    return flow, np.array(need, dtype=np.int64)


class _Problem:
    """Validated input, shared by :func:`allocate` and :func:`greedy_allocate`."""

    def __init__(self, demand, supply, distances, rules: AllocationRules):
        if not isinstance(rules, AllocationRules):
            raise TypeError("rules must be an AllocationRules")
        self.rules = rules
        self.demand: dict[tuple[str, str], int] = {}
        for line in demand:
            if not isinstance(line, DemandLine):
                raise TypeError(f"demand must hold DemandLine values, got {line!r}")
            key = (line.region_code, line.item)
            if key in self.demand:
                raise ValueError(f"duplicate demand line for {key}")
            self.demand[key] = line.quantity
        self.supply: dict[tuple[str, str], Supply] = {}
        depot_info: dict[str, tuple[str, str]] = {}
        for row in supply:
            if not isinstance(row, Supply):
                raise TypeError(f"supply must hold Supply values, got {row!r}")
            if row.tier not in rules.tier_order:
                raise ValueError(f"depot {row.depot_code}: unknown tier {row.tier!r}")
            key = (row.depot_code, row.item)
            if key in self.supply:
                raise ValueError(f"duplicate supply row for {key}")
            info = depot_info.setdefault(row.depot_code, (row.tier, row.region_code))
            if info != (row.tier, row.region_code):
                raise ValueError(f"depot {row.depot_code} has conflicting tier or region across rows")
            self.supply[key] = row
        self.depots = sorted(depot_info)
        self.regions = sorted({region for (region, _), quantity in self.demand.items() if quantity > 0})
        self.items = sorted({item for (_, item) in self.demand})
        self.depot_index = {code: i for i, code in enumerate(self.depots)}
        self.region_index = {code: j for j, code in enumerate(self.regions)}
        self.km = self._distances(distances)
        tiers = np.array([rules.tier_order.index(depot_info[code][0]) for code in self.depots], dtype=np.int64)
        inside = self._inside([depot_info[code][1] for code in self.depots])
        inside |= (tiers == len(rules.tier_order) - 1)[:, None]
        self.inside = inside
        self.rank = np.where(inside, 2 * tiers[:, None], 2 * tiers[:, None] + 3)
        allowed = np.isfinite(self.km)
        if rules.max_distance_km is not None:
            allowed &= self.km <= float(rules.max_distance_km)
        if not rules.allow_lateral:
            allowed &= inside
        self.allowed = allowed

    def _distances(self, distances) -> np.ndarray:
        km = np.full((len(self.depots), len(self.regions)), np.inf)
        if isinstance(distances, DistanceMatrix):
            rows = [self.depot_index.get(code, -1) for code in distances.depot_codes]
            cols = [self.region_index.get(code, -1) for code in distances.region_codes]
            src_rows = np.array([i for i, row in enumerate(rows) if row >= 0], dtype=np.int64)
            src_cols = np.array([j for j, col in enumerate(cols) if col >= 0], dtype=np.int64)
            dst_rows = np.array([rows[i] for i in src_rows], dtype=np.int64)
            dst_cols = np.array([cols[j] for j in src_cols], dtype=np.int64)
            km[np.ix_(dst_rows, dst_cols)] = distances.km[np.ix_(src_rows, src_cols)]
            return km
        if not isinstance(distances, Mapping):
            raise TypeError("distances must be a mapping {(depot_code, region_code): km} or a DistanceMatrix")
        for (depot, region), value in distances.items():
            i, j = self.depot_index.get(depot), self.region_index.get(region)
            if i is None or j is None:
                continue
            value = float(value)
            if value < 0:
                raise ValueError(f"distance {depot} → {region} must not be negative")
            km[i, j] = np.inf if math.isnan(value) else value
        return km

    def _inside(self, depot_regions: list[str]) -> np.ndarray:
        if self.rules.contains is prefix_contains:
            return prefix_contains_matrix(depot_regions, self.regions)
        cache: dict[str, np.ndarray] = {}
        inside = np.zeros((len(depot_regions), len(self.regions)), dtype=bool)
        for i, ancestor in enumerate(depot_regions):
            if ancestor not in cache:
                cache[ancestor] = np.array([bool(self.rules.contains(ancestor, code)) for code in self.regions],
                                           dtype=bool)
            inside[i] = cache[ancestor]
        return inside

    def network(self, item: str) -> _ItemNetwork | None:
        regions = [code for code in self.regions if self.demand.get((code, item), 0) > 0]
        depots = [code for code in self.depots if (code, item) in self.supply
                  and self.supply[(code, item)].available > 0]
        if not regions:
            return None
        rows = np.array([self.depot_index[code] for code in depots], dtype=np.int64)
        cols = np.array([self.region_index[code] for code in regions], dtype=np.int64)
        grid = np.ix_(rows, cols)
        cap = np.array([self.supply[(code, item)].available for code in depots], dtype=np.int64)
        keep = np.array([self._keep(self.supply[(code, item)]) for code in depots], dtype=np.int64)
        network = _lp.Network(
            cap=cap, out_cap=cap - keep,
            demand=np.array([self.demand[(code, item)] for code in regions], dtype=np.int64),
            allowed=self.allowed[grid], outside=~self.inside[grid],
        )
        return _ItemNetwork(item, depots, regions, self.km[grid], self.rank[grid], network)

    def _keep(self, row: Supply) -> int:
        if row.depot_code in self.rules.released:
            return 0
        share = ceil_exact(exact(self.rules.reserve_share, "reserve_share") * row.available)
        return min(row.available, max(row.reserve_floor, share))

    def solve(self, solve_item) -> Allocation:
        """Each item's network solved by ``solve_item(net, rules)``, gathered by :meth:`result`."""
        flows = []
        for item in self.items:
            net = self.network(item)
            if net is not None:
                flows.append((net, solve_item(net, self.rules)))
        return self.result(flows)

    def result(self, flows) -> Allocation:
        lines: list[AllocationLine] = []
        unmet: list[UnmetLine] = []
        products: list[float] = []
        met: set[tuple[str, str]] = set()
        for net, (flow, short) in flows:
            network = net.network
            _check(network, flow, short)
            for i, j in zip(*np.nonzero(flow)):
                quantity, km = int(flow[i, j]), float(net.km[i, j])
                lines.append(AllocationLine(net.depots[i], net.regions[j], net.item, quantity, km))
                products.append(quantity * km)
            for j, region in enumerate(net.regions):
                met.add((region, net.item))
                if short[j] > 0:
                    unmet.append(UnmetLine(region, net.item, int(short[j])))
        for (region, item), quantity in self.demand.items():
            if quantity > 0 and (region, item) not in met:
                unmet.append(UnmetLine(region, item, quantity))
        lines.sort(key=lambda line: (line.region_code, line.item, line.depot_code))
        unmet.sort(key=lambda line: (line.region_code, line.item))
        return Allocation(tuple(lines), tuple(unmet), math.fsum(products))


def _check(network: _lp.Network, flow: np.ndarray, short: np.ndarray) -> None:
    """Guard the invariants in whole units; a breach is a solver fault, never a silent plan."""
    sent = flow.sum(axis=1)
    sent_out = np.where(network.outside, flow, 0).sum(axis=1)
    ok = ((flow >= 0).all() and (short >= 0).all() and not flow[~network.allowed].any()
          and (sent <= network.cap).all() and (sent_out <= network.out_cap).all()
          and (flow.sum(axis=0) + short == network.demand).all())
    if not ok:
        raise RuntimeError("allocation violates stock, reserve or demand limits")
