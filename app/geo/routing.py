"""Haul distances from material sources to a site.

The distance is geodesic (on the WGS84 ellipsoid, never degrees) from the source to the
site, times the catalog's stated detour factor for the roads a truck takes instead of the
straight line: `haul_method` says "straight-line" so nobody takes it for a routed distance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import shapely
from pyproj import Geod

from app.estimate.materials import STRAIGHT_LINE, Haul
from app.store.repository import StoredFeature

_GEOD = Geod(ellps="WGS84")


def site_point(geometries: Iterable[shapely.Geometry]) -> shapely.Point:
    """Where material is delivered: the centre of the estimate's geometries (EPSG:4326)."""
    return shapely.centroid(shapely.GeometryCollection(list(geometries)))


def straight_km(site: shapely.Point, points: Sequence[shapely.Geometry]) -> np.ndarray:
    """Geodesic distance in km from each point to the site."""
    xy = shapely.get_coordinates(list(points))
    if not len(xy):
        return np.empty(0)
    _, _, metres = _GEOD.inv(xy[:, 0], xy[:, 1], np.full(len(xy), site.x), np.full(len(xy), site.y))
    return np.asarray(metres, dtype=np.float64) / 1000.0


def nearest_hauls(
    site: shapely.Point,
    materials: Sequence[str],
    sources: Sequence[StoredFeature],
    detour_factor: float,
) -> dict[str, Haul]:
    """For each material some source supplies, the nearest such source (ties: lowest id)."""
    distances = straight_km(site, [source.geometry for source in sources])
    hauls = {}
    for material in materials:
        supplying = [
            i for i, source in enumerate(sources) if material in source.properties["materials"]
        ]
        if not supplying:
            continue
        best = min(supplying, key=lambda i: (distances[i], sources[i].id))
        source = sources[best]
        km = float(distances[best])
        hauls[material] = Haul(
            source_id=source.id,
            name=source.properties["name"],
            kind=source.properties["kind"],
            straight_km=round(km, 3),
            haul_km=round(km * detour_factor, 3),
            method=STRAIGHT_LINE,
            detour_factor=detour_factor,
        )
    return hauls
