"""Array plumbing shared by the geo modules: one way to turn inputs into geometry arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
GeometryArray = NDArray[np.object_]


def as_geometry_array(geoms: Any) -> GeometryArray:
    """A 1-d numpy array of shapely geometries from an array, a list or a GeoSeries."""
    return np.asarray(getattr(geoms, "values", geoms), dtype=object).reshape(-1)
