"""Strips: road polygons that are one band of near-constant width, measured in closed form.

Most drawn roads are a band: two long sides (the kerbs) joined by two short, straight ends.
For such a band the centerline length is the mean length of the two sides, exactly for any
curve of constant width (the sides are offset curves of the centerline, longer and shorter by
the same amount) and to second order in the taper for a band whose width changes steadily.
That needs no skeleton: `long_sides` finds the sides, the caller measures them geodesically.

A polygon is a strip when, in its local frame (`app.geo.local`):

- it has one outline and no holes, and exactly four vertices turn by `CORNER_TURN` or more,
  all four the same way round as the outline (the corners of the two ends), so a bend sharper
  than that, a junction, a bulb or a rounded end is not one;
- the two ends (the shorter pair of opposite corner-to-corner chains) are straight
  (`END_STRAIGHTNESS`: length over chord);
- every side vertex is as far from the other side as the widths at the side's ends,
  interpolated linearly, within `WIDTH_TOLERANCE` (a strip may taper, not bulge or pinch);
- it is at least `MIN_ASPECT` times as long as it is wide (a square has no direction).

Everything else gets the medial axis (`app.geo.centerline`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from app.geo.arrays import FloatArray, GeometryArray, as_geometry_array
from app.geo.local import local_coordinates, origins

CORNER_TURN = np.radians(45.0)
WIDTH_TOLERANCE = 0.10
END_STRAIGHTNESS = 1.02
MIN_ASPECT = 3.0
MAX_VERTICES = 5_000  # denser outlines go to the medial axis, which simplifies them first
_PAIRS_PER_BLOCK = 1 << 16  # vertex-segment pairs per distance pass


def strip_lengths(area: Any, perimeter: Any) -> FloatArray:
    """Centerline length of a constant-width strip with this area and perimeter,
    L = (P + sqrt(P² - 16·A)) / 4 (from P = 2L + 2W, A = L·W); NaN when P² < 16A."""
    area, perimeter = np.asarray(area, dtype=np.float64), np.asarray(perimeter, dtype=np.float64)
    disc = perimeter * perimeter - 16.0 * area
    with np.errstate(invalid="ignore"):
        return np.where(disc >= 0.0, (perimeter + np.sqrt(disc)) / 4.0, np.nan)


def _chain(start: int, stop: int, count: int) -> NDArray[np.intp]:
    """Vertex indices from `start` to `stop` inclusive, going round a ring of `count`."""
    return np.arange(start, stop + (count if stop < start else 0) + 1) % count


def _distances(points: FloatArray, polyline: FloatArray) -> FloatArray:
    """Distance from each point to the polyline (its nearest segment), in blocks of points."""
    start = polyline[:-1]
    step = polyline[1:] - start
    norm2 = np.einsum("ij,ij->i", step, step)
    out = np.empty(len(points))
    block = max(1, _PAIRS_PER_BLOCK // len(step))
    for first in range(0, len(points), block):
        offset = points[first : first + block, None, :] - start
        t = np.einsum("pij,ij->pi", offset, step) / norm2
        np.minimum(np.maximum(t, 0.0, out=t), 1.0, out=t)
        offset -= t[..., None] * step
        out[first : first + block] = np.sqrt(np.einsum("pij,pij->pi", offset, offset).min(1))
    return out


def _even_width(side: FloatArray, along: FloatArray, other: FloatArray) -> bool:
    """Every vertex of `side` (`along` metres from its start) is as far from `other` as the
    widths at the side's two ends, interpolated linearly, within `WIDTH_TOLERANCE`."""
    distances = _distances(side, other)
    if not (distances[0] > 0.0 and distances[-1] > 0.0):
        return False
    expected = distances[0] + (distances[-1] - distances[0]) * along / along[-1]
    return bool((np.abs(distances - expected) <= WIDTH_TOLERANCE * expected).all())


def _side_chains(ring: FloatArray) -> tuple[NDArray[np.intp], NDArray[np.intp]] | None:
    """Vertex indices of the two long sides of a strip outline (open ring, metres), or None."""
    step = np.empty_like(ring)
    np.subtract(ring[1:], ring[:-1], out=step[:-1])
    np.subtract(ring[0], ring[-1], out=step[-1])
    keep = np.flatnonzero(step.any(axis=1))  # a repeated vertex turns by no defined angle
    if not 4 <= len(keep) <= MAX_VERTICES:
        return None
    points, step = ring[keep], step[keep]
    count = len(points)
    before = step[np.arange(-1, count - 1)]
    cross = before[:, 0] * step[:, 1] - before[:, 1] * step[:, 0]
    turn = np.arctan2(cross, np.einsum("ij,ij->i", before, step))
    twice_area = float(np.dot(points[:, 0], step[:, 1]) - np.dot(points[:, 1], step[:, 0]))
    turn *= np.sign(twice_area)  # left turns positive whichever way the outline runs
    corners = np.flatnonzero(np.abs(turn) >= CORNER_TURN)
    if len(corners) != 4 or not (turn[corners] > 0.0).all():
        return None
    reach = np.zeros(count + 1)
    np.cumsum(np.hypot(step[:, 0], step[:, 1]), out=reach[1:])
    perimeter = float(reach[-1])
    lengths = (reach[corners[[1, 2, 3, 0]]] - reach[corners]) % perimeter
    first = 0 if lengths[0] + lengths[2] <= lengths[1] + lengths[3] else 1
    for end in (first, first + 2):
        chord = points[corners[(end + 1) % 4]] - points[corners[end]]
        if lengths[end] > END_STRAIGHTNESS * float(np.hypot(*chord)):
            return None
    length = (lengths[1 - first] + lengths[3 - first]) / 2.0
    if length * length < MIN_ASPECT * abs(twice_area) / 2.0:
        return None
    one, two = (_chain(corners[k], corners[(k + 1) % 4], count) for k in (1 - first, 3 - first))
    along_one, along_two = ((reach[side] - reach[side[0]]) % perimeter for side in (one, two))
    along_one[-1], along_two[-1] = lengths[1 - first], lengths[3 - first]
    if not (
        _even_width(points[one], along_one, points[two])
        and _even_width(points[two], along_two, points[one])
    ):
        return None
    return keep[one], keep[two]


def long_sides(polygons: Any) -> tuple[NDArray[np.intp], GeometryArray]:
    """Which polygons are strips, and their two long sides.

    Returns the indices of the strips and, for each in that order, its two sides as
    LineStrings in EPSG:4326 (vertices as given, for geodesic measuring): side k of strip i
    is `sides[2 * i + k]`.
    """
    polygons = as_geometry_array(polygons)
    simple = (shapely.get_type_id(polygons) == int(shapely.GeometryType.POLYGON)) & (
        shapely.get_num_interior_rings(polygons) == 0
    )
    rows = np.flatnonzero(simple)
    rings = shapely.get_exterior_ring(polygons[rows])
    lonlat, owner = shapely.get_coordinates(rings, return_index=True)
    metres = local_coordinates(lonlat, owner, origins(rings, shared=True))
    bounds = np.searchsorted(owner, np.arange(len(rows) + 1))
    strips: list[int] = []
    vertices: list[NDArray[np.intp]] = []
    for row, first, last in zip(
        rows.tolist(), bounds[:-1].tolist(), bounds[1:].tolist(), strict=True
    ):
        chains = _side_chains(metres[first : last - 1])  # the ring without its closing vertex
        if chains is not None:
            strips.append(row)
            vertices.extend(chain + first for chain in chains)
    if not strips:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=object)
    side_of_vertex = np.repeat(np.arange(len(vertices)), [len(chain) for chain in vertices])
    sides = shapely.linestrings(lonlat[np.concatenate(vertices)], indices=side_of_vertex)
    return np.asarray(strips, dtype=np.intp), np.asarray(sides, dtype=object)
