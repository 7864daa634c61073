"""Coordinate reference systems: name one, and bring geometries to and from lon/lat WGS84.

Everything downstream measures on EPSG:4326 coordinates, so the input CRS (a `crs` argument,
an EWKT SRID, file metadata) is resolved once here and applied with
`Transformer.from_crs(..., always_xy=True)`: x is always the longitude, whatever axis order the
EPSG definition declares.

OGC API Features Part 2 names CRSs by URI and wants coordinates in each CRS's own axis order
(EPSG:4326 is latitude, longitude; CRS84 longitude, latitude). `from_lon_lat`, `to_lon_lat`
and `lon_lat_bbox` convert between the stored CRS84 and such a URI, with transformers built
without `always_xy` for that reason.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from app.errors import InvalidParameter, UnsupportedCrs
from app.geo.arrays import FloatArray, GeometryArray

WGS84 = CRS.from_epsg(4326)

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"
WORLD_CRS = (CRS84, EPSG_URI.format(code=4326), EPSG_URI.format(code=3857))
"""Offered for every collection: lon/lat, lat/lon (EPSG:4326) and web mercator metres."""
CRS_URI_PATTERN = (
    r"^http://www\.opengis\.net/def/crs/"
    r"(OGC/1\.3/CRS84|EPSG/0/(4326|3857|32[67](0[1-9]|[1-5][0-9]|60)))$"
)
"""The URIs a collection can offer: `WORLD_CRS` and the WGS84 UTM zones (EPSG:32601-32760)."""
UTM_NORTH, UTM_SOUTH = 32600, 32700
UTM_ZONE_WIDTH = 6.0  # degrees of longitude
EDGE_POINTS = 200
"""Points a box edge is sampled at: on a box a UTM zone wide, within 2 mm of the curved edge."""


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


def _transform(
    geoms: GeometryArray, transformer: Transformer, include_z: bool = False
) -> GeometryArray:
    """`geoms` through `transformer`, vectorised over all vertices at once; points it cannot
    transform come back as infinite coordinates, for the caller to report. Heights are kept
    with `include_z` (a geometry without stays without), else dropped."""

    def transform(coords: FloatArray) -> FloatArray:
        out = coords.copy()
        out[:, 0], out[:, 1] = transformer.transform(coords[:, 0], coords[:, 1], errcheck=False)
        return out

    return np.asarray(shapely.transform(geoms, transform, include_z=include_z), dtype=object)


def to_wgs84(geoms: GeometryArray, crs: Any) -> GeometryArray:
    """`geoms` (in `crs`) transformed to EPSG:4326; infinite coordinates where they cannot be,
    which validation reports for the feature concerned."""
    source = resolve_crs(crs)
    if is_wgs84(source):
        return geoms
    return _transform(geoms, _to_wgs84(source))


# OGC API Features Part 2


def epsg_uri(code: int) -> str:
    """The OGC URI of an EPSG code."""
    return EPSG_URI.format(code=code)


def offered_crs_uri(value: str, field: str) -> str:
    """`value` when it names a CRS some collection can offer, else `UnsupportedCrs` naming
    the parameter (`crs`, `bbox-crs`) and the value."""
    if re.fullmatch(CRS_URI_PATTERN, value) is None:
        raise UnsupportedCrs(
            f"{field} {value!r} is not a coordinate reference system this service offers; "
            f"use one of the URIs the collection lists under `crs`, e.g. {CRS84}",
            field=field,
        )
    return value


def _utm_zone(lon: float) -> int:
    return min(int((lon + 180.0) // UTM_ZONE_WIDTH) + 1, 60)


def utm_zone_uris(bbox: tuple[float, float, float, float]) -> list[str]:
    """The WGS84 UTM zones (north, then south of the equator) a lon/lat box touches; a box
    with minx > maxx crosses the antimeridian."""
    minx, miny, maxx, maxy = bbox
    first, last = _utm_zone(minx), _utm_zone(maxx)
    if first <= last:
        zones = list(range(first, last + 1))
    else:
        zones = [*range(first, 61), *range(1, last + 1)]
    hemispheres = [
        base for base, touched in ((UTM_NORTH, maxy >= 0), (UTM_SOUTH, miny < 0)) if touched
    ]
    return [epsg_uri(base + zone) for base in hemispheres for zone in zones]


def offered_crs(extent: tuple[float, float, float, float] | None) -> list[str]:
    """What a collection with this lon/lat extent offers: CRS84 first (QGIS takes `crs[0]` as
    the layer CRS), EPSG:4326, web mercator, then the UTM zones its data lie in."""
    return [*WORLD_CRS, *(utm_zone_uris(extent) if extent is not None else [])]


@lru_cache(maxsize=256)
def _ogc_transformer(source: str, target: str) -> Transformer:
    """Between two CRS URIs, each in its authority's axis order (so EPSG:4326 is lat, lon)."""
    return Transformer.from_crs(CRS.from_user_input(source), CRS.from_user_input(target))


@lru_cache(maxsize=256)
def is_geographic(crs: str) -> bool:
    """True when the CRS URI `crs` counts in degrees, not metres."""
    return bool(CRS.from_user_input(crs).is_geographic)


def from_lon_lat(geoms: GeometryArray, crs: str) -> GeometryArray:
    """CRS84 `geoms` in the CRS URI `crs`, in its axis order, heights kept."""
    if crs == CRS84:
        return geoms
    return _transform(geoms, _ogc_transformer(CRS84, crs), include_z=True)


def to_lon_lat(geoms: GeometryArray, crs: str) -> GeometryArray:
    """`geoms` given in the CRS URI `crs` (its axis order) as CRS84 lon/lat, heights kept;
    infinite where a point has no lon/lat."""
    if crs == CRS84:
        return geoms
    return _transform(geoms, _ogc_transformer(crs, CRS84), include_z=True)


def lon_lat_bbox(
    bbox: tuple[float, float, float, float], crs: str
) -> tuple[float, float, float, float]:
    """The lon/lat box holding `bbox` (lower and upper corner in `crs`'s axis order).

    Edges are densified, as the straight edges of a projected box are curves in lon/lat;
    minx > maxx where the box crosses the antimeridian, infinite values where it leaves `crs`.
    """
    if crs == CRS84:
        return bbox
    minx, miny, maxx, maxy = _ogc_transformer(crs, CRS84).transform_bounds(
        *bbox, densify_pts=EDGE_POINTS
    )
    return (minx, miny, maxx, maxy)
