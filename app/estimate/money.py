"""Money arithmetic: exact `Decimal` rounding, once, half up, to the currency's minor unit.

The same rounding is offered twice: on scalars (`line_amount`, `percent_of`) for aggregated
lines and totals, and on numpy arrays of integers (`times_ratios`, `percent_of_minor`) for
per-feature lines of millions of features. A line's amount is priced on its quantity as the
bill states it (whole units of its last decimal, `app.estimate.units.stated_units`), so both
versions work on integers and rationals and agree exactly, ties included.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache

import numpy as np
import numpy.typing as npt

# A float64 has at most 767 significant decimal digits and rates at most 20: products are exact.
_EXACT = Context(prec=1000, rounding=ROUND_HALF_UP)

MAX_MINOR_UNITS = 2**53
"""Largest line amount in minor units a bill prices (9e15: far above any road)."""


@lru_cache(maxsize=8)
def quantum(exponent: int) -> Decimal:
    """The currency's minor unit: 1 for IDR (exponent 0), 0.01 for EUR (exponent 2)."""
    return Decimal(1).scaleb(-exponent)


def round_money(value: Decimal, exponent: int) -> Decimal:
    """`value` rounded half up to the minor unit."""
    return value.quantize(quantum(exponent), context=_EXACT)


def line_amount(quantity: Decimal, rate: Decimal, exponent: int) -> Decimal:
    """round(quantity x rate): `quantity` as the bill states it (`stated_quantities`)."""
    return round_money(_EXACT.multiply(quantity, rate), exponent)


def percent_of(base: Decimal, pct: Decimal, exponent: int) -> Decimal:
    """round(base x pct / 100): overhead & profit on a subtotal, tax on a taxable amount."""
    return round_money(_EXACT.divide(_EXACT.multiply(base, pct), 100), exponent)


def from_minor(minor: int, exponent: int) -> Decimal:
    """An integer number of minor units as a `Decimal` amount (12345, 2 -> 123.45)."""
    return Decimal(minor).scaleb(-exponent) if exponent else Decimal(minor)


@lru_cache(maxsize=4096)
def unit_price_ratio(rate: Decimal, decimals: int, exponent: int) -> tuple[int, int]:
    """The price of one stated unit (10**-decimals of the unit) in minor units, as an exact
    fraction: what `times_ratios` multiplies stated units by."""
    return rate.scaleb(exponent - decimals).as_integer_ratio()


def times_ratios(
    base: npt.NDArray[np.int64],
    ratios: Sequence[Sequence[tuple[int, int]]],
    group: npt.NDArray[np.intp] | None = None,
) -> npt.NDArray[np.int64]:
    """round(base[j, k] x n / d), half up, in exact integer arithmetic, for non-negative
    integers: (n, d) is `ratios[j][group[k]]`, or `ratios[j][0]` for every k without `group`;
    every row in one pass."""
    numerators = [[n for n, _ in row] for row in ratios]
    denominators = [[d for _, d in row] for row in ratios]
    # round half up of base * n / d for base >= 0 is floor((2 * base * n + d) / (2 * d));
    # past int64 the same in Python integers
    largest = int(base.max()) if base.size else 0
    wide = largest * 2 * max(map(max, numerators)) + max(map(max, denominators)) >= 2**63
    dtype = object if wide else np.int64
    n, d = np.array(numerators, dtype=dtype), np.array(denominators, dtype=dtype)
    n, d = (n[:, :1], d[:, :1]) if group is None else (n[:, group], d[:, group])
    wide_base = base.astype(dtype, copy=False)
    return ((wide_base * (2 * n) + d) // (2 * d)).astype(np.int64, copy=False)


@lru_cache(maxsize=4096)
def max_quantity(rate: Decimal, exponent: int) -> float:
    """The largest quantity a bill prices at `rate`."""
    return MAX_MINOR_UNITS / float(rate.scaleb(exponent))


def percent_of_minor(base: npt.NDArray[np.int64], pct: Decimal) -> npt.NDArray[np.int64]:
    """`percent_of` on non-negative integer minor units, vectorised and exact."""
    return times_ratios(base[None, :], [[_percent_ratio(pct)]])[0]


@lru_cache(maxsize=64)
def _percent_ratio(pct: Decimal) -> tuple[int, int]:
    return _EXACT.divide(pct, 100).as_integer_ratio()
