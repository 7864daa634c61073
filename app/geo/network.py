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
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from cachetools import LRUCache
from pyproj import Geod, Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

JOIN_M = 1.0
"""End points of two lines closer than this (metres) are one junction."""
SNAP_M = 500.0
"""A site or source farther than this (metres) from every road is off the network."""
_GEOD = Geod(ellps="WGS84")
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
        snaps = [self.snap(target) for target in targets]
        origin = self.node_count
        nodes = np.arange(origin + 1, origin + 1 + len(targets))
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
        reached = (shortest or in_process)(self, links, origin, nodes)
        placed_targets = np.array([snap is not None for snap in snaps])
        result[placed_targets] = reached[placed_targets] / 1000.0
        return result


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
    graph = _min_graph(
        np.concatenate([network.ends[:, 0], links.rows]),
        np.concatenate([network.ends[:, 1], links.cols]),
        np.concatenate([network.lengths_m, links.weights_m]),
        int(max(origin, *targets)) + 1 if len(targets) else origin + 1,
    )
    reached = dijkstra(graph, directed=False, indices=origin)
    return np.asarray(reached[targets], dtype=np.float64)


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
