"""The vectorised money path rounds exactly like the Decimal one, ties included."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from app.estimate.money import (
    from_minor,
    line_amount,
    percent_of,
    percent_of_minor,
    round_money,
    times_ratios,
    unit_price_ratio,
)
from app.estimate.units import stated_quantities, stated_units


def stated_amounts(units: np.ndarray, decimals: int, rate: Decimal, exponent: int) -> np.ndarray:
    """Amounts of one item's stated units at one rate, as pricing computes them."""
    return times_ratios(units[None, :], [[unit_price_ratio(rate, decimals, exponent)]])[0]


rates = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000000"), places=2)
quantities = st.floats(min_value=0, max_value=1e6, allow_nan=False)


def test_half_up_on_exact_ties():
    # 0.5 x 1 = 0.5 -> 1; 2.5 x 1 = 2.5 -> 3 (not banker's 2); 0.125 x 0.1 (EUR) = 0.0125 -> 0.01
    assert line_amount(Decimal("0.5"), Decimal(1), 0) == Decimal(1)
    assert line_amount(Decimal("2.5"), Decimal(1), 0) == Decimal(3)
    assert round_money(Decimal("0.005"), 2) == Decimal("0.01")
    # 50, 250 and 180250 hundredths of a unit at 1 per unit
    units = np.array([50, 250, 180250], dtype=np.int64)
    assert stated_amounts(units, 2, Decimal(1), 0).tolist() == [1, 3, 1803]


def test_the_stated_quantity_decides_not_its_float():
    # 0.15 m3 is stored as 0.1499999999999999944...; stated as 0.15, x 10 = 1.5 -> 2, as a
    # spreadsheet multiplying the shown volume by the rate and rounding gets it
    (stated,) = stated_quantities([0.15], ["m3"])
    assert stated == Decimal("0.15")
    assert line_amount(stated, Decimal(10), 0) == Decimal(2)
    units = stated_units(np.array([0.15, 0.7]), "m3")
    assert stated_amounts(units, 2, Decimal(5), 0).tolist() == [1, 4]  # 0.75 -> 1, 3.5 -> 4


def test_quantities_are_stated_with_their_units_decimals():
    # 138.888... m of joint -> 138.89; 1,234.5 kg of steel -> 1,235 kg; 0.004 m2 -> 0
    assert stated_quantities([500 / 3.6, 1234.5, 0.004], ["m", "kg", "m2"]) == [
        Decimal("138.89"),
        Decimal("1235"),
        Decimal("0.00"),
    ]


@given(st.lists(quantities, min_size=1, max_size=50), rates, st.sampled_from([0, 2]))
def test_vectorised_line_amounts_equal_decimal_ones(values, rate, exponent):
    units = stated_units(np.array(values), "t")
    got = stated_amounts(units, 2, rate, exponent)
    expected = [
        line_amount(quantity, rate, exponent)
        for quantity in stated_quantities(values, ["t"] * len(values))
    ]
    assert [from_minor(m, exponent) for m in got.tolist()] == expected


@given(
    st.lists(st.integers(0, 10**15), min_size=1, max_size=30),
    st.decimals(min_value=0, max_value=100, places=3),
    st.sampled_from([0, 2]),
)
def test_vectorised_percentages_equal_decimal_ones(bases, pct, exponent):
    got = percent_of_minor(np.array(bases, dtype=np.int64), pct)
    expected = [percent_of(from_minor(b, exponent), pct, exponent) for b in bases]
    assert [from_minor(m, exponent) for m in got.tolist()] == expected


def test_percent_of_large_bases_does_not_overflow():
    base = np.array([2**62], dtype=np.int64)
    assert percent_of_minor(base, Decimal("11")).tolist() == [(2**62 * 11 + 50) // 100]
