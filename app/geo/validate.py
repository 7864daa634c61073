"""Validation: every geometry that cannot be measured gets a reason naming what is wrong.

`find_problems` is the vectorised, non-raising check (one reason or None per feature) that
batch code uses to report every bad row; `validate` raises the first problem as a domain error
naming the feature. Nothing is repaired here: a bad geometry is an error, not a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from app.arrays import rows_where
from app.errors import InvalidGeometry, TooLarge
from app.geo.arrays import GeometryArray, is_type
from app.geo.parse import ParsedFeatures, wrong_type_reason

DEFAULT_MAX_VERTICES = 100_000
MAX_WIDTH_M = 1_000.0
"""The widest road accepted, in metres. Wider is a unit mistake (millimetres, degrees), and
a line buffered by an absurd width (1e308) makes GEOS fail instead of measuring."""

_ROAD_TYPE_IDS = tuple(
    int(kind)
    for kind in (
        shapely.GeometryType.LINESTRING,
        shapely.GeometryType.MULTILINESTRING,
        shapely.GeometryType.POLYGON,
        shapely.GeometryType.MULTIPOLYGON,
    )
)
_TYPE_NAMES = {
    shapely.GeometryType.POINT: "Point",
    shapely.GeometryType.LINEARRING: "LinearRing",
    shapely.GeometryType.MULTIPOINT: "MultiPoint",
    shapely.GeometryType.GEOMETRYCOLLECTION: "GeometryCollection",
}
_GEOS_REASON = re.compile(r"^(?P<what>[^\[]+)\[(?P<x>\S+) (?P<y>\S+)\]$")


@dataclass(frozen=True)
class Problems:
    """Per-feature reasons (None where valid) and which of them are size-limit problems."""

    reasons: list[str | None]
    too_large: NDArray[np.bool_]


def feature_label(index: int, feature_id: object = None) -> str:
    """How messages name a feature: its position, and its GeoJSON id when it has one."""
    return f"{index} (id {feature_id!r})" if feature_id is not None else str(index)


def _validity_reason(reason: str) -> str:
    match = _GEOS_REASON.match(reason)
    if match is None:
        return f"invalid geometry: {reason}"
    what = match["what"].strip().lower()
    return f"invalid geometry: {what} at lon {match['x']}, lat {match['y']}"


def _coordinate_reasons(geoms: GeometryArray, candidates: NDArray[np.intp]) -> dict[int, str]:
    """NaN/inf and out-of-range lon/lat, with the offending vertex, for `candidates`.

    Nearly always there is none: all coordinates are checked at once first, and only when
    one fails are they found again with their owners."""
    picked = geoms[candidates]
    coords = shapely.get_coordinates(picked)
    if not len(coords):
        return {}
    lon_reach, lat_reach = np.abs(coords).max(axis=0)
    if lon_reach <= 180 and lat_reach <= 90:  # False for NaN too
        return {}
    coords, local = shapely.get_coordinates(picked, return_index=True)
    first_vertex = np.searchsorted(local, np.arange(len(candidates)))
    lon, lat = coords[:, 0], coords[:, 1]
    finite = np.isfinite(coords).all(axis=1)
    reasons: dict[int, str] = {}
    checks = [
        (~finite, lambda x, y: "NaN or infinite coordinate"),
        (
            finite & (np.abs(lat) > 90),
            lambda x, y: (
                f"latitude {y:g} outside ±90" + (" (lon/lat swapped?)" if abs(x) <= 90 else "")
            ),
        ),
        (
            finite & (np.abs(lon) > 180),
            lambda x, y: f"longitude {x:g} outside ±180 (projected coordinates? name their crs)",
        ),
    ]
    for bad, describe in checks:
        rows = np.flatnonzero(bad)
        owners, first = np.unique(local[rows], return_index=True)
        for owner, row in zip(owners, rows[first], strict=True):
            index = int(candidates[owner])
            if index not in reasons:
                vertex = int(row - first_vertex[owner])
                reasons[index] = f"{describe(lon[row], lat[row])} at vertex {vertex}"
    return reasons


def geometry_problems(
    geoms: GeometryArray, *, max_vertices: int = DEFAULT_MAX_VERTICES
) -> Problems:
    """Why each geometry (EPSG:4326) cannot be measured, or None; vectorised over the array.

    Checks, first failing one wins: missing, vertex count over `max_vertices` (before anything
    costly), type, empty, NaN/inf, lon/lat range, then GEOS validity (`is_valid_reason`:
    self-intersections, rings too short, holes outside shells).
    """
    count = len(geoms)
    reasons: list[str | None] = [None] * count
    too_large = np.zeros(count, dtype=bool)
    missing = shapely.is_missing(geoms)
    for index in rows_where(missing):
        reasons[index] = "no geometry"
    vertices = np.where(missing, 0, shapely.get_num_coordinates(geoms))
    too_large[:] = vertices > max_vertices
    for index in rows_where(too_large):
        reasons[index] = f"{vertices[index]} vertices, over the limit of {max_vertices}"
    pending = ~missing & ~too_large

    types = shapely.get_type_id(geoms)
    wrong = pending & ~is_type(types, _ROAD_TYPE_IDS)
    for index in rows_where(wrong):
        reasons[index] = wrong_type_reason(_TYPE_NAMES.get(types[index], str(types[index])))
    pending &= ~wrong

    empty = pending & shapely.is_empty(geoms)
    for index in rows_where(empty):
        reasons[index] = "empty geometry"
    pending &= ~empty

    for row, reason in _coordinate_reasons(geoms, np.flatnonzero(pending)).items():
        reasons[row] = reason
        pending[row] = False

    candidates = np.flatnonzero(pending)
    invalid = candidates[~shapely.is_valid(geoms[candidates])]
    if len(invalid):
        for index, reason in zip(invalid, shapely.is_valid_reason(geoms[invalid]), strict=True):
            reasons[index] = _validity_reason(str(reason))
    return Problems(reasons, too_large)


def find_problems(
    features: ParsedFeatures, *, max_vertices: int = DEFAULT_MAX_VERTICES
) -> list[str | None]:
    """Per-feature reason a parsed feature cannot be measured (None where it can)."""
    return _problems(features, max_vertices).reasons


def _problems(features: ParsedFeatures, max_vertices: int) -> Problems:
    checked = geometry_problems(features.geometries, max_vertices=max_vertices)
    reasons = [
        read if read is not None else found
        for read, found in zip(features.problems, checked.reasons, strict=True)
    ]
    too_large = checked.too_large & np.array([p is None for p in features.problems], dtype=bool)
    return Problems(reasons, too_large)


def validate(features: ParsedFeatures, *, max_vertices: int = DEFAULT_MAX_VERTICES) -> None:
    """Raise `InvalidGeometry` (or `TooLarge`) for the first feature that cannot be measured."""
    problems = _problems(features, max_vertices)
    for index, reason in enumerate(problems.reasons):
        if reason is not None:
            label = feature_label(index, features.ids[index])
            if problems.too_large[index]:
                raise TooLarge(reason, feature=label)
            raise InvalidGeometry(reason, feature=label)
