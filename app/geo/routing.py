"""Haul distances from material sources to a site: the nearest source of each material.

Over the road network where the site and a supplying source are on it and a path joins them
(`app.geo.network`, `haul_method` "network"); otherwise the geodesic distance (WGS84
ellipsoid, never degrees) times the catalog's stated detour factor for the roads a truck
takes instead of the straight line, `haul_method` "straight-line" with a warning saying why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import shapely
from pyproj import Geod

from app.estimate.materials import NETWORK, STRAIGHT_LINE, Haul
from app.geo.arrays import GeometryArray
from app.geo.network import RoadNetwork, ShortestPaths
from app.store.repository import StoredFeature

_GEOD = Geod(ellps="WGS84")


def site_point(geometries: GeometryArray) -> shapely.Point:
    """Where material is delivered: the centre of the estimate's geometries (EPSG:4326)."""
    centre = shapely.centroid(shapely.geometrycollections(geometries))
    assert isinstance(centre, shapely.Point)  # a 1-d array makes one collection
    return centre


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
    network: RoadNetwork | None = None,
    shortest: ShortestPaths | None = None,
) -> dict[str, Haul]:
    """For each material some source supplies, the nearest such source (ties: lowest id):
    by road where any supplying source can be reached over `network` (solved by `shortest`,
    see `RoadNetwork.distances_km`), else in a straight line."""
    points = [source.geometry for source in sources]
    straight = straight_km(site, points).tolist()
    by_road = (
        [math.inf] * len(sources)
        if network is None
        else network.distances_km(site, points, shortest).tolist()
    )
    why = "no road layer" if network is None else "no path over the road layers"
    detour_warning = (
        f"{why} joins the site and a source: straight line x the catalog's "
        f"detour factor {detour_factor:g}"
    )
    hauls = {}
    for material in materials:
        supplying = [
            i for i, source in enumerate(sources) if material in source.properties["materials"]
        ]
        if not supplying:
            continue
        reachable = [i for i in supplying if math.isfinite(by_road[i])]
        if reachable:
            best = min(reachable, key=lambda i: (by_road[i], sources[i].id))
            km, method, warning = by_road[best], NETWORK, None
        else:
            best = min(supplying, key=lambda i: (straight[i], sources[i].id))
            km, method, warning = straight[best] * detour_factor, STRAIGHT_LINE, detour_warning
        source = sources[best]
        hauls[material] = Haul(
            source_id=source.id,
            name=source.properties["name"],
            kind=source.properties["kind"],
            straight_km=round(straight[best], 3),
            haul_km=round(km, 3),
            method=method,
            warning=warning,
        )
    return with_routes(hauls, site, sources, network)


def with_routes(
    hauls: dict[str, Haul],
    site: shapely.Point,
    sources: Sequence[StoredFeature],
    network: RoadNetwork | None,
) -> dict[str, Haul]:
    """The hauls by road with the way from the site to their source, to draw."""
    by_road = {haul.source_id for haul in hauls.values() if haul.method == NETWORK}
    if network is None or not by_road:
        return hauls
    drawn = [i for i, source in enumerate(sources) if source.id in by_road]
    lines = network.routes(site, [source.geometry for source in sources], drawn)
    ways = {
        sources[i].id: tuple((float(x), float(y)) for x, y in shapely.get_coordinates(lines[i]))
        for i in drawn
        if lines[i] is not None
    }
    return {
        material: replace(haul, route=ways.get(haul.source_id)) if haul.method == NETWORK else haul
        for material, haul in hauls.items()
    }
