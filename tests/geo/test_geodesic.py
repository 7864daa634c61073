"""Geodesic lengths and areas against GeographicLib (pyproj.Geod) and PostGIS geography."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer

from app.geo.measure import (
    SHORT_SEGMENT_MAX_DLAMBDA,
    SHORT_SEGMENT_MAX_M,
    geodesic_areas,
    geodesic_lengths,
    segment_lengths,
)

GEOD = Geod(ellps="WGS84")
# GeographicLib's own roundoff: ~3 nm on a distance, ~1e-4 m² on a polygon area (it sums
# per-edge areas measured from the equator). Below these, the reference is the noisy side.
GEOD_LENGTH_NOISE_M = 5e-9
GEOD_AREA_NOISE_M2 = 2e-4


def random_segments(rng: np.random.Generator, n: int, lat_limit: float, min_m: float, max_m: float):
    lat = rng.uniform(-lat_limit, lat_limit, n)
    lon = rng.uniform(-180, 180, n)
    azimuth = rng.uniform(0, 360, n)
    distance = np.exp(rng.uniform(np.log(min_m), np.log(max_m), n))
    lon2, lat2, _ = GEOD.fwd(lon, lat, azimuth, distance)
    return lon, lat, lon2, lat2


def reference_lengths(geoms) -> np.ndarray:
    return np.array([GEOD.geometry_length(g) for g in geoms])


def reference_area(geom: shapely.Geometry) -> float:
    total = 0.0
    for polygon in shapely.get_parts(geom):
        for k, ring in enumerate(shapely.get_rings(polygon)):
            xy = shapely.get_coordinates(ring)
            area = abs(GEOD.polygon_area_perimeter(xy[:, 0], xy[:, 1])[0])
            total += area if k == 0 else -area
    return total


class TestSegmentLengths:
    def test_short_formula_within_1e9_up_to_the_threshold_at_every_latitude(self):
        rng = np.random.default_rng(20240601)
        lon1, lat1, lon2, lat2 = random_segments(rng, 400_000, 89.9, 10.0, SHORT_SEGMENT_MAX_M)
        ours = segment_lengths(lon1, lat1, lon2, lat2)
        reference = GEOD.inv(lon1, lat1, lon2, lat2)[2]
        short = (reference <= SHORT_SEGMENT_MAX_M) & (
            np.abs(np.radians((lon2 - lon1 + 180) % 360 - 180)) <= SHORT_SEGMENT_MAX_DLAMBDA
        )
        assert short.mean() > 0.9  # the fast path is what is being measured here
        assert np.max(np.abs(ours / reference - 1)) <= 1e-9

    def test_metre_long_segments_agree_to_geographiclib_roundoff(self):
        rng = np.random.default_rng(7)
        lon1, lat1, lon2, lat2 = random_segments(rng, 100_000, 89.0, 0.5, 10.0)
        ours = segment_lengths(lon1, lat1, lon2, lat2)
        reference = GEOD.inv(lon1, lat1, lon2, lat2)[2]
        assert np.max(np.abs(ours - reference) - 1e-9 * reference) <= GEOD_LENGTH_NOISE_M

    def test_long_and_polar_segments_fall_back_to_geographiclib(self):
        rng = np.random.default_rng(11)
        lon1, lat1, lon2, lat2 = random_segments(rng, 20_000, 89.99, 1_000.0, 5_000_000.0)
        ours = segment_lengths(lon1, lat1, lon2, lat2)
        reference = GEOD.inv(lon1, lat1, lon2, lat2)[2]
        assert np.max(np.abs(ours / reference - 1)) <= 1e-9

    def test_antimeridian_segment_is_short(self):
        length = segment_lengths(
            np.array([179.9999]), np.array([-16.0]), np.array([-179.9999]), np.array([-16.0])
        )
        assert length[0] == pytest.approx(GEOD.inv(179.9999, -16.0, -179.9999, -16.0)[2], rel=1e-9)
        assert length[0] < 25.0


class TestLineLengths:
    def test_street_lines_and_100_km_lines(self, frame):
        rng = np.random.default_rng(3)
        lines = []
        for _ in range(300):
            steps = rng.uniform(1.0, 200.0, rng.integers(1, 12))
            headings = rng.uniform(0, 2 * np.pi, len(steps))
            xy = np.vstack(
                [
                    [0, 0],
                    np.cumsum(np.c_[np.cos(headings), np.sin(headings)] * steps[:, None], axis=0),
                ]
            )
            lines.append(frame().lonlat(shapely.LineString(xy + rng.uniform(-5e3, 5e3, 2))))
        for _ in range(50):  # sparse vertices, 100 km across
            lon, lat = rng.uniform(-170, 170), rng.uniform(-80, 80)
            azimuths = rng.uniform(0, 360, 3)
            points = [(lon, lat)]
            for azimuth in azimuths:
                lon, lat, _ = GEOD.fwd(lon, lat, azimuth, 100_000 / 3)
                points.append((lon, lat))
            lines.append(shapely.LineString(points))
        geoms = np.array(lines, dtype=object)
        ours = geodesic_lengths(geoms)
        assert np.max(np.abs(ours / reference_lengths(geoms) - 1)) <= 1e-9
        assert ours[-50:].min() > 30_000

    def test_parts_are_summed_and_polygons_give_their_perimeter_with_holes(self):
        a = shapely.LineString([(106.60, -6.10), (106.61, -6.11)])
        b = shapely.LineString([(106.62, -6.12), (106.62, -6.13), (106.63, -6.13)])
        shell = [
            (106.60, -6.10),
            (106.61, -6.10),
            (106.61, -6.11),
            (106.60, -6.11),
            (106.60, -6.10),
        ]
        hole = [(106.602, -6.102), (106.603, -6.102), (106.603, -6.103), (106.602, -6.102)]
        polygon = shapely.Polygon(shell, [hole])
        ours = geodesic_lengths([shapely.MultiLineString([a, b]), polygon, a])
        parts = reference_lengths([a, b])
        rings = reference_lengths([shapely.LineString(shell), shapely.LineString(hole)])
        np.testing.assert_allclose(ours, [parts.sum(), rings.sum(), parts[0]], rtol=1e-9)

    def test_empty_and_missing_parts_measure_zero(self):
        assert geodesic_lengths([shapely.LineString(), shapely.Polygon()]).tolist() == [0.0, 0.0]


coordinate = st.tuples(
    st.floats(106.55, 106.75, allow_nan=False), st.floats(-6.30, -6.10, allow_nan=False)
)
lines = st.lists(coordinate, min_size=2, max_size=30, unique=True).map(shapely.LineString)


@settings(max_examples=200, deadline=None)
@given(lines)
def test_reversing_a_line_keeps_its_length(line):
    forward, backward = geodesic_lengths([line, line.reverse()])
    assert backward == pytest.approx(forward, rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(lines, st.floats(0.01, 0.99))
def test_splitting_a_line_inside_a_segment_keeps_the_total(line, fraction):
    xy = shapely.get_coordinates(line)
    k = len(xy) // 2
    lon, lat, _ = GEOD.fwd(
        *xy[k - 1], GEOD.inv(*xy[k - 1], *xy[k])[0], fraction * GEOD.inv(*xy[k - 1], *xy[k])[2]
    )
    first = shapely.LineString([*xy[:k], (lon, lat)])
    second = shapely.LineString([(lon, lat), *xy[k:]])
    whole, a, b = geodesic_lengths([line, first, second])
    assert a + b == pytest.approx(whole, rel=1e-9, abs=GEOD_LENGTH_NOISE_M)


def road_polygons(frame, rng: np.random.Generator, count: int) -> list[shapely.Geometry]:
    """Bands, L-bends, T-junctions and curved bands, 100 m to 10 km long, anywhere on Earth."""
    shapes = []
    for _ in range(count):
        width = rng.uniform(3, 30)
        length = np.exp(rng.uniform(np.log(100), np.log(10_000)))
        kind = rng.integers(4)
        if kind == 0:
            shape = shapely.box(0, 0, length, width)
        elif kind == 1:
            shape = shapely.Polygon(
                [
                    (0, 0),
                    (length, 0),
                    (length, length),
                    (length - width, length),
                    (length - width, width),
                    (0, width),
                ]
            )
        elif kind == 2:
            shape = shapely.union(
                shapely.box(0, 0, length, width),
                shapely.box(length / 2, 0, length / 2 + width, length / 2),
            )
        else:
            radius = length / rng.uniform(1, 3)
            theta = np.linspace(0, length / radius, 60)
            outer = np.c_[np.cos(theta), np.sin(theta)] * (radius + width / 2)
            inner = np.c_[np.cos(theta), np.sin(theta)] * (radius - width / 2)
            shape = shapely.Polygon(np.vstack([outer, inner[::-1]]))
        shape = shapely.affinity.rotate(shape, rng.uniform(0, 360), origin=(0, 0))
        where = frame(rng.uniform(-180, 180), rng.uniform(-85, 85))
        shapes.append(where.lonlat(shape))
    return shapes


class TestAreas:
    def test_road_polygons_within_1e7_of_geographiclib_at_any_latitude(self, frame):
        shapes = road_polygons(frame, np.random.default_rng(5), 400)
        ours = geodesic_areas(shapes)
        reference = np.array([reference_area(s) for s in shapes])
        assert np.all(np.abs(ours - reference) <= 1e-7 * reference + GEOD_AREA_NOISE_M2)
        large = reference > 20_000  # where GeographicLib's roundoff is far below 1e-7
        assert large.sum() > 100
        assert np.max(np.abs(ours[large] / reference[large] - 1)) <= 1e-7

    def test_small_polygons_within_geographiclib_roundoff(self, frame):
        rng = np.random.default_rng(9)
        shapes = []
        for _ in range(200):
            box = shapely.box(0, 0, rng.uniform(1, 100), rng.uniform(1, 10))
            shapes.append(frame(rng.uniform(-180, 180), rng.uniform(-85, 85)).lonlat(box))
        ours = geodesic_areas(shapes)
        reference = np.array([reference_area(s) for s in shapes])
        assert np.max(np.abs(ours - reference)) <= GEOD_AREA_NOISE_M2

    def test_small_polygons_within_1e7_of_an_equal_area_projection(self, frame):
        # Over tens of metres geodesic and straight edges coincide in a Lambert azimuthal
        # equal-area plane, so its planar area is exact where GeographicLib is noisy.
        rng = np.random.default_rng(10)
        for _ in range(100):
            lon0, lat0 = rng.uniform(-180, 180), rng.uniform(-85, 85)
            plane = shapely.box(0, 0, rng.uniform(1, 50), rng.uniform(1, 10))
            shape = frame(lon0, lat0).lonlat(plane)
            laea = Transformer.from_crs(
                "EPSG:4326", f"+proj=laea +lat_0={lat0} +lon_0={lon0} +ellps=WGS84", always_xy=True
            )
            x, y = laea.transform(*shapely.get_coordinates(shape).T)
            projected = shapely.Polygon(np.column_stack([x, y]))
            assert geodesic_areas([shape])[0] == pytest.approx(projected.area, rel=1e-7)

    def test_an_l_bend_with_10_km_arms_needs_the_edge_bending_term(self, frame):
        arm, width = 10_000.0, 6.0
        plane = shapely.Polygon(
            [(0, 0), (arm, 0), (arm, arm), (arm - width, arm), (arm - width, width), (0, width)]
        )
        shape = frame(106.63, -46.0).lonlat(shapely.affinity.rotate(plane, 30, origin=(0, 0)))
        assert geodesic_areas([shape])[0] == pytest.approx(reference_area(shape), rel=2e-8)

    def test_holes_are_subtracted_parts_summed_lines_zero(self, frame):
        local = frame()
        outer = local.lonlat(shapely.box(0, 0, 400, 300))
        hole = local.lonlat(shapely.box(100, 100, 200, 200))
        ring_road = shapely.Polygon(outer.exterior, [hole.exterior])
        other = local.lonlat(shapely.box(1000, 0, 1500, 20))
        multi = shapely.MultiPolygon([ring_road, other])
        line = local.lonlat(shapely.LineString([(0, 0), (100, 0)]))
        ours = geodesic_areas([ring_road, multi, line])
        expected = reference_area(outer) - reference_area(hole)
        assert ours[0] == pytest.approx(expected, rel=1e-7)
        assert ours[1] == pytest.approx(expected + reference_area(other), rel=1e-7)
        assert ours[0] == pytest.approx(400 * 300 - 100 * 100, rel=1e-3)
        assert ours[2] == 0.0


# Road-sized: a 2 km square. Single geodesic edges of tens of kilometres around a sliver-thin
# polygon are out of the area method's 1e-7 scope (see geodesic_areas).
road_coordinate = st.tuples(
    st.floats(106.62, 106.64, allow_nan=False), st.floats(-6.18, -6.16, allow_nan=False)
)
polygons = (
    st.lists(road_coordinate, min_size=3, max_size=25, unique=True)
    .map(lambda points: shapely.MultiPoint(points).convex_hull)
    .filter(lambda g: g.geom_type == "Polygon" and g.area > 1e-8)
)


@settings(max_examples=200, deadline=None)
@given(polygons, st.integers(0, 100), st.booleans())
def test_area_ignores_ring_start_and_orientation(polygon, shift, reverse):
    ring = shapely.get_coordinates(polygon.exterior)[:-1]
    ring = np.roll(ring, shift % len(ring), axis=0)
    if reverse:
        ring = ring[::-1]
    moved = shapely.Polygon(ring)
    original, changed = geodesic_areas([polygon, moved])
    # Summation order only: about 1e-10 relative, within 1e-6 m² on thin slivers whose per-edge
    # terms are far larger than their area.
    assert changed == pytest.approx(original, rel=1e-10, abs=1e-6)
    assert original == pytest.approx(reference_area(polygon), rel=1e-7)


@pytest.mark.postgis
def test_postgis_geography_agrees(postgis_engine, frame):
    rng = np.random.default_rng(12)
    shapes = road_polygons(frame, rng, 40)
    lines = [shapely.LineString(shapely.get_coordinates(s.exterior)) for s in shapes]
    with postgis_engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT ST_Length(ST_GeomFromText(w, 4326)::geography),"
                " ST_Area(ST_GeomFromText(w, 4326)::geography)"
                " FROM unnest(CAST(:wkt AS text[])) AS w"
            ),
            {"wkt": [shapely.to_wkt(g, rounding_precision=-1) for g in lines + shapes]},
        ).all()
    postgis = np.array(rows, dtype=float)
    n = len(lines)
    np.testing.assert_allclose(geodesic_lengths(lines), postgis[:n, 0], rtol=1e-6)
    np.testing.assert_allclose(geodesic_areas(shapes), postgis[n:, 1], rtol=1e-6)
