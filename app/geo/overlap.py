"""Overlapping road surfaces: a junction drawn twice would be paved twice.

Surfaces are the polygons as drawn and the footprints of lines with their widths. Overlap
areas are measured on the ellipsoid like every other area. Pairs come from a spatial index,
a block of surfaces at a time, so memory stays bounded by the block whatever the input; the
report lists the first pairs with their areas and counts the rest without measuring them, so
its size does not grow with the square of the input.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import shapely

from app.geo.arrays import FloatArray, GeometryArray
from app.geo.measure import geodesic_areas

MIN_OVERLAP_M2 = 0.01
"""Smaller overlaps are rounding at shared edges, not pavement."""

LISTED_OVERLAPS = 20
"""Pairs listed one by one; past them a report only counts."""

SLIVER_DEG = 1e-7
"""Surfaces shrunk by this much (about a centimetre) still meet only where they overlap by
more than a sliver: how pairs past the listed ones are told apart from pairs that only share
an edge, without measuring each shared area. A tolerance for telling, never a measure."""

_PAIRS_PER_BLOCK = 1_000_000

IndexArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Overlap:
    """Two features whose surfaces share `area_m2` square metres."""

    first: int
    second: int
    area_m2: float


@dataclass(frozen=True)
class OverlapReport:
    """The first overlapping pairs (index order) with their areas, and how many in all."""

    listed: list[Overlap] = field(default_factory=list)
    pairs: int = 0
    features: int = 0


def find_overlaps(surfaces: GeometryArray, listed: int = LISTED_OVERLAPS) -> OverlapReport:
    """Pairs of surfaces that share more than `MIN_OVERLAP_M2`: the first `listed` of them
    measured, the others counted (with the features they involve)."""
    n = len(surfaces)
    found: list[Overlap] = []
    involved = np.zeros(n, dtype=bool)
    counted = 0
    tree = shapely.STRtree(surfaces)
    shrunk: GeometryArray | None = None
    step = max(1, _PAIRS_PER_BLOCK // max(n, 1))
    for start in range(0, n, step):
        if len(found) == listed:
            # the list is full: only count, on the shrunk surfaces' own index
            if shrunk is None:
                shrunk = _shrunk(surfaces)
                tree = shapely.STRtree(shrunk)
            first, second = _later_pairs(tree, shrunk, start, step)
            counted += first.size
            involved[first] = True
            involved[second] = True
            continue
        first, second = _later_pairs(tree, surfaces, start, step)
        measured = 0
        while len(found) < listed and measured < first.size:
            end = min(first.size, measured + max(listed - len(found), 16))
            a, b = first[measured:end], second[measured:end]
            areas = _shared_areas(surfaces[a], surfaces[b])
            for i, j, area in zip(a.tolist(), b.tolist(), areas.tolist(), strict=True):
                if area <= MIN_OVERLAP_M2:
                    continue
                if len(found) < listed:
                    found.append(Overlap(i, j, area))
                else:  # measured in the same go, past the list
                    counted += 1
                involved[[i, j]] = True
            measured = end
        if measured < first.size:
            shrunk = _shrunk(surfaces)
            a, b = first[measured:], second[measured:]
            overlapping = np.asarray(shapely.intersects(shrunk[a], shrunk[b]), dtype=bool)
            counted += int(overlapping.sum())
            involved[a[overlapping]] = True
            involved[b[overlapping]] = True
            tree = shapely.STRtree(shrunk)
    return OverlapReport(found, len(found) + counted, int(involved.sum()))


def _later_pairs(
    tree: shapely.STRtree, surfaces: GeometryArray, start: int, step: int
) -> tuple[IndexArray, IndexArray]:
    """Pairs (i, j), i < j, of `surfaces` that meet, for i in `start` to `start + step`, in
    index order (`tree` indexes `surfaces`)."""
    position, other = tree.query(surfaces[start : start + step], predicate="intersects")
    first = position + start
    keep = first < other
    first, other = first[keep], other[keep]
    order = np.lexsort((other, first))
    return first[order].astype(np.intp), other[order].astype(np.intp)


def _shrunk(surfaces: GeometryArray) -> GeometryArray:
    shrunk = np.asarray(shapely.buffer(surfaces, -SLIVER_DEG), dtype=object)
    shapely.prepare(shrunk)
    return shrunk


def _shared_areas(a: GeometryArray, b: GeometryArray) -> FloatArray:
    return geodesic_areas(_polygonal(shapely.intersection(a, b)))


def _polygonal(geoms: GeometryArray) -> GeometryArray:
    """Only the polygon parts of intersections (shared edges and points have no area)."""
    out = np.empty(len(geoms), dtype=object)
    for index, geom in enumerate(geoms):
        parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
        out[index] = shapely.union_all(parts) if parts else shapely.Polygon()
    return out


class PavedSurfaces:
    """Surfaces paved so far, in input order, for `dissolve`: each new surface is charged
    only for the part no earlier one paves. Feeding a file a chunk at a time gives the same
    areas as feeding it whole; one spatial index per chunk is kept, so the memory is that of
    the surfaces themselves. An exact copy of an earlier surface is paved whole and adds
    nothing, so many copies of one road cost a lookup each, not a union of all the others."""

    def __init__(self) -> None:
        self._seen: list[tuple[shapely.STRtree, GeometryArray]] = []
        self._drawn: set[bytes] = set()

    def pave(self, surfaces: GeometryArray) -> FloatArray:
        """For each of `surfaces` (the next ones in input order), the part of it an earlier
        surface already paves (m2); then count them as paved."""
        paved = np.zeros(len(surfaces))
        copies = self._copies(surfaces)
        paved[copies] = geodesic_areas(surfaces[copies])
        fresh = np.flatnonzero(~copies)
        paved[fresh] = self._pave_fresh(surfaces[fresh])
        return paved

    def _copies(self, surfaces: GeometryArray) -> npt.NDArray[np.bool_]:
        """Which surfaces are exact copies of an earlier one."""
        copies = np.zeros(len(surfaces), dtype=bool)
        for index, wkb in enumerate(shapely.to_wkb(surfaces).tolist()):
            if wkb is None:
                continue
            key = hashlib.blake2b(wkb, digest_size=16).digest()
            copies[index] = key in self._drawn
            self._drawn.add(key)
        return copies

    def _pave_fresh(self, surfaces: GeometryArray) -> FloatArray:
        tree = shapely.STRtree(surfaces)
        later: list[IndexArray] = []
        earlier: list[GeometryArray] = []
        position, other = tree.query(surfaces, predicate="intersects")
        keep = other < position
        later.append(position[keep])
        earlier.append(surfaces[other[keep]])
        for seen_tree, seen in self._seen:
            position, other = seen_tree.query(surfaces, predicate="intersects")
            later.append(position)
            earlier.append(seen[other])
        self._seen.append((tree, surfaces))
        paved = np.zeros(len(surfaces))
        which = np.concatenate(later)
        if which.size == 0:
            return paved
        order = np.argsort(which, kind="stable")
        which, geoms = which[order], np.concatenate(earlier)[order]
        starts = np.flatnonzero(np.diff(which, prepend=-1))
        groups = np.split(geoms, starts[1:])
        features = which[starts]
        unions = np.array([shapely.union_all(group) for group in groups], dtype=object)
        paved[features] = _shared_areas(surfaces[features], unions)
        return paved
