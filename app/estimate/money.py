"""Money arithmetic: exact `Decimal` rounding, once, half up, to the currency's minor unit.

The same rounding is offered twice: on scalars (`line_amount`, `percent_of`) for aggregated
lines and totals, and on numpy arrays of integer minor units (`minor_units`,
`percent_of_minor`) for per-feature lines of millions of features. The array versions give
the same result as the scalar ones for every input: float arithmetic decides the clear cases
and any value within float error of a rounding tie is recomputed exactly.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

import numpy as np
import numpy.typing as npt

# A float64 has at most 767 significant decimal digits and rates at most 20: products are exact.
_EXACT = Context(prec=1000, rounding=ROUND_HALF_UP)

MAX_MINOR_UNITS = 2**53
"""Largest line amount in minor units the array path handles (9e15: far above any road)."""

_TIE_TOLERANCE = 2.0**-49  # relative error of q * rate in float64 is below 2**-51


def quantum(exponent: int) -> Decimal:
    """The currency's minor unit: 1 for IDR (exponent 0), 0.01 for EUR (exponent 2)."""
    return Decimal(1).scaleb(-exponent)


def round_money(value: Decimal, exponent: int) -> Decimal:
    """`value` rounded half up to the minor unit."""
    with localcontext(_EXACT):
        return value.quantize(quantum(exponent))


def line_amount(quantity: float, rate: Decimal, exponent: int) -> Decimal:
    """round(quantity x rate), using the exact value of the float quantity."""
    with localcontext(_EXACT):
        return round_money(Decimal(quantity) * rate, exponent)


def percent_of(base: Decimal, pct: Decimal, exponent: int) -> Decimal:
    """round(base x pct / 100): overhead & profit on a subtotal, tax on a taxable amount."""
    with localcontext(_EXACT):
        return round_money(base * pct / 100, exponent)


def from_minor(minor: int, exponent: int) -> Decimal:
    """An integer number of minor units as a `Decimal` amount (12345, 2 -> 123.45)."""
    return Decimal(minor).scaleb(-exponent) if exponent else Decimal(minor)


def minor_units(
    quantities: npt.NDArray[np.float64], rate: Decimal, exponent: int
) -> npt.NDArray[np.int64]:
    """`line_amount` of each quantity, in integer minor units, vectorised.

    Quantities must be finite, non-negative and priced below `MAX_MINOR_UNITS`
    (see `max_quantity`).
    """
    scaled_rate = rate.scaleb(exponent)
    x = quantities * float(scaled_rate)
    rounded = np.floor(x + 0.5).astype(np.int64)
    doubtful = np.flatnonzero(np.abs(x - np.floor(x) - 0.5) <= x * _TIE_TOLERANCE)
    if doubtful.size:
        with localcontext(_EXACT):
            for i in doubtful:
                exact = Decimal(float(quantities[i])) * scaled_rate
                rounded[i] = int(exact.quantize(Decimal(1)))
    return rounded


def max_quantity(rate: Decimal, exponent: int) -> float:
    """The largest quantity `minor_units` can price at `rate`."""
    return MAX_MINOR_UNITS / float(rate.scaleb(exponent))


def percent_of_minor(base: npt.NDArray[np.int64], pct: Decimal) -> npt.NDArray[np.int64]:
    """`percent_of` on non-negative integer minor units, vectorised and exact."""
    with localcontext(_EXACT):
        numerator, denominator = (pct / 100).as_integer_ratio()
    # round half up of base * n / d for base >= 0 is floor((2 * base * n + d) / (2 * d)).
    if base.size and int(base.max()) * 2 * numerator + denominator >= 2**63:
        wide = base.astype(object) * (2 * numerator) + denominator
        return (wide // (2 * denominator)).astype(np.int64)
    return (base * (2 * numerator) + denominator) // (2 * denominator)
