"""Stored features as GeoJSON: top-level ids; in CRS84 as RFC 7946 wants (lon/lat, right-hand
rule, 7 decimals), or in another CRS as OGC API Features Part 2 asks (its axis order, in
millimetres when it counts in metres)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

from app.errors import UnsupportedCrs
from app.geo.arrays import GeometryArray
from app.geo.crs import CRS84, from_lon_lat, is_geographic
from app.io.rfc7946 import DECIMALS, oriented, rounded
from app.store.repository import StoredFeature

METRE_DECIMALS = 3  # a millimetre


def _in_crs(geometries: Sequence[shapely.Geometry | None], crs: str) -> GeometryArray:
    """Oriented in lon/lat, then transformed to `crs` and rounded in its units."""
    transformed = from_lon_lat(oriented(geometries), crs)
    return rounded(transformed, DECIMALS if is_geographic(crs) else METRE_DECIMALS)


def _mapped(geometries: GeometryArray) -> list[dict[str, Any] | None]:
    return [None if geometry is None else mapping(geometry) for geometry in geometries]


def geojson_geometries(
    geometries: Sequence[shapely.Geometry | None], crs: str = CRS84
) -> list[dict[str, Any] | None]:
    """GeoJSON geometry objects in the CRS URI `crs`, oriented and rounded."""
    return _mapped(_in_crs(geometries, crs))


def _require_finite(geometries: GeometryArray, features: Sequence[StoredFeature], crs: str) -> None:
    """A feature `crs` has no coordinates for (web mercator at a pole) is named, not sent as
    an infinity that no JSON reader takes."""
    coordinates, owner = shapely.get_coordinates(geometries, return_index=True)
    bad = ~np.isfinite(coordinates).all(axis=1)
    if bad.any():
        feature = features[int(owner[bad][0])]
        raise UnsupportedCrs(
            f"feature {feature.id} lies where {crs} has no coordinates; ask for another crs",
            field="crs",
        )


def geojson_features(features: Sequence[StoredFeature], crs: str = CRS84) -> list[dict[str, Any]]:
    """GeoJSON Features whose top-level `id` is the stored id that the item URLs use, with
    coordinates in the CRS URI `crs`."""
    geometries = _in_crs([feature.geometry for feature in features], crs)
    if crs != CRS84:
        _require_finite(geometries, features, crs)
    return [
        {
            "type": "Feature",
            "id": feature.id,
            "geometry": geometry,
            "properties": feature.properties,
        }
        for feature, geometry in zip(features, _mapped(geometries), strict=True)
    ]
