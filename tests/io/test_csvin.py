"""Numbers written as text in a CSV: every cell read, or named as not a number."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from app.io.csvin import parse_numbers


def test_a_column_of_plain_numbers():
    numbers, bad = parse_numbers(pa.array(["3.5", None, " 4 ", "1e2", "+.5"], pa.string()))
    assert numbers.tolist()[:1] + numbers.tolist()[2:] == [3.5, 4.0, 100.0, 0.5]
    assert np.isnan(numbers[1])
    assert bad.tolist() == [False] * 5


def test_cells_that_are_no_number_are_named_and_the_rest_still_read():
    column = pa.array(["3.5", "inf", "nan", "x", "  ", "7"], pa.string())
    numbers, bad = parse_numbers(column)
    assert bad.tolist() == [False, True, True, True, False, False]
    assert numbers[0] == 3.5 and numbers[5] == 7.0
    assert np.isnan(numbers[1:5]).all()


def test_decimal_commas():
    numbers, bad = parse_numbers(pa.array(["3,5", "4"], pa.string()), decimal=",")
    assert numbers.tolist() == [3.5, 4.0]
    assert not bad.any()
    _, bad = parse_numbers(pa.array(["3,5"], pa.string()))
    assert bad.tolist() == [True]
