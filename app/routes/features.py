"""Stored features as RFC 7946 GeoJSON: lon/lat, right-hand rule, 7 decimals, top-level ids."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import mapping

from app.store.repository import StoredFeature

DECIMALS = 7  # about 1 cm on the ground: finer digits are noise, coarser ones move kerbs


def _round(coordinates: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.round(coordinates, DECIMALS)


def geojson_geometries(
    geometries: Sequence[shapely.Geometry | None],
) -> list[dict[str, Any] | None]:
    """GeoJSON geometry objects, oriented and rounded in one vectorised pass."""
    array = np.asarray(geometries, dtype=object)
    oriented = shapely.orient_polygons(array)
    rounded = shapely.transform(oriented, _round, include_z=True)
    return [None if geometry is None else mapping(geometry) for geometry in rounded]


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
