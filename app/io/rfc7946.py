"""GeoJSON geometry as RFC 7946 wants it: right-hand rule and 7 decimals (about 1 cm)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import shapely

DECIMALS = 7  # about 1 cm on the ground: finer digits are noise, coarser ones move kerbs


def oriented(
    geometries: Sequence[shapely.Geometry | None] | npt.NDArray[np.object_],
) -> npt.NDArray[np.object_]:
    """Exteriors counter-clockwise, holes clockwise (the right-hand rule, in lon/lat)."""
    return np.asarray(shapely.orient_polygons(np.asarray(geometries, dtype=object)), dtype=object)


def rounded(
    geometries: npt.NDArray[np.object_], decimals: int = DECIMALS
) -> npt.NDArray[np.object_]:
    """Coordinates (heights too) rounded to `decimals`."""

    def round_coordinates(coordinates: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.round(coordinates, decimals)

    return np.asarray(
        shapely.transform(geometries, round_coordinates, include_z=True), dtype=object
    )


def rfc7946_geometries(
    geometries: Sequence[shapely.Geometry | None] | npt.NDArray[np.object_],
) -> npt.NDArray[np.object_]:
    """Exteriors counter-clockwise, holes clockwise, coordinates rounded; one vectorised pass."""
    return rounded(oriented(geometries))
