"""Relief materials (救灾物资): catalogue, demand, stock ledger and allocation.

A pure library: plain data in, plain data out; no application, no database.

- Catalogue and norms: :class:`Item`, :data:`DEFAULT_ITEMS`, :class:`DemandNorm`,
  :data:`DEFAULT_NORMS`, :func:`default_norms`, :func:`norms_from_config`.
- Demand (需求): :func:`compute_demand` → :class:`DemandLine`.
- Ledger (库存台账): :class:`Movement`, :func:`post`, :func:`reverse`, :func:`replay`,
  :func:`balances`, :func:`expiring`, :func:`available`, :class:`Ledger`.
- Allocation (调拨方案): :func:`allocate` (linear programme, HiGHS) and :func:`greedy_allocate`
  (nearest first), over :class:`Supply` and distances, under :class:`AllocationRules`.
"""
from stockpile._allocate import (
    TIER_PREFERENCES,
    TIERS,
    Allocation,
    AllocationLine,
    AllocationRules,
    DistanceMatrix,
    Supply,
    UnmetLine,
    allocate,
    greedy_allocate,
    tier_rank,
)
from stockpile._catalogue import (
    CATEGORIES,
    DEFAULT_HOUSEHOLD_SIZE,
    DEFAULT_ITEMS,
    DEFAULT_NORMS,
    INDICATORS,
    DemandNorm,
    Item,
    NormConfigError,
    default_norms,
    items_by_code,
    norms_from_config,
)
from stockpile._demand import DemandLine, compute_demand
from stockpile._ledger import (
    KINDS,
    InsufficientStock,
    Ledger,
    LedgerEntry,
    LedgerError,
    Lot,
    LotQuantity,
    Movement,
    StockState,
    available,
    balances,
    expiring,
    fefo_key,
    lot_balances,
    post,
    replay,
    reverse,
)
from stockpile._regions import prefix_contains

__all__ = [
    "CATEGORIES", "DEFAULT_HOUSEHOLD_SIZE", "DEFAULT_ITEMS", "DEFAULT_NORMS", "INDICATORS", "KINDS",
    "TIERS", "TIER_PREFERENCES",
    "Allocation", "AllocationLine", "AllocationRules", "DemandLine", "DemandNorm", "DistanceMatrix",
    "InsufficientStock", "Item", "Ledger", "LedgerEntry", "LedgerError", "Lot", "LotQuantity", "Movement",
    "NormConfigError", "StockState", "Supply", "UnmetLine",
    "allocate", "available", "balances", "compute_demand", "default_norms", "expiring", "fefo_key",
    "greedy_allocate", "items_by_code", "lot_balances", "norms_from_config", "post", "prefix_contains",
    "replay", "reverse", "tier_rank",
]
from stockpile._supply import (
    AREA_BANDS,
    ROTATION_HORIZON_DAYS,
    AreaBand,
    AreaCheck,
    RotationProposal,
    Settlement,
    StockLot,
    Want,
    area_standard,
    creates_obligation,
    rotation_proposals,
    settle,
)

__all__ += [
    "AREA_BANDS", "ROTATION_HORIZON_DAYS", "AreaBand", "AreaCheck", "RotationProposal", "Settlement", "StockLot",
    "Want", "area_standard", "creates_obligation", "rotation_proposals", "settle",
]
