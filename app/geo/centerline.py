"""Centerline of a road polygon: a pruned medial axis with its free ends run out to the outline.

The medial axis is approximated by the chordal axis of a constrained Delaunay triangulation of
the outline (shapely/GEOS `constrained_delaunay_triangles`): in a road polygon almost every
triangle spans from one kerb to the other, and the midpoints of those kerb-to-kerb chords lie
on the centerline. Triangles with two inner edges link two chord midpoints; triangles with three
(junctions) link their centroid to all three; ear triangles end a branch. The steps follow the
known pitfalls of skeletons:

- the outline is simplified (2 % of the width) and then segmentized (half a width) first, so an
  over-dense outline does not produce spurs, and a sparse one still gives kerb-to-kerb chords;
- branches ending freely and shorter than the road width, or than the clearance they pass
  through, are pruned (corner spurs, ears, the star inside a turning bulb);
- the axis stops about half a width short of each free end, so every free end is extended
  along its own direction (taken a width and more back, clear of the end cap) to the outline;
- junction arms meet at one node, so a T or X counts each arm once.

Construction is planar, in a local azimuthal equidistant frame per feature (`app.geo.local`);
the caller measures the result geodesically.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

import numpy as np
import shapely

from app.geo.arrays import FloatArray, GeometryArray
from app.geo.local import origins, to_local, to_lonlat
from app.geo.strip import strip_lengths

SIMPLIFY_FRACTION = 0.02
SEGMENT_FRACTION = 0.5
PRUNE_FRACTION = 1.0
CLEARANCE_FACTOR = 2.0
MAX_OUTLINE_VERTICES = 20_000  # a sliver-thin polygon must not segmentize into millions

Graph = dict[int, set[int]]


def _chordal_graph(outline: shapely.Polygon) -> tuple[FloatArray, Graph]:
    """Node coordinates and adjacency of the chordal axis of `outline` (planar metres)."""
    triangles = shapely.get_parts(shapely.constrained_delaunay_triangles(outline))
    if len(triangles) == 0:
        return np.empty((0, 2)), {}
    corners = shapely.get_coordinates(triangles).reshape(-1, 4, 2)[:, :3]
    vertices, vertex_id = np.unique(corners.reshape(-1, 2), axis=0, return_inverse=True)
    vertex_id = vertex_id.reshape(-1, 3)
    a, b = vertex_id, np.roll(vertex_id, -1, axis=1)
    edge_key = np.minimum(a, b) * len(vertices) + np.maximum(a, b)
    keys, edge_id, uses = np.unique(edge_key.ravel(), return_inverse=True, return_counts=True)
    edge_id = edge_id.reshape(-1, 3)
    inner = (uses == 2)[edge_id]
    low, high = np.divmod(keys, len(vertices))
    nodes = (vertices[low] + vertices[high]) / 2.0

    graph: Graph = defaultdict(set)
    inner_count = inner.sum(axis=1)
    for first, second in edge_id[inner_count == 2][inner[inner_count == 2]].reshape(-1, 2):
        graph[int(first)].add(int(second))
        graph[int(second)].add(int(first))
    junctions = np.flatnonzero(inner_count == 3)
    centroids = corners[junctions].mean(axis=1)
    for offset, triangle in enumerate(junctions):
        centre = len(nodes) + offset
        for edge in edge_id[triangle]:
            graph[centre].add(int(edge))
            graph[int(edge)].add(centre)
    return np.vstack([nodes, centroids]), graph


def _branches(graph: Graph) -> list[list[int]]:
    """Node paths between nodes that are not plain links (degree != 2), plus closed loops."""
    seen: set[tuple[int, int]] = set()
    paths = []
    ends = [node for node, links in graph.items() if len(links) != 2]
    for start in ends + list(graph):
        for step in graph[start]:
            if (start, step) in seen:
                continue
            path = [start, step]
            seen.update({(start, step), (step, start)})
            while len(graph[path[-1]]) == 2 and path[-1] != start:
                following = next(n for n in graph[path[-1]] if (path[-1], n) not in seen)
                seen.update({(path[-1], following), (following, path[-1])})
                path.append(following)
            paths.append(path)
    return paths


def _length(points: FloatArray) -> float:
    return float(np.hypot(*np.diff(points, axis=0).T).sum())


def _prune(graph: Graph, nodes: FloatArray, outline: shapely.Polygon, width: float) -> None:
    """Remove free-ending branches (spurs) that hang off a junction and are shorter than the
    road width, or than twice the largest clearance along them: a spur that never leaves the
    widest circle it passes through (a corner of an end cap, the star inside a turning bulb)
    is an artefact of the outline, not a road. A junction always keeps one branch."""
    boundary = outline.boundary
    while True:
        doomed: dict[int, list[tuple[float, list[int]]]] = defaultdict(list)
        for path in _branches(graph):
            free = [len(graph[end]) == 1 for end in (path[0], path[-1])]
            if free[0] == free[1]:
                continue
            spur = path if free[1] else path[::-1]  # from the junction to the free end
            length = _length(nodes[spur])
            clearance = float(shapely.distance(shapely.points(nodes[spur]), boundary).max())
            if length < PRUNE_FRACTION * width or length < CLEARANCE_FACTOR * clearance:
                doomed[spur[0]].append((length, spur))
        for junction, spurs in doomed.items():
            if len(spurs) == len(graph[junction]):
                spurs.remove(max(spurs, key=lambda item: item[0]))
        removed = [spur for spurs in doomed.values() for _, spur in spurs]
        if not removed:
            return
        for spur in removed:
            for here, there in pairwise(spur):
                graph[here].discard(there)
                graph[there].discard(here)
            for node in spur[1:]:
                graph.pop(node, None)


def _point_back(points: FloatArray, distance: float) -> FloatArray:
    """The point `distance` along the polyline `points` from its first point."""
    steps = np.hypot(*np.diff(points, axis=0).T)
    reach = np.concatenate([[0.0], np.cumsum(steps)])
    k = int(np.clip(np.searchsorted(reach, distance), 1, len(points) - 1))
    t = (distance - reach[k - 1]) / steps[k - 1] if steps[k - 1] > 0 else 0.0
    return points[k - 1] + (points[k] - points[k - 1]) * min(max(t, 0.0), 1.0)


def _extend(points: FloatArray, outline: shapely.Polygon, width: float) -> FloatArray:
    """`points` (starting at a free end) with its end replaced by a ray to the outline."""
    available = _length(points)
    back = min(width, available / 2.0)
    anchor = _point_back(points, back)
    behind = _point_back(points, min(2.0 * width, available))
    direction = anchor - behind
    norm = float(np.hypot(*direction))
    if norm == 0.0:
        return points
    reach = 4.0 * width + 2.0 * back
    ray = shapely.LineString([anchor, anchor + direction / norm * reach])
    hits = shapely.get_coordinates(shapely.intersection(ray, outline.boundary))
    if len(hits) == 0:
        return points
    hit = hits[np.argmin(np.hypot(*(hits - anchor).T))]
    steps = np.hypot(*np.diff(points, axis=0).T)
    keep = np.concatenate([[0.0], np.cumsum(steps)]) > back
    return np.vstack([[hit], [anchor], points[keep]])


def _polygon_axis(polygon: shapely.Polygon) -> shapely.Geometry:
    length = float(strip_lengths(polygon.area, polygon.length))
    width = polygon.area / length if length > 0 else np.sqrt(polygon.area)
    if not width > 0:
        return shapely.MultiLineString()
    spacing = max(SEGMENT_FRACTION * width, polygon.length / MAX_OUTLINE_VERTICES)
    outline = shapely.segmentize(shapely.simplify(polygon, SIMPLIFY_FRACTION * width), spacing)
    nodes, graph = _chordal_graph(outline)
    _prune(graph, nodes, polygon, width)
    lines = []
    for path in _branches(graph):
        points = nodes[path]
        if len(graph[path[0]]) == 1:
            points = _extend(points, polygon, width)
        if len(graph[path[-1]]) == 1:
            points = _extend(points[::-1], polygon, width)[::-1]
        lines.append(points)
    if not lines:
        return shapely.MultiLineString()
    return shapely.line_merge(shapely.MultiLineString(lines))


def medial_axes(polygons: GeometryArray) -> GeometryArray:
    """Centerline (pruned, end-extended medial axis) of each polygon in EPSG:4326.

    Multipolygons get one axis per part. The result is in EPSG:4326, ready for
    `geodesic_lengths`; a polygon too small to have an axis gives an empty geometry.
    """
    centres = origins(polygons)
    local = to_local(polygons, centres)
    axes = [
        shapely.union_all([_polygon_axis(part) for part in shapely.get_parts(polygon)])
        if polygon is not None
        else None
        for polygon in local
    ]
    return to_lonlat(np.asarray(axes, dtype=object), centres)
