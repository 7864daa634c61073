"""Overlapping road surfaces in one request: a junction drawn twice would be paved twice.

Surfaces are the polygons as drawn and the footprints of lines with their widths. Overlap
areas are measured on the ellipsoid like every other area.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from app.geo.arrays import GeometryArray
from app.geo.measure import geodesic_areas

MIN_OVERLAP_M2 = 0.01
"""Smaller overlaps are rounding at shared edges, not pavement."""


@dataclass(frozen=True)
class Overlap:
    """Two features whose surfaces share `area_m2` square metres."""

    first: int
    second: int
    area_m2: float


def find_overlaps(surfaces: GeometryArray) -> list[Overlap]:
    """Every pair of surfaces that share more than `MIN_OVERLAP_M2`, in index order."""
    tree = shapely.STRtree(surfaces)
    first, second = tree.query(surfaces, predicate="intersects")
    keep = first < second
    first, second = first[keep], second[keep]
    if first.size == 0:
        return []
    shared = shapely.intersection(surfaces[first], surfaces[second])
    areas = geodesic_areas(_polygonal(shared))
    return [
        Overlap(int(a), int(b), float(area))
        for a, b, area in zip(first, second, areas, strict=True)
        if area > MIN_OVERLAP_M2
    ]


def _polygonal(geoms: GeometryArray) -> GeometryArray:
    """Only the polygon parts of intersections (shared edges and points have no area)."""
    out = np.empty(len(geoms), dtype=object)
    for index, geom in enumerate(geoms):
        parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
        out[index] = shapely.union_all(parts) if parts else shapely.Polygon()
    return out


def areas_paved_before(surfaces: GeometryArray, overlaps: list[Overlap]) -> npt.NDArray[np.float64]:
    """For each feature, the part of its surface an earlier feature already paves (m2)."""
    earlier: dict[int, list[int]] = {}
    for overlap in overlaps:
        earlier.setdefault(overlap.second, []).append(overlap.first)
    paved = np.zeros(len(surfaces))
    for later, before in earlier.items():
        shared = shapely.intersection(surfaces[later], shapely.union_all(surfaces[before]))
        paved[later] = geodesic_areas(_polygonal(np.array([shared], dtype=object)))[0]
    return paved
