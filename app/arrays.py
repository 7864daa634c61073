"""Array plumbing shared by the estimate code: what pandas does for many values, done
directly for the handful of one request (pandas's set-up costs more than the work)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

SMALL = 64
"""Up to this many values are numbered with a dict rather than with pandas."""


def factorize(values: npt.NDArray[Any]) -> tuple[npt.NDArray[np.intp], npt.NDArray[Any]]:
    """`pandas.factorize`: a code per value, numbering distinct values in order of first
    appearance (None and NaN: -1), and those distinct values."""
    if len(values) > SMALL:
        codes, uniques = pd.factorize(values)
        return codes.astype(np.intp, copy=False), np.asarray(uniques)
    numbered: dict[Any, int] = {}
    codes = np.empty(len(values), dtype=np.intp)
    for index, value in enumerate(values.tolist()):
        missing = value is None or value != value  # NaN is the one value unequal to itself
        codes[index] = -1 if missing else numbered.setdefault(value, len(numbered))
    uniques = np.empty(len(numbered), dtype=values.dtype)
    uniques[:] = list(numbered)
    return codes, uniques


def rows_where(mask: npt.NDArray[np.bool_]) -> list[int]:
    """Where `mask` is set, as Python ints. Checks for problems are nearly always set nowhere,
    which `any` tells quicker than `flatnonzero` finds."""
    return np.flatnonzero(mask).tolist() if mask.any() else []
