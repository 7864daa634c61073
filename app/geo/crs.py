"""Coordinate reference systems: name one, and bring any geometry array to lon/lat WGS84.

Everything downstream measures on EPSG:4326 coordinates, so the input CRS (a `crs` argument,
an EWKT SRID, file metadata) is resolved once here and applied with
`Transformer.from_crs(..., always_xy=True)`: x is always the longitude, whatever axis order the
EPSG definition declares.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from app.errors import InvalidParameter, InvalidQuery
from app.geo.arrays import FloatArray, GeometryArray

WGS84 = CRS.from_epsg(4326)


def resolve_crs(value: Any) -> CRS:
    """A pyproj CRS from "EPSG:32748", 32748, a WKT/PROJ string or a CRS; clear error if unknown."""
    if isinstance(value, CRS):
        return value
    try:
        return CRS.from_user_input(value)
    except (CRSError, TypeError, ValueError) as error:
        raise InvalidParameter(
            f"unknown coordinate reference system {value!r} (use e.g. 'EPSG:32748'): {error}",
            field="crs",
        ) from error


def is_wgs84(crs: CRS) -> bool:
    """True when coordinates in `crs` are already WGS84 longitude/latitude (any axis order)."""
    return crs.equals(WGS84, ignore_axis_order=True)


@lru_cache(maxsize=64)
def _to_wgs84(crs: CRS) -> Transformer:
    return Transformer.from_crs(crs, WGS84, always_xy=True)


def to_wgs84(geoms: GeometryArray, crs: Any) -> GeometryArray:
    """`geoms` (in `crs`) transformed to EPSG:4326, vectorised over all vertices at once.

    Points that cannot be transformed come back as infinite coordinates, which validation
    reports for the feature concerned.
    """
    source = resolve_crs(crs)
    if is_wgs84(source):
        return geoms
    transformer = _to_wgs84(source)

    def transform(coords: FloatArray) -> FloatArray:
        lon, lat = transformer.transform(coords[:, 0], coords[:, 1], errcheck=False)
        return np.column_stack([lon, lat])

    return np.asarray(shapely.transform(geoms, transform), dtype=object)


CRS84 = CRS.from_user_input("OGC:CRS84")
OGC_CRS_URI = re.compile(r"http://www\.opengis\.net/def/crs/(?:EPSG/0/[0-9]{1,6}|OGC/1\.3/CRS84)")


@lru_cache(maxsize=64)
def crs84_transformer(uri: str, field: str) -> Transformer:
    """From the CRS an OGC API names by `uri` (in its own axis order) to CRS84 lon/lat;
    `InvalidQuery` names `field` for a CRS that is not an OGC URI pyproj knows."""
    if OGC_CRS_URI.fullmatch(uri):
        try:
            return Transformer.from_crs(CRS.from_user_input(uri), CRS84)
        except CRSError:
            pass
    raise InvalidQuery(
        f"unknown coordinate reference system {uri!r}: name it by its OGC URI, e.g. "
        "http://www.opengis.net/def/crs/EPSG/0/32748",
        field=field,
    )


def to_crs84(geometry: shapely.Geometry, uri: str, field: str) -> shapely.Geometry:
    """`geometry`, whose coordinates are in the CRS an OGC API names by `uri` and in that
    CRS's own axis order (latitude first for EPSG:4326), as CRS84 longitude, latitude."""
    transformer = crs84_transformer(uri, field)

    def transform(coords: FloatArray) -> FloatArray:
        lon, lat = transformer.transform(coords[:, 0], coords[:, 1], errcheck=False)
        return np.column_stack([lon, lat])

    return shapely.transform(geometry, transform)
