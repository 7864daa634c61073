"""Tiles of the WebMercatorQuad tile matrix set, the grid web maps and OGC API Tiles share.

The grid itself (matrices, bounds, the TileMatrixSet document) comes from morecantile; this
module names one tile from the path of a request and projects geometries into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import morecantile
import numpy as np
import shapely
from pyproj import Transformer

from app.errors import NotFound
from app.geo.arrays import FloatArray

WEB_MERCATOR_QUAD = morecantile.tms.get("WebMercatorQuad")
TILE_MATRIX_SET_ID = WEB_MERCATOR_QUAD.id
TILE_MATRIX_IDS = [matrix.id for matrix in WEB_MERCATOR_QUAD.tileMatrices]
MVT_EXTENT = 4096
"""Units of a vector tile's side: the Mapbox Vector Tile default, as ST_AsMVT uses it."""
MVT_BUFFER = 64
"""Units drawn past each edge, so a line's stroke does not stop short at the tile border."""
_TO_WEB_MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)

Bounds = tuple[float, float, float, float]


@dataclass(frozen=True)
class TileAddress:
    """One tile: its zoom (the tile matrix), row (from the north) and column (from the west)."""

    zoom: int
    row: int
    col: int

    @property
    def _tile(self) -> morecantile.Tile:
        return morecantile.Tile(x=self.col, y=self.row, z=self.zoom)

    @cached_property
    def lonlat_bounds(self) -> Bounds:
        """West, south, east, north in CRS84: where features must meet the tile."""
        box = WEB_MERCATOR_QUAD.bounds(self._tile)
        return (box.left, box.bottom, box.right, box.top)

    @cached_property
    def mercator_bounds(self) -> Bounds:
        """The same box in EPSG:3857 metres, the space tile coordinates are scaled from."""
        box = WEB_MERCATOR_QUAD.xy_bounds(self._tile)
        return (box.left, box.bottom, box.right, box.top)

    def __str__(self) -> str:
        return f"{self.zoom}/{self.row}/{self.col}"


def tile_address(tile_matrix: str, row: int, col: int) -> TileAddress:
    """The tile a request names; `NotFound` says which part lies outside the grid."""
    if tile_matrix not in TILE_MATRIX_IDS:
        raise NotFound(
            f"{TILE_MATRIX_SET_ID} has no tile matrix {tile_matrix!r}; "
            f"use {TILE_MATRIX_IDS[0]} to {TILE_MATRIX_IDS[-1]}",
            field="tileMatrix",
        )
    zoom = int(tile_matrix)
    last = 2**zoom - 1
    for name, value in (("tileRow", row), ("tileCol", col)):
        if not 0 <= value <= last:
            raise NotFound(f"tile matrix {zoom} has no {name} {value}; use 0 to {last}", field=name)
    return TileAddress(zoom=zoom, row=row, col=col)


def tile_matrix_set_limits(bounds: Bounds) -> list[dict[str, str | int]]:
    """The rows and columns of each tile matrix that lon/lat `bounds` cover, as a tileset's
    `tileMatrixSetLimits` list them (so a client need not ask for tiles outside the data)."""
    west, south, east, north = bounds
    limits: list[dict[str, str | int]] = []
    for matrix_id in TILE_MATRIX_IDS:
        zoom = int(matrix_id)
        north_west = WEB_MERCATOR_QUAD.tile(west, north, zoom, truncate=True)
        south_east = WEB_MERCATOR_QUAD.tile(east, south, zoom, truncate=True)
        last = 2**zoom - 1
        limits.append(
            {
                "tileMatrix": matrix_id,
                "minTileRow": north_west.y,
                "maxTileRow": min(south_east.y, last),
                "minTileCol": north_west.x,
                "maxTileCol": min(south_east.x, last),
            }
        )
    return limits


def to_tile_units(geometries: Any, tile: TileAddress) -> Any:
    """Lon/lat geometries (one or an array) in the units of `tile`: 0 to `MVT_EXTENT` from its
    west and south edges, unrounded, every vertex at once."""
    minx, miny, maxx, maxy = tile.mercator_bounds

    def transform(coords: FloatArray) -> FloatArray:
        x, y = _TO_WEB_MERCATOR.transform(coords[:, 0], coords[:, 1], errcheck=False)
        scale = MVT_EXTENT / (maxx - minx), MVT_EXTENT / (maxy - miny)
        return np.column_stack([(x - minx) * scale[0], (y - miny) * scale[1]])

    return shapely.transform(geometries, transform)
