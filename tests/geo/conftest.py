"""Shapes built in metres around a chosen origin (default Kota Tangerang), turned into lon/lat.

The local frame is an azimuthal equidistant projection from pyproj, independent of the code
under test, so analytic shapes (bands, bends, annulus sectors) keep their metric dimensions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import shapely
from pyproj import Transformer

TANGERANG = (106.63, -6.17)


class LocalFrame:
    """Metres east/north of an origin <-> lon/lat on WGS84."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self._transformer = Transformer.from_crs(
            f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +ellps=WGS84 +units=m",
            "EPSG:4326",
            always_xy=True,
        )

    def lonlat(self, geom: shapely.Geometry) -> shapely.Geometry:
        def forward(coords: np.ndarray) -> np.ndarray:
            lon, lat = self._transformer.transform(coords[:, 0], coords[:, 1])
            return np.column_stack([lon, lat])

        return shapely.transform(geom, forward)

    def metres(self, geom: shapely.Geometry) -> shapely.Geometry:
        def inverse(coords: np.ndarray) -> np.ndarray:
            x, y = self._transformer.transform(coords[:, 0], coords[:, 1], direction="INVERSE")
            return np.column_stack([x, y])

        return shapely.transform(geom, inverse)


@pytest.fixture
def frame() -> Callable[..., LocalFrame]:
    def make(lon0: float = TANGERANG[0], lat0: float = TANGERANG[1]) -> LocalFrame:
        return LocalFrame(lon0, lat0)

    return make
