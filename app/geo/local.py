"""Local metric frames: each feature drawn in metres around a nearby centre, and back.

Shapes that need planar geometry (a buffered footprint, a skeleton) are built in an azimuthal
equidistant projection on the WGS84 ellipsoid centred on the feature, or for footprints on a
0.05 degree grid point near it, so the features of one neighbourhood share a frame (one
transform, not one per feature) and stay within a few kilometres of its centre, where a metre
is a metre to ~1e-7. Never degrees, never one UTM zone for all.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from app.geo.arrays import FloatArray, GeometryArray

GRID_DEG = 0.05
"""Frame centres snap to this grid: about 5.5 km, so a feature is within a few km of its centre."""


@lru_cache(maxsize=1024)
def _aeqd(lon0: float, lat0: float) -> Transformer:
    """lon/lat degrees -> metres east/north of (lon0, lat0); a pipeline builds in ~0.1 ms."""
    return Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
        f"+step +proj=aeqd +lat_0={float(lat0)!r} +lon_0={float(lon0)!r} +ellps=WGS84"
    )


def origins(geoms: GeometryArray, shared: bool = False) -> FloatArray:
    """(n, 2) lon/lat of each feature's frame centre: its bounding-box middle.

    `shared` snaps centres to the grid so neighbours share a frame (and a transformer built
    once): right for footprints and for telling strips, where speed matters and tolerances
    are percent; a skeleton keeps its own centre, whose small coordinates keep the
    triangulation of a sliver-thin outline exact.
    """
    bounds = shapely.bounds(geoms)
    middles = np.column_stack(
        [(bounds[:, 0] + bounds[:, 2]) / 2.0, (bounds[:, 1] + bounds[:, 3]) / 2.0]
    )
    return np.round(middles / GRID_DEG) * GRID_DEG if shared else middles


def _transform(
    coords: FloatArray, owner: NDArray[np.intp], centres: FloatArray, direction: str
) -> FloatArray:
    """Vertices of geometry `owner[i]` transformed in the frame of `centres[owner[i]]`:
    one transform call per distinct centre (just one, without sorting, when all share it)."""
    if len(centres) and (centres == centres[0]).all():
        lon0, lat0 = centres[0].tolist()
        x, y = _aeqd(lon0, lat0).transform(coords[:, 0], coords[:, 1], direction=direction)
        return np.column_stack([x, y])
    frames, frame_of = np.unique(centres, axis=0, return_inverse=True)
    frame_of_vertex = frame_of.reshape(-1)[owner]
    out = np.empty_like(coords)
    for frame, (lon0, lat0) in enumerate(frames.tolist()):
        rows = frame_of_vertex == frame
        if not rows.any():  # the centre of an empty geometry
            continue
        x, y = _aeqd(lon0, lat0).transform(coords[rows, 0], coords[rows, 1], direction=direction)
        out[rows, 0], out[rows, 1] = x, y
    return out


def _per_feature(geoms: GeometryArray, centres: FloatArray, direction: str) -> GeometryArray:
    """Transform each geometry in its centre's frame."""
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    out = _transform(coords, owner, centres, direction)
    return np.asarray(shapely.set_coordinates(geoms.copy(), out), dtype=object)


def local_coordinates(
    coords: FloatArray, owner: NDArray[np.intp], centres: FloatArray
) -> FloatArray:
    """Vertices (lon/lat) of geometry `owner[i]` in metres around that geometry's centre, as
    `shapely.get_coordinates(..., return_index=True)` gives them: no geometry is rebuilt."""
    return _transform(coords, owner, centres, "FORWARD")


def to_local(geoms: GeometryArray, centres: FloatArray) -> GeometryArray:
    """Each geometry (EPSG:4326) in metres around its own centre (`centres[i]`, lon/lat)."""
    return _per_feature(geoms, centres, "FORWARD")


def to_lonlat(geoms: GeometryArray, centres: FloatArray) -> GeometryArray:
    """Inverse of `to_local`: geometries in metres around `centres[i]` back to EPSG:4326."""
    return _per_feature(geoms, centres, "INVERSE")
