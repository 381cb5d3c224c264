"""Exact arithmetic for quantities: norms, figures and shares are read as fractions.

Whole units (顶, 床, 件 …) are counted with ``math.ceil`` of an exact product, so that
``3 × (1/3)`` is exactly ``1`` and never ``1.0000000000000002`` rounded up to 2.
"""
from __future__ import annotations

import math
import numbers
from decimal import Decimal
from fractions import Fraction

#: A float is read as the nearest fraction whose denominator is at most this, so that
#: ``1/3`` and ``0.1`` are exact. Pass a ``Fraction`` or ``Decimal`` for anything finer.
FLOAT_DENOMINATOR_LIMIT = 10**6


def exact(value: object, what: str) -> Fraction:
    """``value`` as a ``Fraction``; ``what`` names it in the error.

    Raises
    ------
    TypeError
        ``value`` is not a real number (``bool`` is refused too).
    ValueError
        ``value`` is NaN or infinite.
    """
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, Decimal)):
        raise TypeError(f"{what} must be a number, got {value!r}")
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{what} must be finite, got {value!r}")
        return Fraction(value)
    as_float = float(value)
    if not math.isfinite(as_float):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return Fraction(as_float).limit_denominator(FLOAT_DENOMINATOR_LIMIT)


def whole(value: object, what: str, *, minimum: int = 0) -> int:
    """``value`` as an ``int`` of at least ``minimum``; integral floats such as ``5.0`` pass.

    Raises
    ------
    TypeError
        ``value`` is not a number.
    ValueError
        ``value`` is not a whole number or is below ``minimum``.
    """
    fraction = exact(value, what)
    if fraction.denominator != 1:
        raise ValueError(f"{what} must be a whole number, got {value!r}")
    result = int(fraction)
    if result < minimum:
        raise ValueError(f"{what} must be at least {minimum}, got {value!r}")
    return result


def ceil_exact(value: Fraction) -> int:
    """The smallest integer not below ``value`` (exact, no float rounding)."""
    return -((-value.numerator) // value.denominator)
