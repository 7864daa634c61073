"""Strips measured in closed form (mean of the two long sides), and shapes that are not strips.

Shapes are drawn in metres in a local frame independent of the code under test, turned about
the origin so no side is axis-aligned, and measured in EPSG:4326 like any request.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely import affinity

from app.geo.measure import measure
from app.geo.strip import long_sides

WIDTH = 7.0


def arc_band(radius: float, width: float, angle: float, vertices: int) -> shapely.Polygon:
    """A curved road: two concentric arcs `width` apart, `vertices` vertices on each."""
    t = np.linspace(0.0, angle, vertices)
    unit = np.c_[np.cos(t), np.sin(t)]
    outer, inner = unit * (radius + width / 2), unit * (radius - width / 2)
    return shapely.Polygon(np.vstack([outer, inner[::-1]]))


def chord_factor(angle: float, segments: int) -> float:
    """Length of a polyline inscribed in an arc with `segments` equal chords, over the arc's."""
    half = angle / segments / 2
    return np.sin(half) / half


S_CURVE = shapely.LineString(
    np.c_[np.linspace(0, 300, 301), 20 * np.sin(np.linspace(0, 2 * np.pi, 301))]
)

# name: (polygon in metres, centerline length in metres)
STRIPS = {
    "straight": (shapely.box(0, 0, 200, WIDTH), 200.0),
    "straight, clockwise": (shapely.box(0, 0, 200, WIDTH).reverse(), 200.0),
    "straight, vertex every 0.5 m": (shapely.segmentize(shapely.box(0, 0, 200, WIDTH), 0.5), 200),
    "straight, repeated vertex": (
        shapely.Polygon([(0, 0), (100, 0), (100, 0), (200, 0), (200, 7), (0, 7)]),
        200.0,
    ),
    "gently curved, 20 vertices": (
        arc_band(146.5, WIDTH, np.pi / 3, 10),
        146.5 * np.pi / 3 * chord_factor(np.pi / 3, 9),
    ),
    "quarter circle, 91 vertices a side": (
        arc_band(50, 6.0, np.pi / 2, 91),
        50 * np.pi / 2 * chord_factor(np.pi / 2, 90),
    ),
    "S-curve": (shapely.buffer(S_CURVE, WIDTH / 2, cap_style="flat"), S_CURVE.length),
    "tapered 4 m to 10 m": (shapely.Polygon([(0, -2), (150, -5), (150, 5), (0, 2)]), 150.0),
    "ends cut at 60 degrees": (
        shapely.Polygon([(0, 0), (100, 0), (100 + 7 / np.sqrt(3), 7), (7 / np.sqrt(3), 7)]),
        100.0,
    ),
}

NOT_STRIPS = {
    "L-bend": shapely.Polygon([(0, 0), (100, 0), (100, 100), (94, 100), (94, 6), (0, 6)]),
    "T-junction": shapely.union(shapely.box(0, 0, 200, 6), shapely.box(97, 6, 103, 80)),
    "square": shapely.box(0, 0, 30, 30),
    "short band, 2.5 widths long": shapely.box(0, 0, 17.5, WIDTH),
    "blob": shapely.Polygon([(0, 0), (40, -8), (75, 5), (90, 40), (60, 70), (20, 62), (-10, 35)]),
    "disc": shapely.Point(0, 0).buffer(20),
    "rounded ends": shapely.buffer(shapely.LineString([(0, 0), (200, 0)]), WIDTH / 2),
    "band with a lay-by": shapely.Polygon(
        [(0, 0), (200, 0), (200, 7), (120, 7), (115, 10), (85, 10), (80, 7), (0, 7)]
    ),
    "band pinched in the middle": shapely.Polygon(
        [(0, 0), (100, 2), (200, 0), (200, 7), (100, 5), (0, 7)]
    ),
    "band with a hole": shapely.box(0, 0, 200, 20).difference(shapely.box(50, 5, 150, 15)),
    "cul-de-sac bulb": shapely.union(
        shapely.box(0, -3, 80, 3), shapely.Point(80, 0).buffer(9, quad_segs=16)
    ),
}


def drawn(frame, shape: shapely.Polygon) -> shapely.Polygon:
    return frame().lonlat(affinity.rotate(shape, 27, origin=(0, 0)))


@pytest.mark.parametrize("name", list(STRIPS))
def test_a_strip_is_measured_by_its_sides(frame, name):
    shape, expected = STRIPS[name]
    result = measure([drawn(frame, shape)], WIDTH, False)
    assert result.length_method.tolist() == ["strip"]
    assert result.length_m[0] == pytest.approx(expected, rel=3e-4)
    assert result.mean_width_m[0] == pytest.approx(shape.area / expected, rel=3e-4)
    assert result.warnings == [[]]


@pytest.mark.parametrize("name", list(NOT_STRIPS))
def test_other_shapes_get_the_medial_axis(frame, name):
    polygon = drawn(frame, NOT_STRIPS[name])
    assert len(long_sides([polygon])[0]) == 0
    assert measure([polygon], WIDTH, False).length_method.tolist() == ["medial-axis"]


def test_the_long_sides_are_the_kerbs_as_drawn(frame):
    local = frame()
    band = shapely.Polygon([(0, 0), (150, 0), (150, 7), (75, 7), (0, 7)])
    bend = NOT_STRIPS["L-bend"]
    strips, sides = long_sides([local.lonlat(bend), local.lonlat(band)])
    assert strips.tolist() == [1]
    kerbs = [local.metres(side) for side in sides]
    # each side as drawn: the kerb with the extra vertex keeps it
    assert [kerb.length for kerb in kerbs] == pytest.approx([150.0, 150.0], rel=1e-6)
    assert sorted(shapely.get_num_coordinates(kerbs)) == [2, 3]
    assert sorted(kerb.coords[0][1] for kerb in kerbs) == pytest.approx([0.0, 7.0], abs=1e-6)


def test_strips_and_others_in_one_call_keep_their_order(frame):
    shapes = [
        STRIPS["straight"][0],
        NOT_STRIPS["L-bend"],
        STRIPS["tapered 4 m to 10 m"][0],
        NOT_STRIPS["T-junction"],
        STRIPS["quarter circle, 91 vertices a side"][0],
    ]
    result = measure([drawn(frame, shape) for shape in shapes], WIDTH, False)
    assert result.length_method.tolist() == [
        "strip",
        "medial-axis",
        "strip",
        "medial-axis",
        "strip",
    ]
    expected = [200.0, 194.0, 150.0, 277.0, STRIPS["quarter circle, 91 vertices a side"][1]]
    np.testing.assert_allclose(result.length_m, expected, rtol=3e-3)


def test_lines_and_multipolygons_are_not_strips(frame):
    local = frame()
    multi = local.lonlat(
        shapely.MultiPolygon([shapely.box(0, 0, 100, 6), shapely.box(0, 50, 100, 56)])
    )
    line = local.lonlat(shapely.LineString([(0, 0), (100, 0)]))
    strips, sides = long_sides([multi, line, None])
    assert len(strips) == len(sides) == 0
