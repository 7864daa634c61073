"""Plausibility of a measured road: figures a planner should look at twice before pricing them.

An outline drawn at the wrong scale, a blob instead of a strip or a width typed in the wrong
unit still measures and prices without error; these rules say so next to the bill, in words.
They are pure (measures in, warning texts out) so every client of the API gets the same ones.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from app.arrays import rows_where

FloatArray = npt.NDArray[np.float64]

MAX_ROAD_LENGTH_M = 20_000.0
"""One road of a city works programme: the longest streets of Kota Tangerang are under 15 km,
so 20 km is more likely a drawing at the wrong scale or several roads in one feature."""

MAX_ROAD_AREA_M2 = 200_000.0
"""20 ha: a 20 km road 10 m wide, or a 6.7 km dual carriageway 30 m wide."""

MIN_STRIP_RATIO = 2.0
"""A road outline is a strip: its centerline at least twice its mean width. Shorter, the
outline is a square or a blob and the length (and every linear item) is a guess."""


def _metres(value: float) -> str:
    return f"{value:,.1f} m"


def plausibility_warnings(
    length_m: FloatArray,
    area_m2: FloatArray,
    mean_width_m: FloatArray,
    polygon: npt.NDArray[np.bool_],
    width_range_m: FloatArray,
) -> dict[int, list[str]]:
    """The warnings each feature's measures call for, by feature index; most features have
    none and no entry.

    `width_range_m[i]` (one row per feature) is the (min, max) mean width the feature's
    template finds plausible.
    """
    count = len(length_m)
    warnings: dict[int, list[str]] = {}
    ranges = np.asarray(width_range_m, dtype=np.float64).reshape(count, 2)
    with np.errstate(invalid="ignore"):
        too_narrow = mean_width_m < ranges[:, 0]
        too_wide = mean_width_m > ranges[:, 1]
        too_long = length_m > MAX_ROAD_LENGTH_M
        too_large = area_m2 > MAX_ROAD_AREA_M2
        blob = polygon & (length_m < MIN_STRIP_RATIO * mean_width_m)
    for index in rows_where(too_narrow | too_wide | too_long | too_large | blob):
        low, high = ranges[index]
        width = float(mean_width_m[index])
        found = warnings[index] = []
        if too_narrow[index] or too_wide[index]:
            found.append(
                f"mean width {_metres(width)} is outside the {low:g}-{high:g} m plausible for "
                "its template: check the width or the outline"
            )
        if too_long[index]:
            found.append(
                f"length {length_m[index] / 1000:,.1f} km is longer than one road "
                f"({MAX_ROAD_LENGTH_M / 1000:g} km): check the scale of the drawing"
            )
        if too_large[index]:
            found.append(
                f"area {area_m2[index]:,.0f} m2 is larger than one road "
                f"({MAX_ROAD_AREA_M2:,.0f} m2): check the scale of the drawing"
            )
        if blob[index]:
            found.append(
                f"the centerline ({_metres(float(length_m[index]))}) is shorter than twice the "
                f"mean width ({_metres(width)}): the outline is not a road strip, so its length "
                "is a guess"
            )
    return warnings


def default_width_warning(width_m: float, template: str) -> str:
    """What a line priced without a width of its own was priced with."""
    return f"no width given: priced with template {template}'s default width {width_m:g} m"
