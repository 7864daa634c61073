"""Measuring roads: geodesic length and area on WGS84, and length/area/width per feature.

`geodesic_lengths` and `geodesic_areas` take shapely geometries in EPSG:4326 (lon/lat
degrees) and return one number per geometry. They split geometries into paths (lines and
polygon rings) once, pull every vertex out with `shapely.get_coordinates(..., return_index=
True)` and do the per-segment work in numpy, so a million street lines cost a handful of array
passes and no Python loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Geod

from app.arrays import rows_where
from app.errors import InvalidParameter
from app.geo.arrays import FloatArray, as_geometry_array, is_type
from app.geo.centerline import medial_axes
from app.geo.strip import long_sides, strip_lengths

WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563
WGS84_E2 = WGS84_F * (2 - WGS84_F)
_E = np.sqrt(WGS84_E2)
GEOD = Geod(ellps="WGS84")

# The short-segment length formula below is within 1.6e-10 of GeographicLib for every segment
# up to 2 km long whose longitude span is under 0.01 rad (0.57 deg), at any latitude up to
# 89.9 deg (tests/geo/test_geodesic.py measures it). Anything longer goes to GeographicLib.
SHORT_SEGMENT_MAX_M = 2_000.0
SHORT_SEGMENT_MAX_DLAMBDA = 0.01

_LINE_TYPES = (int(shapely.GeometryType.LINESTRING), int(shapely.GeometryType.LINEARRING))
_POLYGON = int(shapely.GeometryType.POLYGON)
_POLYGONS = (_POLYGON, int(shapely.GeometryType.MULTIPOLYGON))


def _paths(geoms: NDArray[np.object_]) -> tuple[NDArray[np.object_], NDArray[np.intp]]:
    """Lines and polygon rings of every geometry, with the index of the geometry owning each."""
    types = shapely.get_type_id(geoms)
    if is_type(types, _LINE_TYPES).all():
        return geoms, np.arange(len(geoms))
    if (types == _POLYGON).all():
        rings, owner = shapely.get_rings(geoms, return_index=True)
        return rings, owner
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    part_types = shapely.get_type_id(parts)
    is_polygon = part_types == _POLYGON
    rings, ring_part = shapely.get_rings(parts[is_polygon], return_index=True)
    polygon_owner = part_owner[is_polygon]
    lines = is_type(part_types, _LINE_TYPES)
    paths = np.concatenate([parts[lines], rings])
    owner = np.concatenate([part_owner[lines], polygon_owner[ring_part]])
    return paths, owner


def _wrapped_dlon(lon1: FloatArray, lon2: FloatArray) -> FloatArray:
    """Longitude difference in (-180, 180]; exact for nearby longitudes (no +180 round trip)."""
    dlon = lon2 - lon1
    dlon[dlon > 180.0] -= 360.0
    dlon[dlon < -180.0] += 360.0
    return dlon


_CHUNK = 1 << 15  # segments per pass: temporaries stay in cache instead of paging in
_RADIANS = np.pi / 180.0


def _short_lengths(
    lon1: FloatArray, lat1: FloatArray, lon2: FloatArray, lat2: FloatArray, out: FloatArray
) -> None:
    """Mid-latitude lengths into `out`; inf where the span is too wide for the formula."""
    dlam = lon2 - lon1
    dlam[dlam > 180.0] -= 360.0
    dlam[dlam < -180.0] += 360.0
    dlam *= _RADIANS
    dphi = lat2 - lat1
    dphi *= _RADIANS
    phi = lat1 + lat2
    phi *= 0.5 * _RADIANS
    sin2 = np.sin(phi)
    sin2 *= sin2
    cos2 = 1.0 - sin2
    w2 = 1.0 - WGS84_E2 * sin2
    n = np.sqrt(w2)
    np.divide(WGS84_A, n, out=n)
    x = n * dlam
    x *= x
    correction = cos2 * sin2
    correction *= dlam * dlam
    correction += (1.0 + 2.0 * sin2) * (dphi * dphi)
    correction *= x
    x *= cos2
    n *= 1.0 - WGS84_E2
    n /= w2
    n *= dphi
    n *= n
    np.add(x, n, out=out)
    correction *= 1.0 / 12.0
    out -= correction
    np.maximum(out, 0.0, out=out)
    np.sqrt(out, out=out)
    out[np.abs(dlam) > SHORT_SEGMENT_MAX_DLAMBDA] = np.inf


def _pair_lengths(
    lon1: FloatArray, lat1: FloatArray, lon2: FloatArray, lat2: FloatArray
) -> FloatArray:
    lengths = np.empty(len(lon1))
    for first in range(0, len(lon1), _CHUNK):
        part = slice(first, first + _CHUNK)
        _short_lengths(lon1[part], lat1[part], lon2[part], lat2[part], lengths[part])
    return lengths


def _fall_back(
    lengths: FloatArray,
    long: NDArray[np.bool_],
    lon1: FloatArray,
    lat1: FloatArray,
    lon2: FloatArray,
    lat2: FloatArray,
) -> None:
    if long.any():
        lengths[long] = GEOD.inv(lon1[long], lat1[long], lon2[long], lat2[long])[2]


def segment_lengths(
    lon1: FloatArray, lat1: FloatArray, lon2: FloatArray, lat2: FloatArray
) -> FloatArray:
    """Geodesic length in metres of each segment, <= 1e-9 relative to GeographicLib.

    Short segments use the Gauss mid-latitude form: east and north components N·cosφ·Δλ and
    M·Δφ with the prime-vertical (N) and meridional (M) radii at the mid latitude, plus the
    fourth-order term of the same expansion on the sphere,
    d² = x² + y² − (N·Δλ)²·(cos²φ·sin²φ·Δλ² + (1 + 2·sin²φ)·Δφ²) / 12,
    which leaves an O(e²·(d/a)²) error (1.6e-10 at 2 km). Differences are taken in degrees
    before converting to radians so that metre-long segments keep full precision. Segments over
    `SHORT_SEGMENT_MAX_M` or spanning more than `SHORT_SEGMENT_MAX_DLAMBDA` of longitude (near
    the poles) are handed to GeographicLib (`Geod.inv`), vectorised over those segments only.
    The work runs in cache-sized chunks with in-place operations: memory traffic, not
    arithmetic, is what a million-line batch spends its time on.
    """
    lengths = _pair_lengths(lon1, lat1, lon2, lat2)
    _fall_back(lengths, lengths > SHORT_SEGMENT_MAX_M, lon1, lat1, lon2, lat2)
    return lengths


def geodesic_lengths(geoms: Any) -> FloatArray:
    """Geodesic length in metres of each geometry in EPSG:4326; parts summed.

    For a polygon this is its perimeter (every ring, holes included): the road length of a
    polygon is its centerline, which `app.geo.measure.measure` works out. Every pair of
    consecutive vertices is measured on views of the coordinate columns (no gathering); pairs
    that straddle two paths are zeroed before summing, and never sent to GeographicLib.
    """
    geoms = as_geometry_array(geoms)
    paths, owner = _paths(geoms)
    coords, path_index = shapely.get_coordinates(paths, return_index=True)
    if len(coords) < 2:
        return np.zeros(len(geoms))
    lon, lat = coords[:, 0], coords[:, 1]
    lon1, lat1, lon2, lat2 = lon[:-1], lat[:-1], lon[1:], lat[1:]
    lengths = _pair_lengths(lon1, lat1, lon2, lat2)
    same = path_index[1:] == path_index[:-1]
    lengths[~same] = 0.0
    _fall_back(lengths, lengths > SHORT_SEGMENT_MAX_M, lon1, lat1, lon2, lat2)
    weights = np.bincount(path_index[:-1], weights=lengths, minlength=len(paths))
    return np.bincount(owner, weights=weights, minlength=len(geoms)).astype(np.float64)


def _authalic_sin(sin_phi: FloatArray) -> FloatArray:
    """q(φ) of the authalic latitude, unnormalised: sin β = q(φ) / q(90°)."""
    return (1.0 - WGS84_E2) * (
        sin_phi / (1.0 - WGS84_E2 * sin_phi * sin_phi) + np.arctanh(_E * sin_phi) / _E
    )


_Q_POLE = float(_authalic_sin(np.array(1.0)))
AUTHALIC_R2 = WGS84_A * WGS84_A * _Q_POLE / 2.0


def _pair_area_terms(lon: FloatArray, lat: FloatArray, out: FloatArray) -> None:
    """Area terms (m²) of the edges between consecutive vertices `lon`, `lat` into `out`.

    Per vertex: t = tan(β/2) of the authalic latitude. Per edge: the excess
    2·atan(tan(Δλ/2)·(t1 + t2)/(1 + t1·t2)) (= 2·atan(sin β̄ / cos(Δβ/2) · tan(Δλ/2))), and
    the bending sliver, with the mid latitude's sine and cosine taken as the mean of the ends'
    (good to O(Δφ²) on a term that is itself ~1e-7 of the area).
    """
    phi = lat * _RADIANS
    sin_phi, cos_phi = np.sin(phi), np.cos(phi)
    t = np.tan(0.5 * np.arcsin(np.clip(_authalic_sin(sin_phi) / _Q_POLE, -1.0, 1.0)))
    dlam = _wrapped_dlon(lon[:-1], lon[1:])
    dlam *= _RADIANS
    tan_half = np.tan(0.5 * dlam)
    tan_half *= t[:-1] + t[1:]
    tan_half /= 1.0 + t[:-1] * t[1:]
    np.arctan(tan_half, out=out)
    out *= 2.0 * AUTHALIC_R2
    sin_mid = 0.5 * (sin_phi[:-1] + sin_phi[1:])
    cos_mid = 0.5 * (cos_phi[:-1] + cos_phi[1:])
    w2 = 1.0 - WGS84_E2 * sin_mid * sin_mid
    n = WGS84_A / np.sqrt(w2)
    east = n * cos_mid * dlam
    north = n * (1.0 - WGS84_E2) / w2 * ((lat[1:] - lat[:-1]) * _RADIANS)
    east *= east * east + north * north
    east *= WGS84_E2 / (12.0 * WGS84_A) * sin_mid * cos_mid
    out += east


def _signed_ring_areas(rings: NDArray[np.object_]) -> FloatArray:
    """Signed ellipsoidal area (m²) of each closed ring; the sign follows its orientation."""
    coords, ring_index = shapely.get_coordinates(rings, return_index=True)
    terms = np.zeros(max(len(coords) - 1, 0))
    for first in range(0, len(terms), _CHUNK):
        last = min(first + _CHUNK, len(terms))
        vertices = slice(first, last + 1)
        _pair_area_terms(coords[vertices, 0], coords[vertices, 1], terms[first:last])
    terms[ring_index[1:] != ring_index[:-1]] = 0.0
    return np.bincount(ring_index[:-1], weights=terms, minlength=len(rings)).astype(np.float64)


def geodesic_areas(geoms: Any) -> FloatArray:
    """Ellipsoidal area in m² of each polygon in EPSG:4326 (lines: 0), <= 1e-7 of GeographicLib.

    Method: every vertex goes to the authalic sphere (authalic latitude β, radius R_q), an
    equal-area map of the ellipsoid, where each edge contributes the exact spherical excess of
    the quadrilateral it makes with the equator, 2·atan(sin β̄ / cos(Δβ/2) · tan(Δλ/2)). A
    geodesic edge does not map to a great circle: its image bends with geodesic curvature
    κ = (e²/a)·sin α·sin φ·cos φ (α azimuth), which adds a sliver κ·s³/12 per edge of length s;
    that term is added in closed form (without it an L-shaped road with 1 km arms is ~1e-7 off,
    with 10 km arms ~1e-6). Rings are taken as absolute values (orientation and start vertex do
    not matter), holes subtracted, parts summed. Rings around a pole are not supported. Scope of
    the 1e-7 bound: road polygons with edges up to ~10 km; a sliver-thin polygon made of single
    edges tens of kilometres long (area/edge² ~ 1e-4) can be off by a few 1e-7.
    """
    geoms = as_geometry_array(geoms)
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    is_polygon = shapely.get_type_id(parts) == _POLYGON
    rings, ring_part = shapely.get_rings(parts[is_polygon], return_index=True)
    is_shell = np.ones(len(rings), dtype=bool)
    is_shell[1:] = ring_part[1:] != ring_part[:-1]
    ring_areas = np.abs(_signed_ring_areas(rings))
    ring_areas[~is_shell] *= -1.0
    owner = part_owner[is_polygon][ring_part]
    return np.bincount(owner, weights=ring_areas, minlength=len(geoms)).astype(np.float64)


LINE = "line"
CENTERLINE = "centerline"
AREA_OVER_WIDTH = "area/width"
STRIP = "strip"
MEDIAL_AXIS = "medial-axis"
DISAGREEMENT = 0.10


@dataclass(frozen=True)
class Measurements:
    """Per-feature road measures; `length_method` says where each length came from."""

    length_m: FloatArray
    area_m2: FloatArray
    mean_width_m: FloatArray
    length_method: NDArray[np.str_]
    warnings: list[list[str]]


def _per_feature(value: Any, count: int, dtype: type) -> NDArray[Any]:
    """A scalar, or one value per feature, as a new array of `count` values."""
    out: NDArray[Any] = np.empty(count, dtype=dtype)
    out[:] = value
    return out


def measure(
    geoms: Any,
    width_m: Any,
    width_explicit: Any,
    centerlines: Sequence[shapely.Geometry | None] | None = None,
) -> Measurements:
    """Length, area and mean width of each road feature (EPSG:4326, validated).

    Lines: length is geodesic, area = length x `width_m` (engineering chainage x width).
    Polygons: area is ellipsoidal; length comes from, in this order, the centerline the user
    sent (`centerlines[i]`), area / width when the width was given explicitly
    (`width_explicit[i]`), the mean of the two long sides of a strip (`app.geo.strip`), or
    the pruned medial axis. Every other available estimate (area /
    width, the constant-width strip formula L = (P + sqrt(P² - 16A)) / 4) is compared with the
    chosen one, and a disagreement over 10 % becomes a warning on that feature.
    """
    geoms = as_geometry_array(geoms)
    count = len(geoms)
    widths = _per_feature(width_m, count, np.float64)
    explicit = _per_feature(width_explicit, count, bool)
    types = shapely.get_type_id(geoms)
    polygon = is_type(types, _POLYGONS)
    warnings: list[list[str]] = [[] for _ in range(count)]

    bad_width = ~(widths > 0) & (~polygon | explicit)  # also catches NaN
    for index in rows_where(bad_width):
        raise InvalidParameter(
            f"width {widths[index]} m must be a positive number", feature=int(index)
        )

    sent = np.array(
        [centerlines is not None and centerlines[i] is not None for i in range(count)], dtype=bool
    )
    by_shape = np.flatnonzero(polygon & ~sent & ~explicit)
    strips, sides = np.empty(0, dtype=np.intp), np.empty(0, dtype=object)
    if len(by_shape):
        strips, sides = long_sides(geoms[by_shape])
    # the outlines and the strips' sides measured in one pass
    lengths = geodesic_lengths(np.concatenate([geoms, sides]))
    perimeter = lengths[:count]
    area = perimeter * widths
    if polygon.any():
        area[polygon] = geodesic_areas(geoms[polygon])
    length = np.where(polygon, np.nan, perimeter)
    method = np.where(polygon, "", LINE).astype("<U11")

    by_centerline = polygon & sent
    if by_centerline.any() and centerlines is not None:
        rows = np.flatnonzero(by_centerline)
        length[rows] = geodesic_lengths([centerlines[int(i)] for i in rows])
        method[rows] = CENTERLINE
    by_width = polygon & ~sent & explicit
    length[by_width] = area[by_width] / widths[by_width]
    method[by_width] = AREA_OVER_WIDTH
    if len(by_shape):
        length[by_shape[strips]] = lengths[count:].reshape(-1, 2).mean(axis=1)
        method[by_shape[strips]] = STRIP
        not_strip = np.ones(len(by_shape), dtype=bool)
        not_strip[strips] = False
        rows = by_shape[not_strip]
        if len(rows):
            length[rows] = geodesic_lengths(medial_axes(geoms[rows]))
            method[rows] = MEDIAL_AXIS

    strip = strip_lengths(area, perimeter)
    for index in np.flatnonzero(polygon).tolist():
        others = {"the strip formula": strip[index]}
        if explicit[index] and method[index] != AREA_OVER_WIDTH:
            others["area / width"] = area[index] / widths[index]
        for name, other in others.items():
            chosen = length[index]
            if np.isfinite(other) and abs(other - chosen) > DISAGREEMENT * max(chosen, 1e-9):
                warnings[index].append(
                    f"length by {method[index]} ({chosen:.1f} m) and by {name} ({other:.1f} m) "
                    f"differ by more than {DISAGREEMENT:.0%}"
                )
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_width = np.where(polygon, area / length, widths)
    return Measurements(length, area, mean_width, method, warnings)
