"""Array plumbing shared by the geo modules: one way to turn inputs into geometry arrays."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
GeometryArray = NDArray[np.object_]


LINE_TYPE_IDS = (int(shapely.GeometryType.LINESTRING), int(shapely.GeometryType.MULTILINESTRING))
"""The type ids of a road drawn as its centreline (`shapely.get_type_id`)."""


def is_type(type_ids: NDArray[np.int32], kinds: Iterable[int]) -> NDArray[np.bool_]:
    """Where `type_ids` (from `shapely.get_type_id`) is one of `kinds` (plain ints: numpy
    compares IntEnums slowly): a few comparisons, which for the handful of geometries of one
    request cost a tenth of `np.isin`."""
    mask = np.zeros(type_ids.shape, dtype=bool)
    for kind in kinds:
        mask |= type_ids == kind
    return mask


def as_geometry_array(geoms: Any) -> GeometryArray:
    """A 1-d numpy array of shapely geometries from an array, a list or a GeoSeries."""
    return np.asarray(getattr(geoms, "values", geoms), dtype=object).reshape(-1)
