"""A transportation linear programme (运输问题) for one item, solved by HiGHS with column generation.

Variables are ``x[i, j]`` (units from depot ``i`` to demand point ``j``, only on allowed arcs) and
``u[j]`` (unmet units at ``j``). Rows:

- depot row ``i``:   ``Σ_j x[i, j] ≤ cap[i]``
- outside row ``i``: ``Σ_{j outside i's area} x[i, j] ≤ out_cap[i]`` (the reserve floor)
- demand row ``j``:  ``Σ_i x[i, j] + u[j] = demand[j]``

Every column has a 1 in one demand row and in a nested chain of depot rows, so the rows form two
laminar families and the matrix is totally unimodular (a network matrix). With whole-number
capacities and demands every vertex of the polytope is integral, and the simplex method returns a
vertex: the LP already gives whole units, no integer programme is needed. Should numerical noise
ever leave a fractional value, the last restricted problem is re-solved with ``milp``.

200 depots × 2,000 points is 400,000 arcs per item, too many to hand to the solver at once. Column
generation starts from each point's ``initial_arcs`` cheapest arcs (plus any seed arcs, such as
a greedy plan's), solves, prices every other
arc with the duals (reduced cost ``c − y_depot − y_outside − y_demand``) and adds the most negative
ones until none is left: the result is then optimal for the full problem.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

INITIAL_ARCS = 10
ARCS_PER_ROUND = 10
_INTEGRAL_TOLERANCE = 1e-6


@dataclass
class Network:
    """One item's network: dense ``(depots × points)`` arrays."""

    cap: np.ndarray        # (nd,) int
    out_cap: np.ndarray    # (nd,) int, ≤ cap
    demand: np.ndarray     # (nr,) int
    allowed: np.ndarray    # (nd, nr) bool
    outside: np.ndarray    # (nd, nr) bool: point outside the depot's own area


@dataclass
class Solution:
    flow: np.ndarray         # (nd, nr) int
    unmet: np.ndarray        # (nr,) int
    reduced_cost: np.ndarray  # (nd, nr) float, inf where not allowed
    unmet_reduced_cost: np.ndarray  # (nr,) float
    tight_cap: np.ndarray    # (nd,) bool: depot row has a non-zero dual
    tight_out: np.ndarray    # (nd,) bool


def solve(network: Network, cost: np.ndarray, unmet_cost: float, *, order: np.ndarray | None = None,
          unmet_allowed: np.ndarray | None = None, equal_cap: np.ndarray | None = None,
          equal_out: np.ndarray | None = None, seed: np.ndarray | None = None,
          initial_arcs: int = INITIAL_ARCS) -> Solution:
    """Minimise ``Σ cost·x + unmet_cost·Σ u`` over ``network``.

    ``order`` ranks arcs for the first restricted problem (default ``cost``); ``unmet_allowed``
    limits which points may stay short; ``equal_cap`` / ``equal_out`` turn depot rows into
    equalities; ``seed`` arcs are always in the first restricted problem.
    """
    nd, nr = network.allowed.shape
    unmet_allowed = np.ones(nr, bool) if unmet_allowed is None else unmet_allowed
    equal_cap = np.zeros(nd, bool) if equal_cap is None else equal_cap
    equal_out = np.zeros(nd, bool) if equal_out is None else equal_out
    has_out = ((network.out_cap < network.cap) | equal_out) & (network.outside & network.allowed).any(axis=1)
    outside = network.outside & has_out[:, None]
    cost = np.where(network.allowed, cost, np.inf)
    finite = cost[network.allowed]
    tolerance = 1e-7 * max(1.0, float(np.abs(finite).max()) if finite.size else 1.0)

    chosen = _initial(network.allowed, cost if order is None else np.where(network.allowed, order, np.inf),
                      initial_arcs)
    if seed is not None:
        chosen |= seed & network.allowed
    while True:
        problem = _Restricted(network, cost, unmet_cost, unmet_allowed, equal_cap, equal_out, has_out, chosen)
        y_cap, y_out, y_dem = problem.solve()
        reduced = cost - y_cap[:, None] - np.where(outside, y_out[:, None], 0.0) - y_dem[None, :]
        candidates = network.allowed & ~chosen & (reduced < -tolerance)
        if not candidates.any():
            break
        chosen |= _most_negative(reduced, candidates)
    flow_values, unmet_values = problem.integral_solution()
    flow = np.zeros((nd, nr), dtype=np.int64)
    flow[problem.rows, problem.cols] = flow_values
    unmet = np.zeros(nr, dtype=np.int64)
    unmet[problem.unmet_cols] = unmet_values
    return Solution(flow, unmet, np.where(network.allowed, reduced, np.inf), unmet_cost - y_dem,
                    np.abs(y_cap) > tolerance, np.abs(y_out) > tolerance)


def _initial(allowed: np.ndarray, order: np.ndarray, count: int) -> np.ndarray:
    nd, nr = allowed.shape
    chosen = np.zeros_like(allowed)
    if nd <= count:
        return allowed.copy()
    picks = np.argpartition(order, count - 1, axis=0)[:count]
    chosen[picks, np.arange(nr)[None, :]] = True
    return chosen & allowed


def _most_negative(reduced: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    nd, nr = reduced.shape
    if nd <= ARCS_PER_ROUND:
        return candidates
    masked = np.where(candidates, reduced, np.inf)
    picks = np.argpartition(masked, ARCS_PER_ROUND - 1, axis=0)[:ARCS_PER_ROUND]
    added = np.zeros_like(candidates)
    added[picks, np.arange(nr)[None, :]] = True
    return added & candidates


class _Restricted:
    """The LP over the ``chosen`` arcs, with every allowed unmet column."""

    def __init__(self, network, cost, unmet_cost, unmet_allowed, equal_cap, equal_out, has_out, chosen):
        nd, nr = chosen.shape
        self.rows, self.cols = np.nonzero(chosen)
        self.unmet_cols = np.nonzero(unmet_allowed)[0]
        arcs, extra = len(self.rows), len(self.unmet_cols)
        self.nd, self.nr = nd, nr
        self.c = np.concatenate([cost[self.rows, self.cols], np.full(extra, float(unmet_cost))])
        arc_index = np.arange(arcs)
        out_rows = np.nonzero(has_out)[0]
        out_of = np.full(nd, -1)
        out_of[out_rows] = np.arange(len(out_rows))
        on_out = network.outside[self.rows, self.cols] & has_out[self.rows]
        # Row blocks: depots [0, nd), outside rows [nd, nd + n_out), demand points after.
        n_out = len(out_rows)
        row_ids = np.concatenate([self.rows, nd + out_of[self.rows[on_out]], nd + n_out + self.cols,
                                  nd + n_out + self.unmet_cols])
        col_ids = np.concatenate([arc_index, arc_index[on_out], arc_index, arcs + np.arange(extra)])
        total_rows = nd + n_out + nr
        matrix = sp.csr_matrix((np.ones(len(row_ids)), (row_ids, col_ids)), shape=(total_rows, arcs + extra))
        rhs = np.concatenate([network.cap, network.out_cap[out_rows], network.demand]).astype(float)
        equal = np.concatenate([equal_cap, equal_out[out_rows], np.ones(nr, bool)])
        self.matrix, self.rhs, self.equal = matrix, rhs, equal
        self.out_rows, self.n_out = out_rows, n_out
        self.result = None

    def solve(self):
        ub, eq = ~self.equal, self.equal
        result = linprog(
            self.c,
            A_ub=self.matrix[ub] if ub.any() else None, b_ub=self.rhs[ub] if ub.any() else None,
            A_eq=self.matrix[eq], b_eq=self.rhs[eq], bounds=(0, None), method="highs",
        )
        if result.status != 0:
            raise RuntimeError(f"allocation LP failed: {result.message}")
        self.result = result
        duals = np.zeros(len(self.rhs))
        if ub.any():
            duals[ub] = result.ineqlin.marginals
        duals[eq] = result.eqlin.marginals
        y_cap = duals[: self.nd]
        y_out = np.zeros(self.nd)
        y_out[self.out_rows] = duals[self.nd: self.nd + self.n_out]
        y_dem = duals[self.nd + self.n_out:]
        return y_cap, y_out, y_dem

    def integral_solution(self) -> tuple[np.ndarray, np.ndarray]:
        values = self.result.x
        rounded = np.rint(values)
        if np.abs(values - rounded).max(initial=0.0) > _INTEGRAL_TOLERANCE:
            rounded = self._solve_integer()
        rounded = np.maximum(rounded, 0).astype(np.int64)
        arcs = len(self.rows)
        return rounded[:arcs], rounded[arcs:]

    def _solve_integer(self) -> np.ndarray:
        lower = np.where(self.equal, self.rhs, -np.inf)
        result = milp(self.c, constraints=LinearConstraint(self.matrix, lower, self.rhs),
                      integrality=np.ones(len(self.c)), bounds=Bounds(0, np.inf))
        if result.status != 0:
            raise RuntimeError(f"allocation integer programme failed: {result.message}")
        return np.rint(result.x)
