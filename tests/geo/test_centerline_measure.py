"""Centerlines of analytic road shapes, footprints, and the per-feature `measure`."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from app.errors import InvalidParameter
from app.geo.centerline import medial_axes
from app.geo.footprint import footprints
from app.geo.measure import geodesic_areas, geodesic_lengths, measure
from app.geo.strip import strip_lengths

WIDTH = 6.0


def annulus_sector(radius: float, width: float, angle: float) -> shapely.Polygon:
    t = np.linspace(0, angle, 91)
    unit = np.c_[np.cos(t), np.sin(t)]
    return shapely.Polygon(
        np.vstack([unit * (radius + width / 2), (unit * (radius - width / 2))[::-1]])
    )


# name: (polygon in metres, analytic centerline length in metres, tolerance)
SHAPES = {
    "straight band": (shapely.box(0, 0, 200, WIDTH), 200.0, 0.01),
    "curved band": (annulus_sector(50, WIDTH, np.pi / 2), 50 * np.pi / 2, 0.01),
    "L-bend": (
        shapely.Polygon([(0, 0), (100, 0), (100, 100), (94, 100), (94, 6), (0, 6)]),
        2 * (100 - WIDTH / 2),
        0.01,
    ),
    "T-junction": (
        shapely.union(shapely.box(0, 0, 200, WIDTH), shapely.box(97, WIDTH, 103, 80)),
        200 + 80 - WIDTH / 2,
        0.01,
    ),
    "X-junction": (
        shapely.union(shapely.box(0, -3, 200, 3), shapely.box(97, -100, 103, 100)),
        400.0,
        0.01,
    ),
    "taper 4 m to 10 m": (shapely.Polygon([(0, -2), (150, -5), (150, 5), (0, 2)]), 150.0, 0.01),
    "cul-de-sac bulb": (
        shapely.union(shapely.box(0, -3, 80, 3), shapely.Point(80, 0).buffer(9, quad_segs=16)),
        80 + 9.0,
        0.03,
    ),
}


@pytest.mark.parametrize("dense", [False, True], ids=["outline", "vertex every 0.2 m"])
@pytest.mark.parametrize("name", list(SHAPES))
def test_centerline_matches_the_analytic_length(frame, name, dense):
    shape, expected, tolerance = SHAPES[name]
    if dense:
        shape = shapely.segmentize(shape, 0.2)
    polygon = frame().lonlat(shapely.affinity.rotate(shape, 27, origin=(0, 0)))
    (axis,) = medial_axes(np.array([polygon]))
    assert geodesic_lengths([axis])[0] == pytest.approx(expected, rel=tolerance)


def test_junction_arms_count_once(frame):
    shape, expected, _ = SHAPES["X-junction"]
    (axis,) = medial_axes(np.array([frame().lonlat(shape)]))
    # Four arms from one crossing: the axis is about the two through roads, not 4 x 200 m.
    assert geodesic_lengths([axis])[0] == pytest.approx(expected, rel=0.01)
    assert shapely.get_num_geometries(axis) <= 5


def test_multipolygon_axes_are_summed(frame):
    a = shapely.box(0, 0, 100, WIDTH)
    b = shapely.box(0, 50, 300, 50 + WIDTH)
    (axis,) = medial_axes(np.array([frame().lonlat(shapely.MultiPolygon([a, b]))]))
    assert geodesic_lengths([axis])[0] == pytest.approx(400, rel=0.01)


def test_strip_formula():
    assert strip_lengths(1200.0, 412.0) == pytest.approx(200.0)
    assert np.isnan(strip_lengths(100.0, 30.0))


class TestFootprint:
    def test_line_footprint_has_flat_caps_and_mitre_joins(self, frame):
        local = frame()
        line = local.lonlat(shapely.LineString([(0, 0), (100, 0), (100, 50)]))
        (polygon,) = footprints([line], 6.0)
        metres = local.metres(polygon)
        # flat caps: nothing beyond the ends; mitre joins: the outer corner is square.
        assert metres.area == pytest.approx(150 * 6.0, rel=1e-6)
        assert metres.bounds == pytest.approx((0, -3, 103, 50), abs=1e-6)
        assert geodesic_areas([polygon])[0] == pytest.approx(900, rel=1e-6)

    def test_polygons_stay_as_they_are_and_width_is_per_feature(self, frame):
        local = frame()
        band = local.lonlat(shapely.box(0, 0, 10, 5))
        line = local.lonlat(shapely.LineString([(0, 0), (50, 0)]))
        out = footprints([band, line, line], [0.0, 4.0, 8.0])
        assert out[0].equals(band)
        assert local.metres(out[1]).area == pytest.approx(200, rel=1e-6)
        assert local.metres(out[2]).area == pytest.approx(400, rel=1e-6)


class TestMeasure:
    def test_lines_area_is_length_times_width(self, frame):
        line = frame().lonlat(shapely.LineString([(0, 0), (300, 0), (300, 400)]))
        result = measure([line], 7.0, True)
        assert result.length_m[0] == pytest.approx(700, rel=1e-6)
        assert result.area_m2[0] == pytest.approx(result.length_m[0] * 7.0)
        assert result.mean_width_m[0] == 7.0
        assert result.length_method.tolist() == ["line"]
        assert result.warnings == [[]]

    def test_polygon_length_method_order(self, frame):
        local = frame()
        band = local.lonlat(shapely.box(0, 0, 200, WIDTH))
        bend = local.lonlat(SHAPES["L-bend"][0])
        sent = local.lonlat(shapely.LineString([(0, 3), (200, 3)]))
        result = measure(
            [band, band, band, bend],
            [5.0, 5.0, WIDTH, WIDTH],
            [True, True, False, False],
            [sent, None, None, None],
        )
        assert result.length_method.tolist() == [
            "centerline",
            "area/width",
            "strip",
            "medial-axis",
        ]
        np.testing.assert_allclose(result.length_m[:3], [200, 1200 / 5.0, 200], rtol=1e-6)
        assert result.length_m[3] == pytest.approx(SHAPES["L-bend"][1], rel=0.01)
        np.testing.assert_allclose(result.area_m2[:3], 1200, rtol=1e-6)
        np.testing.assert_allclose(result.mean_width_m[:3], [6.0, 5.0, 6.0], rtol=1e-6)

    def test_disagreement_over_10_percent_is_warned(self, frame):
        band = frame().lonlat(shapely.box(0, 0, 200, WIDTH))
        result = measure([band, band], [4.0, 5.8], [True, True])
        # 1200 m² / 4 m = 300 m against a 200 m strip: warned; 5.8 m is within 10 %.
        assert len(result.warnings[0]) == 1
        assert "area/width (300.0 m)" in result.warnings[0][0]
        assert "strip formula (200.0 m)" in result.warnings[0][0]
        assert result.warnings[1] == []

    def test_sent_centerline_checked_against_given_width(self, frame):
        local = frame()
        band = local.lonlat(shapely.box(0, 0, 200, WIDTH))
        short = local.lonlat(shapely.LineString([(0, 3), (120, 3)]))
        result = measure([band], WIDTH, True, [short])
        assert result.length_m[0] == pytest.approx(120, rel=1e-6)
        assert any("area / width (200.0 m)" in w for w in result.warnings[0])

    def test_multilinestring_parts_are_summed(self, frame):
        local = frame()
        multi = local.lonlat(shapely.MultiLineString([[(0, 0), (100, 0)], [(0, 50), (0, 250)]]))
        result = measure([multi], 5.0, False)
        assert result.length_m[0] == pytest.approx(300, rel=1e-6)
        assert result.area_m2[0] == pytest.approx(1500, rel=1e-6)

    def test_a_sliver_polygon_is_measured_without_exploding(self, frame):
        sliver = frame().lonlat(shapely.box(0, 0, 100, 1e-4))
        result = measure([sliver], 5.0, False)
        assert result.length_m[0] == pytest.approx(100, rel=0.01)

    @pytest.mark.parametrize("width", [0.0, -1.0, float("nan")])
    def test_a_line_needs_a_positive_width(self, frame, width):
        line = frame().lonlat(shapely.LineString([(0, 0), (10, 0)]))
        with pytest.raises(InvalidParameter, match=r"feature 1: width .* must be a positive"):
            measure([line, line], [5.0, width], True)
