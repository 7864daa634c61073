"""Stored features as GeoJSON: top-level ids; in CRS84 as RFC 7946 wants (lon/lat, right-hand
rule, 7 decimals), or in another CRS as OGC API Features Part 2 asks (its axis order, in
millimetres when it counts in metres)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import shapely
from shapely.geometry import mapping

from app.geo.crs import CRS84, from_lon_lat, is_geographic
from app.io.rfc7946 import DECIMALS, oriented, rounded
from app.store.repository import StoredFeature

METRE_DECIMALS = 3  # a millimetre


def geojson_geometries(
    geometries: Sequence[shapely.Geometry | None], crs: str = CRS84
) -> list[dict[str, Any] | None]:
    """GeoJSON geometry objects in the CRS URI `crs`: oriented in lon/lat, then transformed
    and rounded in the units of `crs`."""
    transformed = from_lon_lat(oriented(geometries), crs)
    decimals = DECIMALS if is_geographic(crs) else METRE_DECIMALS
    return [
        None if geometry is None else mapping(geometry)
        for geometry in rounded(transformed, decimals)
    ]


def geojson_features(features: Sequence[StoredFeature], crs: str = CRS84) -> list[dict[str, Any]]:
    """GeoJSON Features whose top-level `id` is the stored id that the item URLs use, with
    coordinates in the CRS URI `crs`."""
    geometries = geojson_geometries([feature.geometry for feature in features], crs)
    return [
        {
            "type": "Feature",
            "id": feature.id,
            "geometry": geometry,
            "properties": feature.properties,
        }
        for feature, geometry in zip(features, geometries, strict=True)
    ]
