"""Stored features as RFC 7946 GeoJSON: lon/lat, right-hand rule, 7 decimals, top-level ids."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import shapely
from shapely.geometry import mapping

from app.io.rfc7946 import rfc7946_geometries
from app.store.repository import StoredFeature


def geojson_geometries(
    geometries: Sequence[shapely.Geometry | None],
) -> list[dict[str, Any] | None]:
    """GeoJSON geometry objects, oriented and rounded (RFC 7946)."""
    return [
        None if geometry is None else mapping(geometry)
        for geometry in rfc7946_geometries(geometries)
    ]


def geojson_features(features: Sequence[StoredFeature]) -> list[dict[str, Any]]:
    """GeoJSON Features whose top-level `id` is the stored id that the item URLs use."""
    geometries = geojson_geometries([feature.geometry for feature in features])
    return [
        {
            "type": "Feature",
            "id": feature.id,
            "geometry": geometry,
            "properties": feature.properties,
        }
        for feature, geometry in zip(features, geometries, strict=True)
    ]
