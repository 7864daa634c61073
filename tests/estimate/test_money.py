"""The vectorised money path rounds exactly like the Decimal one, ties included."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from app.estimate.money import (
    from_minor,
    line_amount,
    minor_units,
    percent_of,
    percent_of_minor,
    round_money,
)

rates = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000000"), places=2)
quantities = st.floats(min_value=0, max_value=1e6, allow_nan=False)


def test_half_up_on_exact_ties():
    # 0.5 x 1 = 0.5 -> 1; 2.5 x 1 = 2.5 -> 3 (not banker's 2); 0.125 x 0.1 (EUR) = 0.0125 -> 0.01
    assert line_amount(0.5, Decimal(1), 0) == Decimal(1)
    assert line_amount(2.5, Decimal(1), 0) == Decimal(3)
    assert round_money(Decimal("0.005"), 2) == Decimal("0.01")
    assert minor_units(np.array([0.5, 2.5, 1802.5]), Decimal(1), 0).tolist() == [1, 3, 1803]


def test_the_exact_value_of_a_float_decides_near_ties():
    # 0.1 is stored as 0.1000000000000000055...: x 5 it is just above 0.5, so it rounds up;
    # 0.7 is stored as 0.6999999999999999555...: x 5 = 3.4999... rounds down
    assert minor_units(np.array([0.1, 0.7]), Decimal(5), 0).tolist() == [1, 3]
    assert [line_amount(q, Decimal(5), 0) for q in (0.1, 0.7)] == [Decimal(1), Decimal(3)]


@given(st.lists(quantities, min_size=1, max_size=50), rates, st.sampled_from([0, 2]))
def test_vectorised_line_amounts_equal_decimal_ones(values, rate, exponent):
    got = minor_units(np.array(values), rate, exponent)
    expected = [line_amount(q, rate, exponent) for q in values]
    assert [from_minor(m, exponent) for m in got.tolist()] == expected


@given(st.integers(0, 10**6), rates, st.sampled_from([0, 2]))
def test_constructed_ties_agree(whole, rate, exponent):
    # quantities whose product with the rate lands on (or within float error of) a half unit
    quantity = (whole + 0.5) / float(rate.scaleb(exponent))
    got = minor_units(np.array([quantity]), rate, exponent)
    assert from_minor(int(got[0]), exponent) == line_amount(quantity, rate, exponent)


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
