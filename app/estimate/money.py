"""Money arithmetic: exact `Decimal` rounding, once, half up, to the currency's minor unit.

The same rounding is offered twice: on scalars (`line_amount`, `percent_of`) for aggregated
lines and totals, and on numpy arrays of integers (`stated_amounts`, `percent_of_minor`) for
per-feature lines of millions of features. A line's amount is priced on its quantity as the
bill states it (whole units of its last decimal, `app.estimate.units.stated_units`), so both
versions work on integers and rationals and agree exactly, ties included.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

import numpy as np
import numpy.typing as npt

# A float64 has at most 767 significant decimal digits and rates at most 20: products are exact.
_EXACT = Context(prec=1000, rounding=ROUND_HALF_UP)

MAX_MINOR_UNITS = 2**53
"""Largest line amount in minor units a bill prices (9e15: far above any road)."""


def quantum(exponent: int) -> Decimal:
    """The currency's minor unit: 1 for IDR (exponent 0), 0.01 for EUR (exponent 2)."""
    return Decimal(1).scaleb(-exponent)


def round_money(value: Decimal, exponent: int) -> Decimal:
    """`value` rounded half up to the minor unit."""
    with localcontext(_EXACT):
        return value.quantize(quantum(exponent))


def line_amount(quantity: Decimal, rate: Decimal, exponent: int) -> Decimal:
    """round(quantity x rate): `quantity` as the bill states it (`stated_quantity`)."""
    with localcontext(_EXACT):
        return round_money(quantity * rate, exponent)


def percent_of(base: Decimal, pct: Decimal, exponent: int) -> Decimal:
    """round(base x pct / 100): overhead & profit on a subtotal, tax on a taxable amount."""
    with localcontext(_EXACT):
        return round_money(base * pct / 100, exponent)


def from_minor(minor: int, exponent: int) -> Decimal:
    """An integer number of minor units as a `Decimal` amount (12345, 2 -> 123.45)."""
    return Decimal(minor).scaleb(-exponent) if exponent else Decimal(minor)


def stated_amounts(
    units: npt.NDArray[np.int64], decimals: int, rate: Decimal, exponent: int
) -> npt.NDArray[np.int64]:
    """`line_amount` of quantities stated as whole `units` of 10**-decimals (4640 at 2
    decimals: 46.40 t), in integer minor units, vectorised and exact."""
    return _times_exactly(units, rate.scaleb(exponent - decimals))


def max_quantity(rate: Decimal, exponent: int) -> float:
    """The largest quantity a bill prices at `rate`."""
    return MAX_MINOR_UNITS / float(rate.scaleb(exponent))


def percent_of_minor(base: npt.NDArray[np.int64], pct: Decimal) -> npt.NDArray[np.int64]:
    """`percent_of` on non-negative integer minor units, vectorised and exact."""
    return _times_exactly(base, pct / 100)


def _times_exactly(base: npt.NDArray[np.int64], factor: Decimal) -> npt.NDArray[np.int64]:
    """round(base x factor), half up, for non-negative integers, in exact integer arithmetic."""
    with localcontext(_EXACT):
        numerator, denominator = factor.as_integer_ratio()
    # round half up of base * n / d for base >= 0 is floor((2 * base * n + d) / (2 * d)).
    if base.size and int(base.max()) * 2 * numerator + denominator >= 2**63:
        wide = base.astype(object) * (2 * numerator) + denominator
        return (wide // (2 * denominator)).astype(np.int64)
    return (base * (2 * numerator) + denominator) // (2 * denominator)
