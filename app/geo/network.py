"""The published road layers as one network, and shortest haul distances over it.

Every line of every road layer is an edge between its two end points, weighted by its
geodesic length (WGS84 ellipsoid); end points closer than `JOIN_M` are one node, so layers
drawn separately connect where they meet. A site or source is snapped to the nearest edge
within `SNAP_M`: it joins that edge's two ends at its share of the edge's length, plus the
geodesic access leg from the point to the road. Matching, snapping and shares use an
azimuthal equidistant plane centred on the network (metres, for tolerances only); every
distance reported is geodesic. Shortest paths are scipy's Dijkstra on an undirected graph,
built once per version of the layers (`cached_network`), solved once from each set of sources
(`SourceTrees`): a site joins them by its own snap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise

import numpy as np
import numpy.typing as npt
import shapely
import shapely.ops
from cachetools import LRUCache
from pyproj import Geod, Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

JOIN_M = 1.0
"""End points of two lines closer than this (metres) are one junction."""
SNAP_M = 500.0
"""A site or source farther than this (metres) from every road is off the network."""
MAX_KEPT_TREES = 8
"""Sets of source points a network keeps the shortest paths of (one per set of materials)."""
_GEOD = Geod(ellps="WGS84")
_SAME_POINT_M = 1e-3
"""Consecutive points of a route closer than this (metres) are drawn once."""
_ALONG = -1
"""A way from a site that stays on the site's road to the point (no junction)."""
_EPSILON_M = 1e-6
"""Weight of a zero-length connection: scipy's sparse graphs read a 0 weight as no edge."""


@dataclass(frozen=True)
class Snap:
    """Where a point meets the network: edge, share of its length from its start, access leg."""

    edge: int
    share: float
    access_m: float


@dataclass(frozen=True)
class RoadNetwork:
    """Edges (`ends[i]` are node ids) with geodesic lengths, and their lines in the plane."""

    ends: npt.NDArray[np.intp]
    lengths_m: npt.NDArray[np.float64]
    plane_lines: npt.NDArray[np.object_]
    tree: shapely.STRtree
    to_plane: Transformer
    node_count: int
    kept_trees: dict[bytes, SourceTrees] = field(default_factory=dict, compare=False, repr=False)
    """`SourceTrees` of the point sets asked for again and again, by their coordinates."""

    @classmethod
    def build(cls, geometries: Sequence[shapely.Geometry]) -> RoadNetwork | None:
        """The network of the lines among `geometries` (EPSG:4326); None without any."""
        parts = shapely.get_parts(np.asarray(geometries, dtype=object))
        lines = parts[(shapely.get_type_id(parts) == 1) & ~shapely.is_empty(parts)]
        if not len(lines):
            return None
        centre = shapely.centroid(shapely.MultiLineString(list(lines)))
        to_plane = Transformer.from_crs(
            "EPSG:4326",
            f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m",
            always_xy=True,
        )
        plane = shapely.transform(lines, lambda xy: np.column_stack(to_plane.transform(*xy.T)))
        starts = shapely.get_coordinates(shapely.get_point(plane, 0))
        finishes = shapely.get_coordinates(shapely.get_point(plane, -1))
        points = np.vstack([starts, finishes])
        node = _cluster(points, JOIN_M)
        count = len(lines)
        lengths = np.array([_GEOD.geometry_length(line) for line in lines], dtype=np.float64)
        return cls(
            ends=np.column_stack([node[:count], node[count:]]),
            lengths_m=lengths,
            plane_lines=plane,
            tree=shapely.STRtree(plane),
            to_plane=to_plane,
            node_count=int(node.max()) + 1,
        )

    def snap(self, point: shapely.Geometry) -> Snap | None:
        """The nearest edge within `SNAP_M` of `point` (EPSG:4326), or None."""
        lon, lat = shapely.get_coordinates(point)[0]
        on_plane = shapely.Point(*self.to_plane.transform(lon, lat))
        edge = self.tree.nearest(on_plane)
        if edge is None:
            return None
        line = self.plane_lines[int(edge)]
        if shapely.distance(line, on_plane) > SNAP_M:
            return None
        along = float(shapely.line_locate_point(line, on_plane))
        total = float(shapely.length(line))
        meets = shapely.get_coordinates(shapely.line_interpolate_point(line, along))[0]
        back = self.to_plane.transform(meets[0], meets[1], direction="INVERSE")
        access = _GEOD.inv(lon, lat, back[0], back[1])[2]
        return Snap(int(edge), along / total if total else 0.0, float(access))

    def trees(
        self, points: Sequence[shapely.Geometry], shortest: ShortestPaths | None = None
    ) -> SourceTrees:
        """`SourceTrees` from `points` (EPSG:4326), solved the first time these points are
        asked for and kept: the material sources are the same for every estimate. `shortest`
        gives the distances of record (the database's solver); scipy's Dijkstra by default,
        which also gives the ways drawn."""
        key = shapely.get_coordinates(np.asarray(points, dtype=object)).tobytes()
        kept = self.kept_trees.get(key)
        if kept is None:
            if len(self.kept_trees) >= MAX_KEPT_TREES:
                self.kept_trees.clear()
            kept = self.kept_trees[key] = self._solve_trees(points, shortest)
        return kept

    def _solve_trees(
        self, points: Sequence[shapely.Geometry], shortest: ShortestPaths | None
    ) -> SourceTrees:
        snaps = tuple(self.snap(point) for point in points)
        size = self.node_count + len(points)
        on_network = [
            (snap, self.node_count + i) for i, snap in enumerate(snaps) if snap is not None
        ]
        placed = [node - self.node_count for _, node in on_network]
        metres = np.full((len(points), self.node_count), np.inf)
        previous = np.full((len(points), size), -1, dtype=np.intp)
        if placed:
            links = _links(on_network, self)
            origins = [node for _, node in on_network]
            reached, before = dijkstra(
                _graph(self, links, size),
                directed=False,
                indices=origins,
                return_predecessors=True,
            )
            metres[placed] = reached[:, : self.node_count]
            previous[placed] = before
            if shortest is not None:
                nodes = np.arange(self.node_count)
                for i, origin in zip(placed, origins, strict=True):
                    metres[i] = shortest(self, links, origin, nodes)
        return SourceTrees(snaps, metres, previous)

    def _ways(self, start: Snap, trees: SourceTrees) -> tuple[npt.NDArray[np.float64], list[int]]:
        """Metres from a site snapped at `start` to each of the trees' points, and the node
        each way leaves the site's road by (`_ALONG`: along that road to the point)."""
        a, b = (int(node) for node in self.ends[start.edge])
        length = float(self.lengths_m[start.edge])
        via_a = trees.metres[:, a] + start.share * length + start.access_m
        via_b = trees.metres[:, b] + (1 - start.share) * length + start.access_m
        metres = np.minimum(via_a, via_b)
        leaves = np.where(via_a <= via_b, a, b).tolist()
        for i, snap in enumerate(trees.snaps):
            if snap is not None and snap.edge == start.edge:  # same road: no junction needed
                direct = abs(snap.share - start.share) * length + snap.access_m + start.access_m
                if direct <= metres[i]:
                    metres[i], leaves[i] = direct, _ALONG
        return metres, leaves

    def distances_km(
        self,
        site: shapely.Point,
        targets: Sequence[shapely.Geometry],
        shortest: ShortestPaths | None = None,
    ) -> npt.NDArray[np.float64]:
        """Shortest distance in km from `site` to each target over the network; infinity
        where either is off the network or no path joins them. The targets' `trees` are
        solved once (by `shortest` where given); a site costs its snap and a few lookups."""
        trees = self.trees(targets, shortest)
        start = self.snap(site) if trees.any_placed else None
        if start is None:
            return np.full(len(targets), np.inf)
        metres, _ = self._ways(start, trees)
        return metres / 1000.0

    def routes(
        self,
        site: shapely.Point,
        targets: Sequence[shapely.Geometry],
        drawn: Collection[int] | None = None,
    ) -> list[shapely.LineString | None]:
        """The way a truck takes from `site` to each target (those at indexes `drawn`, all by
        default) over the network (EPSG:4326): the access legs and the roads of the shortest
        path, partly where a point lies along one; None where either is off the network or no
        path joins them, or the target is not drawn. Drawn, not measured: the distance of
        record is `distances_km`'s."""
        start = self.snap(site)
        if start is None:
            return [None] * len(targets)
        trees = self.trees(targets)
        metres, leaves = self._ways(start, trees)
        origin = self.node_count + len(targets)
        found: list[shapely.LineString | None] = []
        for i, (target, snap) in enumerate(zip(targets, trees.snaps, strict=True)):
            if snap is None or not np.isfinite(metres[i]) or (drawn is not None and i not in drawn):
                found.append(None)
                continue
            node = self.node_count + i
            path = [origin]
            if leaves[i] != _ALONG:
                path.append(leaves[i])
                while path[-1] != node:
                    path.append(int(trees.previous[i, path[-1]]))
            else:
                path.append(node)
            placed = {origin: start, node: snap}
            legs = [self._plane_leg(here, there, placed) for here, there in pairwise(path)]
            found.append(self._line([self._plane_point(site), *legs, self._plane_point(target)]))
        return found

    def _line(self, pieces: Sequence[shapely.Geometry]) -> shapely.LineString | None:
        """Pieces in the plane joined into one lon/lat line, repeated points dropped; None
        when nothing is left to draw (the source stands at the site)."""
        plane = np.vstack([shapely.get_coordinates(piece) for piece in pieces])
        keep = np.ones(len(plane), dtype=bool)
        keep[1:] = np.hypot(*(plane[1:] - plane[:-1]).T) > _SAME_POINT_M
        kept = plane[keep]
        if len(kept) < 2:
            return None
        lon, lat = self.to_plane.transform(kept[:, 0], kept[:, 1], direction="INVERSE")
        return shapely.LineString(np.column_stack([lon, lat]))

    def _plane_point(self, point: shapely.Geometry) -> shapely.Point:
        lon, lat = shapely.get_coordinates(point)[0]
        return shapely.Point(*self.to_plane.transform(lon, lat))

    def _plane_leg(self, here: int, there: int, placed: dict[int, Snap]) -> shapely.Geometry:
        """The part of a road between two nodes of a path, in the plane, from `here`."""
        if here in placed and there in placed:  # site and target on the same road
            edge = placed[here].edge
            return self._along(edge, placed[here].share, placed[there].share)
        if here in placed or there in placed:
            snap = placed.get(here) or placed[there]
            junction = there if here in placed else here
            end_share = 0.0 if int(self.ends[snap.edge][0]) == junction else 1.0
            if here in placed:
                return self._along(snap.edge, snap.share, end_share)
            return self._along(snap.edge, end_share, snap.share)
        edge = self._edge_between[(min(here, there), max(here, there))]
        forward = int(self.ends[edge][0]) == here
        return self._along(edge, 0.0 if forward else 1.0, 1.0 if forward else 0.0)

    def _along(self, edge: int, begin: float, end: float) -> shapely.Geometry:
        """Edge `edge` from share `begin` to share `end` of its length (backwards if need be)."""
        line = self.plane_lines[edge]
        total = float(shapely.length(line))
        return shapely.ops.substring(line, begin * total, end * total)

    @cached_property
    def _edge_between(self) -> dict[tuple[int, int], int]:
        """The shortest edge joining each pair of nodes (lower node id first)."""
        best: dict[tuple[int, int], int] = {}
        for edge in np.argsort(self.lengths_m, kind="stable")[::-1].tolist():
            a, b = (int(node) for node in self.ends[edge])
            best[(min(a, b), max(a, b))] = edge
        return best


@dataclass(frozen=True)
class Edges:
    """Undirected edges between node ids, weighted in metres."""

    rows: npt.NDArray[np.intp]
    cols: npt.NDArray[np.intp]
    weights_m: npt.NDArray[np.float64]


ShortestPaths = Callable[[RoadNetwork, Edges, int, npt.NDArray[np.intp]], npt.NDArray[np.float64]]
"""Metres from node `origin` to each of `targets` over the network's edges plus `links`
(infinity where no path); the store may solve it in the database (pgRouting)."""


@dataclass(frozen=True)
class SourceTrees:
    """Shortest paths over a network from each of a few fixed points (node `node_count + i`
    for point i), to every node of the network."""

    snaps: tuple[Snap | None, ...]
    metres: npt.NDArray[np.float64]
    """(points, network nodes): infinity where the point is off the network or no path."""
    previous: npt.NDArray[np.intp]
    """(points, network nodes and then the points' own): the node before each on the way
    from the point (scipy's tree; -1 where none)."""

    @property
    def any_placed(self) -> bool:
        """Whether any point is on the network (else no site needs snapping)."""
        return any(snap is not None for snap in self.snaps)


def _links(placed: Sequence[tuple[Snap, int]], network: RoadNetwork) -> Edges:
    """The connections of snapped points (`node` each) to the ends of their edges."""
    rows, cols, weights = [], [], []
    for snap, node in placed:
        a, b = network.ends[snap.edge]
        length = network.lengths_m[snap.edge]
        rows += [node, node]
        cols += [int(a), int(b)]
        weights += [
            snap.share * length + snap.access_m,
            (1 - snap.share) * length + snap.access_m,
        ]
    return Edges(np.array(rows), np.array(cols), np.array(weights, dtype=np.float64))


def _graph(network: RoadNetwork, links: Edges, size: int) -> coo_matrix:
    """The network's edges and `links` as one sparse graph of `size` nodes."""
    return _min_graph(
        np.concatenate([network.ends[:, 0], links.rows]),
        np.concatenate([network.ends[:, 1], links.cols]),
        np.concatenate([network.lengths_m, links.weights_m]),
        size,
    )


def _cluster(points: npt.NDArray[np.float64], tolerance: float) -> npt.NDArray[np.intp]:
    """A node id per point: points within `tolerance` of each other (transitively) share one."""
    pairs = cKDTree(points).query_pairs(tolerance, output_type="ndarray")
    count = len(points)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(count, count))
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.intp)


def _min_graph(
    rows: npt.NDArray[np.intp],
    cols: npt.NDArray[np.intp],
    weights: npt.NDArray[np.float64],
    size: int,
) -> coo_matrix:
    """A sparse graph keeping the shortest of parallel edges (a sparse sum would add them)."""
    low, high = np.minimum(rows, cols), np.maximum(rows, cols)
    keep = low != high
    low, high, weights = low[keep], high[keep], np.maximum(weights[keep], _EPSILON_M)
    order = np.lexsort((weights, high, low))
    low, high, weights = low[order], high[order], weights[order]
    first = np.ones(len(low), dtype=bool)
    first[1:] = (low[1:] != low[:-1]) | (high[1:] != high[:-1])
    return coo_matrix((weights[first], (low[first], high[first])), shape=(size, size)).tocsr()


_CACHE: LRUCache[Hashable, RoadNetwork | None] = LRUCache(maxsize=4)
_LOCK = threading.Lock()


def cached_network(
    version: Hashable, load: Callable[[], Sequence[shapely.Geometry]]
) -> RoadNetwork | None:
    """The network of the road layers at `version` (their ids, dates and sizes), built from
    `load()` the first time that version is asked for."""
    with _LOCK:
        if version in _CACHE:
            return _CACHE[version]
    network = RoadNetwork.build(load())
    with _LOCK:
        _CACHE[version] = network
    return network
