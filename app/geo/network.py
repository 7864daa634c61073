"""The published road layers as one network, and shortest haul distances over it.

Every line of every road layer is an edge between its two end points, weighted by its
geodesic length (WGS84 ellipsoid); end points closer than `JOIN_M` are one node, so layers
drawn separately connect where they meet. A site or source is snapped to the nearest edge
within `SNAP_M`: it joins that edge's two ends at its share of the edge's length, plus the
geodesic access leg from the point to the road. Matching, snapping and shares use an
azimuthal equidistant plane centred on the network (metres, for tolerances only); every
distance reported is geodesic. Shortest paths are scipy's Dijkstra on an undirected graph,
built once per version of the layers (`cached_network`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
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
MAX_KEPT_SNAPS = 10_000
"""Snapped source points a network keeps (a city's quarries and plants are far fewer)."""
_GEOD = Geod(ellps="WGS84")
_SAME_POINT_M = 1e-3
"""Consecutive points of a route closer than this (metres) are drawn once."""
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
    kept_snaps: dict[bytes, Snap | None] = field(default_factory=dict, compare=False, repr=False)
    """Snaps of the points asked for again and again (material sources), by their WKB."""

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

    def _kept_snap(self, point: shapely.Geometry) -> Snap | None:
        """`snap`, kept: the same sources are snapped for every estimate."""
        key = shapely.to_wkb(point)
        if key not in self.kept_snaps:
            if len(self.kept_snaps) >= MAX_KEPT_SNAPS:
                self.kept_snaps.clear()
            self.kept_snaps[key] = self.snap(point)
        return self.kept_snaps[key]

    def distances_km(
        self,
        site: shapely.Point,
        targets: Sequence[shapely.Geometry],
        shortest: ShortestPaths | None = None,
    ) -> npt.NDArray[np.float64]:
        """Shortest distance in km from `site` to each target over the network; infinity
        where either is off the network or no path joins them. `shortest` solves the graph
        (the network's edges plus the connections of the snapped points); scipy's Dijkstra
        in this process by default."""
        result = np.full(len(targets), np.inf)
        start = self.snap(site)
        if start is None:
            return result
        snaps = [self._kept_snap(target) for target in targets]
        links, origin, nodes = self._links(start, snaps)
        reached = (shortest or in_process)(self, links, origin, nodes)
        placed_targets = np.array([snap is not None for snap in snaps])
        result[placed_targets] = reached[placed_targets] / 1000.0
        return result

    def _links(
        self, start: Snap, snaps: Sequence[Snap | None]
    ) -> tuple[Edges, int, npt.NDArray[np.intp]]:
        """The connections of a site (node `origin`) and of targets (`nodes`, one each) to the
        ends of the edges they snapped to, and to each other where they share one."""
        origin = self.node_count
        nodes = np.arange(origin + 1, origin + 1 + len(snaps))
        placed = [(start, origin)] + [
            (snap, int(node)) for snap, node in zip(snaps, nodes, strict=True) if snap is not None
        ]
        rows, cols, weights = [], [], []
        for snap, node in placed:
            a, b = self.ends[snap.edge]
            length = self.lengths_m[snap.edge]
            rows += [node, node]
            cols += [int(a), int(b)]
            weights += [
                snap.share * length + snap.access_m,
                (1 - snap.share) * length + snap.access_m,
            ]
            if node != origin and snap.edge == start.edge:  # same road: no need for a junction
                rows.append(origin)
                cols.append(node)
                direct = abs(snap.share - start.share) * length
                weights.append(direct + snap.access_m + start.access_m)
        links = Edges(np.array(rows), np.array(cols), np.array(weights, dtype=np.float64))
        return links, origin, nodes

    def routes(
        self, site: shapely.Point, targets: Sequence[shapely.Geometry]
    ) -> list[shapely.LineString | None]:
        """The way a truck takes from `site` to each target over the network (EPSG:4326): the
        access legs and the roads of the shortest path, partly where a point lies along one;
        None where either is off the network or no path joins them. Drawn, not measured: the
        distance of record is `distances_km`'s. One shortest-path search for all targets."""
        start = self.snap(site)
        if start is None:
            return [None] * len(targets)
        snaps = [self.snap(target) for target in targets]
        links, origin, nodes = self._links(start, snaps)
        graph = _graph(self, links, int(nodes[-1]) + 1 if len(nodes) else origin + 1)
        distances, previous = dijkstra(
            graph, directed=False, indices=origin, return_predecessors=True
        )
        found: list[shapely.LineString | None] = []
        for target, snap, node in zip(targets, snaps, nodes.tolist(), strict=True):
            if snap is None or not np.isfinite(distances[node]):
                found.append(None)
                continue
            path = [node]
            while path[-1] != origin:
                path.append(int(previous[path[-1]]))
            path.reverse()
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


def in_process(
    network: RoadNetwork, links: Edges, origin: int, targets: npt.NDArray[np.intp]
) -> npt.NDArray[np.float64]:
    """`ShortestPaths` with scipy's Dijkstra in this process."""
    size = int(max(origin, *targets)) + 1 if len(targets) else origin + 1
    reached = dijkstra(_graph(network, links, size), directed=False, indices=origin)
    return np.asarray(reached[targets], dtype=np.float64)


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
