"""Mapbox Vector Tiles made in Python, for the embedded store (PostGIS makes its own).

Feature properties become MVT attributes, which hold only strings, numbers and booleans:
a null is left out (MVT has no null), a nested object or list becomes its JSON text, and an
integer beyond 64 bits becomes a double. The PostGIS query flattens the same way, so a tile
decodes to the same attributes on either store.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mapbox_vector_tile
import numpy as np
import shapely
from mapbox_vector_tile.encoder import on_invalid_geometry_make_valid

from app.geo.tiles import MVT_BUFFER, MVT_EXTENT, TileAddress, to_tile_units

_INT64 = range(-(2**63), 2**63)


@dataclass(frozen=True)
class TileFeature:
    """A feature to draw in a tile: its stored id, lon/lat geometry and properties."""

    id: int
    geometry: shapely.Geometry
    properties: dict[str, Any]


def mvt_value(value: Any) -> str | int | float | bool | None:
    """A property value as an MVT attribute can hold it (None: left out)."""
    if value is None or isinstance(value, str | bool | float):
        return value
    if isinstance(value, int):
        return value if value in _INT64 else float(value)
    return json.dumps(value)


def mvt_properties(properties: dict[str, Any]) -> dict[str, str | int | float | bool]:
    """`properties` flattened to MVT attributes."""
    flat = {key: mvt_value(value) for key, value in properties.items()}
    return {key: value for key, value in flat.items() if value is not None}


def _one_kind(geometry: shapely.Geometry) -> shapely.Geometry:
    """A clipped geometry as one MVT feature can hold it: a collection (a polygon clipped to
    a line along the border, say) keeps only its parts of the highest dimension."""
    if shapely.get_type_id(geometry) != shapely.GeometryType.GEOMETRYCOLLECTION:
        return geometry
    parts = shapely.get_parts(geometry)
    dimensions = shapely.get_dimensions(parts)
    return shapely.union_all(parts[dimensions == dimensions.max()])


def encode_tile(layer: str, features: Sequence[TileFeature], tile: TileAddress) -> bytes:
    """One MVT layer named `layer` with `features` clipped to `tile` (plus its buffer);
    empty bytes when nothing is left to draw."""
    if not features:
        return b""
    projected = to_tile_units([feature.geometry for feature in features], tile)
    low, high = -MVT_BUFFER, MVT_EXTENT + MVT_BUFFER
    clipped = shapely.transform(shapely.clip_by_rect(projected, low, low, high, high), np.round)
    drawn = [
        {
            "id": feature.id,
            "geometry": _one_kind(shape),
            "properties": mvt_properties(feature.properties),
        }
        for feature, shape in zip(features, clipped, strict=True)
        if not shape.is_empty
    ]
    if not drawn:
        return b""
    options = {"extents": MVT_EXTENT, "on_invalid_geometry": on_invalid_geometry_make_valid}
    tile_bytes: bytes = mapbox_vector_tile.encode(
        {"name": layer, "features": drawn}, default_options=options
    )
    return tile_bytes
