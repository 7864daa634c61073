"""Overlapping road surfaces: a junction drawn twice would be paved twice.

Surfaces are the polygons as drawn and the footprints of lines with their widths. Two
surfaces overlap when they still meet after both are shrunk by a sliver; the first pairs are
listed with their areas, measured on the ellipsoid like every other area. The work is bounded
whatever the input: exact copies of one surface are told apart once (their pairs are counted,
not tested), pairs of distinct surfaces come from a spatial index a block at a time and are
tested up to a budget, and past it the pairs left are counted from bounding boxes alone, so
the report says how many pairs at least and at most overlap.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from app.errors import TooLarge
from app.geo.arrays import FloatArray, GeometryArray
from app.geo.measure import geodesic_areas

MIN_OVERLAP_M2 = 0.01
"""Smaller overlaps are rounding at shared edges, not pavement."""

LISTED_OVERLAPS = 20
"""Pairs listed one by one; past them a report only counts."""

MAX_OVERLAP_CHECKS = 100_000
"""Pairs of distinct surfaces tested one by one in a request (about a second of work);
past them pairs are counted by bounding box."""

SLIVER_DEG = 1e-7
"""Surfaces shrunk by this much (about a centimetre) still meet only where they overlap by
more than a sliver: how overlapping pairs are told apart from pairs that only share an edge,
without measuring each shared area. A tolerance for telling, never a measure."""

_PAIRS_PER_BLOCK = 1_000_000
_MIN_BLOCK = 16

_MEASURE_COST = 20
"""Measuring a pair's shared area costs about as much as testing this many pairs."""

IndexArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Overlap:
    """Two features whose surfaces share `area_m2` square metres."""

    first: int
    second: int
    area_m2: float


@dataclass(frozen=True)
class OverlapReport:
    """The first overlapping pairs (index order) with their areas; how many pairs overlap (at
    least `pairs`, at most `most_pairs`) and how many features they involve (at least)."""

    listed: list[Overlap] = field(default_factory=list)
    pairs: int = 0
    features: int = 0
    most_pairs: int = 0

    @property
    def exact(self) -> bool:
        """Whether every pair was told apart, so `pairs` and `features` are the counts."""
        return self.most_pairs == self.pairs


@dataclass(frozen=True)
class _Copies:
    """Surfaces grouped by exact copies: `codes[i]` is surface i's group (-1: no surface),
    `surfaces` the first of each group, `sizes` how many each has."""

    codes: IndexArray
    surfaces: GeometryArray
    sizes: IndexArray

    @classmethod
    def of(cls, surfaces: GeometryArray) -> _Copies:
        codes, _ = pd.factorize(shapely.to_wkb(surfaces))
        drawn = np.flatnonzero(codes >= 0)
        _, first = np.unique(codes[drawn], return_index=True)
        sizes = np.bincount(codes[drawn], minlength=first.size)
        return cls(codes.astype(np.intp), surfaces[drawn[first]], sizes.astype(np.intp))


def find_overlaps(
    surfaces: GeometryArray, listed: int = LISTED_OVERLAPS, checks: int = MAX_OVERLAP_CHECKS
) -> OverlapReport:
    """Pairs of surfaces that overlap by more than a sliver: the first `listed` of them that
    share more than `MIN_OVERLAP_M2` measured, the others counted. At most `checks` pairs of
    distinct surfaces are tested; past them the count is a range."""
    copies = _Copies.of(surfaces)
    shrunk = _shrunk(copies.surfaces)
    whole = ~shapely.is_empty(shrunk)  # a surface thinner than the sliver overlaps nothing
    tested = _tested_pairs(shrunk, copies.sizes, checks)
    sizes = copies.sizes
    repeated = whole & (sizes > 1)
    pairs = int((sizes[repeated] * (sizes[repeated] - 1) // 2).sum())
    pairs += int((sizes[tested.first] * sizes[tested.second]).sum())
    involved = repeated.copy()
    involved[tested.first] = involved[tested.second] = True
    if tested.complete:
        most = pairs
    else:
        drawn = copies.codes[copies.codes >= 0]
        boxes = shapely.bounds(shrunk)[drawn[whole[drawn]]]
        most = _box_pairs(boxes) - tested.apart
    found = _first_listed(copies, tested, repeated, listed, checks + listed * _MEASURE_COST)
    return OverlapReport(found, pairs, int(sizes[involved].sum()), most)


@dataclass(frozen=True)
class _Tested:
    """Pairs (first, second) of distinct surfaces found to meet; how many feature pairs were
    found apart; whether every pair whose bounding boxes meet was tested."""

    first: IndexArray
    second: IndexArray
    apart: int
    complete: bool


def _tested_pairs(shrunk: GeometryArray, sizes: IndexArray, checks: int) -> _Tested:
    """Test pairs of `shrunk` whose bounding boxes meet, in index order, up to `checks`."""
    tree = shapely.STRtree(shrunk)
    first: list[IndexArray] = []
    second: list[IndexArray] = []
    apart = 0
    left = checks
    start = 0
    while start < len(shrunk):
        # a block of about as many pairs as are left to test, if every surface met all others
        step = max(_MIN_BLOCK, min(_PAIRS_PER_BLOCK, left + 1) // len(shrunk))
        a, b = _later_pairs(tree, shrunk, start, step)
        start += step
        if a.size > left:
            a, b, left = a[:left], b[:left], -1
        else:
            left -= a.size
        meet = np.asarray(shapely.intersects(shrunk[a], shrunk[b]), dtype=bool)
        first.append(a[meet])
        second.append(b[meet])
        apart += int((sizes[a[~meet]] * sizes[b[~meet]]).sum())
        if left < 0:
            break
    empty = np.zeros(0, dtype=np.intp)
    return _Tested(
        np.concatenate([empty, *first]), np.concatenate([empty, *second]), apart, left >= 0
    )


def _later_pairs(
    tree: shapely.STRtree, surfaces: GeometryArray, start: int, step: int
) -> tuple[IndexArray, IndexArray]:
    """Pairs (i, j), i < j, of `surfaces` whose bounding boxes meet, for i in `start` to
    `start + step`, in index order (`tree` indexes `surfaces`)."""
    position, other = tree.query(surfaces[start : start + step])
    first = position + start
    keep = first < other
    first, other = first[keep], other[keep]
    order = np.lexsort((other, first))
    return first[order].astype(np.intp), other[order].astype(np.intp)


def _first_listed(
    copies: _Copies, tested: _Tested, repeated: npt.NDArray[np.bool_], listed: int, work: int
) -> list[Overlap]:
    """The first `listed` overlapping pairs of features (index order) that share more than
    `MIN_OVERLAP_M2`, among the pairs found to overlap; within `work` pairs looked at (a
    measured pair counts as many)."""
    groups = np.flatnonzero(repeated)
    source = np.concatenate([tested.first, tested.second, groups])
    target = np.concatenate([tested.second, tested.first, groups])
    order = np.argsort(source, kind="stable")
    source, target = source[order], target[order]
    partner_start = np.searchsorted(source, np.arange(len(copies.sizes) + 1))
    by_group = np.argsort(copies.codes, kind="stable")[np.count_nonzero(copies.codes < 0) :]
    member_start = np.concatenate([[0], np.cumsum(copies.sizes)])
    areas: dict[tuple[int, int], float] = {}
    found: list[Overlap] = []
    has_partners = np.diff(partner_start) > 0
    drawn = np.flatnonzero(copies.codes >= 0)
    for first in drawn[has_partners[copies.codes[drawn]]].tolist():
        if len(found) == listed or work <= 0:
            break
        group = int(copies.codes[first])
        partners = target[partner_start[group] : partner_start[group + 1]]
        work -= partners.size
        others = np.concatenate(
            [by_group[member_start[p] : member_start[p + 1]] for p in partners.tolist()]
        )
        for second in np.sort(others[others > first]).tolist():
            if len(found) == listed or work <= 0:
                return found
            work -= 1
            key = (group, int(copies.codes[second]))
            if key not in areas:
                work -= _MEASURE_COST
                areas[key] = float(
                    _shared_areas(copies.surfaces[[key[0]]], copies.surfaces[[key[1]]])[0]
                )
            if areas[key] > MIN_OVERLAP_M2:
                found.append(Overlap(first, second, areas[key]))
    return found


def _box_pairs(boxes: FloatArray) -> int:
    """How many pairs of boxes (rows of xmin, ymin, xmax, ymax) meet, edges included: all
    pairs less those apart across x or y, in n log n."""
    n = len(boxes)
    xmin, ymin, xmax, ymax = boxes.T
    apart_x = _pairs_below(xmax, xmin)
    apart_y = _pairs_below(ymax, ymin)
    apart_both = _pairs_below_left(xmax, ymax, xmin, ymin) + _pairs_below_left(
        xmax, -ymin, xmin, -ymax
    )
    return n * (n - 1) // 2 - apart_x - apart_y + apart_both


def _pairs_below(high: FloatArray, low: FloatArray) -> int:
    """How many (i, j) have high[i] < low[j]."""
    return int(np.searchsorted(np.sort(high), low, side="left").sum())


def _pairs_below_left(px: FloatArray, py: FloatArray, qx: FloatArray, qy: FloatArray) -> int:
    """How many (i, j) have px[i] < qx[j] and py[i] < qy[j]: a sweep along x with a Fenwick
    tree over the ranks of py."""
    ys = np.unique(py)
    by_x = np.argsort(px, kind="stable")
    ranks = (np.searchsorted(ys, py[by_x]) + 1).tolist()
    queries = np.argsort(qx, kind="stable")
    inserted = np.searchsorted(px[by_x], qx[queries], side="left").tolist()
    below = np.searchsorted(ys, qy[queries], side="left").tolist()
    tree = [0] * (len(ys) + 1)
    total = done = 0
    for upto, limit in zip(inserted, below, strict=True):
        for rank in ranks[done:upto]:
            while rank < len(tree):
                tree[rank] += 1
                rank += rank & -rank
        done = max(done, upto)
        while limit > 0:
            total += tree[limit]
            limit -= limit & -limit
    return total


def _shrunk(surfaces: GeometryArray) -> GeometryArray:
    return np.asarray(shapely.buffer(surfaces, -SLIVER_DEG), dtype=object)


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

    def __init__(self, max_pairs: int | None = None) -> None:
        self._seen: list[tuple[shapely.STRtree, GeometryArray]] = []
        self._drawn: set[bytes] = set()
        self._max_pairs = max_pairs
        self._boxes: list[FloatArray] = []

    def pave(self, surfaces: GeometryArray) -> FloatArray:
        """For each of `surfaces` (the next ones in input order), the part of it an earlier
        surface already paves (m2); then count them as paved."""
        paved = np.zeros(len(surfaces))
        copies = self._copies(surfaces)
        paved[copies] = geodesic_areas(surfaces[copies])
        fresh = np.flatnonzero(~copies)
        self._check_work(surfaces[fresh])
        paved[fresh] = self._pave_fresh(surfaces[fresh])
        return paved

    def _check_work(self, surfaces: GeometryArray) -> None:
        """Refuse, before any union, more pairs of distinct surfaces whose bounding boxes
        meet than `max_pairs`: each such pair is a union to make."""
        if self._max_pairs is None:
            return
        self._boxes.append(shapely.bounds(surfaces))
        pairs = _box_pairs(np.concatenate(self._boxes))
        if pairs > self._max_pairs:
            raise TooLarge(
                f"dissolve=true: the surfaces meet in {pairs:,} pairs of distinct features "
                f"(by bounding box), more than the {self._max_pairs:,} one request takes "
                "apart; send it to POST /batch, or leave dissolve off"
            )

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
