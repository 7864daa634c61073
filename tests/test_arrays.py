"""`app.arrays.factorize` numbers values as pandas does, with or without pandas;
`rows_where` finds set rows as `flatnonzero` does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.arrays import SMALL, factorize, rows_where


@pytest.mark.parametrize("size", [5, SMALL + 1])
@pytest.mark.parametrize(
    "pool",
    [
        np.array(["local", "collector", None, "local"], dtype=object),
        np.array([7, 3, 7, 1]),
        np.array([2.5, np.nan, 2.5, 0.0]),
    ],
    ids=["text with None", "integers", "floats with NaN"],
)
def test_codes_and_uniques_are_those_of_pandas(size: int, pool: np.ndarray) -> None:
    values = np.resize(pool, size)
    codes, uniques = factorize(values)
    expected_codes, expected_uniques = pd.factorize(values)
    assert codes.tolist() == expected_codes.tolist()
    assert uniques.tolist() == list(expected_uniques)
    assert codes.dtype == np.intp


def test_a_handful_numbered_in_order_of_first_appearance() -> None:
    codes, uniques = factorize(np.array(["b", None, "a", "b"], dtype=object))
    assert codes.tolist() == [0, -1, 1, 0]
    assert uniques.tolist() == ["b", "a"]


@pytest.mark.parametrize(
    "mask",
    [[False, True, False, True], [False, False], [True], []],
    ids=["some", "none", "one", "empty"],
)
def test_rows_where_are_the_set_rows_as_python_ints(mask: list[bool]) -> None:
    rows = rows_where(np.array(mask, dtype=bool))
    assert rows == [index for index, value in enumerate(mask) if value]
    assert all(type(row) is int for row in rows)
