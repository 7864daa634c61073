"""Citizens' complaint points (potholes reported from a phone) counted against road segments.

A complaint belongs to every segment within `distance_m` of it, measured on the ellipsoid: the
segments near it by bounding box (a box widened by the distance in degrees, generously) are
drawn in an azimuthal equidistant frame centred on the complaint, where the distance from the
centre to any point is its geodesic distance, and the distance from the centre to the drawn
line is the distance to the road (to well under a millimetre for street-length segments).
One frame per complaint: complaints are few, segments many.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import shapely

from app.batch.work import decode
from app.errors import InvalidInput
from app.geo.arrays import GeometryArray
from app.geo.local import local_coordinates
from app.io.sources import open_source

IntArray = npt.NDArray[np.int64]
_METRES_PER_DEGREE = 110_574.0
"""Metres in a degree of latitude at the equator, the shortest there is: a box widened by
distance / this, divided by cos(latitude) for longitude, holds every point within distance."""


def complaint_points(path: Path) -> npt.NDArray[np.float64]:
    """(n, 2) lon/lat of the complaint points in a GeoJSON, GeoPackage or CSV (WKT column)
    file; any other geometry is an error naming its row."""
    source = open_source(path)
    points: list[npt.NDArray[np.float64]] = []
    row = 1
    for chunk in source.chunks():
        features = decode(chunk.geometry, source.encoding, source.crs)
        for index, (geometry, problem) in enumerate(
            zip(features.geometries, features.problems, strict=True)
        ):
            is_point = geometry is not None and shapely.get_type_id(geometry) == 0
            if problem is not None or not is_point or shapely.is_empty(geometry):
                reason = problem or "a complaint is a Point in lon/lat"
                raise InvalidInput(
                    f"{path.name}: {reason}", row=row + index, field=source.geometry_column
                )
        points.append(shapely.get_coordinates(features.geometries))
        row += len(chunk)
    return np.concatenate(points) if points else np.empty((0, 2))


def count_near(
    segments: GeometryArray, points: npt.NDArray[np.float64], distance_m: float
) -> IntArray:
    """How many complaint points lie within `distance_m` (geodesic) of each segment (None:
    a segment without geometry, which gets none)."""
    counts = np.zeros(len(segments), dtype=np.int64)
    present = np.flatnonzero(~shapely.is_missing(segments) & ~shapely.is_empty(segments))
    if not len(points) or not len(present):
        return counts
    tree = shapely.STRtree(segments[present])
    lat = np.abs(points[:, 1])
    dlat = distance_m / _METRES_PER_DEGREE
    dlon = dlat / np.cos(np.radians(np.minimum(lat + dlat, 89.0)))
    boxes = shapely.box(
        points[:, 0] - dlon, points[:, 1] - dlat, points[:, 0] + dlon, points[:, 1] + dlat
    )
    point_of, candidate = tree.query(boxes)
    if not len(candidate):
        return counts
    lines = segments[present[candidate]]
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    local = local_coordinates(coords, owner, points[point_of])
    drawn = shapely.set_coordinates(lines.copy(), local)
    near = shapely.distance(drawn, shapely.points(0.0, 0.0)) <= distance_m
    np.add.at(counts, present[candidate[near]], 1)
    return counts
