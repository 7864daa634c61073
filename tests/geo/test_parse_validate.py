"""Reading GeoJSON, WKT/EWKT and GeoSeries; every validation error names feature and reason."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pytest
import shapely

from app.errors import InvalidGeometry, InvalidInput, InvalidParameter, TooLarge
from app.geo.measure import geodesic_lengths
from app.geo.parse import (
    Z_DROPPED,
    _plain_linestrings,
    parse_geojson,
    parse_geometries,
    parse_wkt,
)
from app.geo.validate import find_problems, validate

ROADS = Path(__file__).resolve().parents[2] / "data" / "sample_layers" / "tangerang_roads.geojson"

LINE = {"type": "LineString", "coordinates": [[106.63, -6.17], [106.64, -6.18]]}


def feature(geometry, fid=None, **properties):
    out = {"type": "Feature", "geometry": geometry, "properties": properties or None}
    if fid is not None:
        out["id"] = fid
    return out


class TestGeoJSON:
    def test_geometry_feature_and_collection(self):
        for obj in (
            LINE,
            feature(LINE, "a", width_m=6),
            {"type": "FeatureCollection", "features": [feature(LINE)]},
        ):
            parsed = parse_geojson(obj)
            assert len(parsed) == 1
            assert parsed.geometries[0].equals(shapely.LineString(LINE["coordinates"]))
        parsed = parse_geojson(feature(LINE, "a", width_m=6))
        assert parsed.ids == ["a"]
        assert parsed.properties == [{"width_m": 6}]
        assert parsed.problems == [None]

    def test_real_tangerang_roads(self):
        parsed = parse_geojson(json.loads(ROADS.read_text()))
        assert len(parsed) == 142
        assert parsed.ids[0] == "way/27946607"
        assert find_problems(parsed) == [None] * 142
        assert geodesic_lengths(parsed.geometries).sum() == pytest.approx(27_040, abs=10)

    def test_z_is_dropped_with_a_warning(self):
        parsed = parse_geojson(
            feature(
                {"type": "LineString", "coordinates": [[106.6, -6.1, 12.0], [106.7, -6.1, 13.0]]}
            )
        )
        assert not shapely.has_z(parsed.geometries[0])
        assert parsed.warnings == [[Z_DROPPED]]

    def test_legacy_crs_member_and_crs_argument(self):
        utm = {"type": "LineString", "coordinates": [[690000, 9320000], [690100, 9320000]]}
        legacy = dict(
            utm, crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32748"}}
        )
        for parsed in (parse_geojson(utm, crs="EPSG:32748"), parse_geojson(legacy)):
            lon, lat = shapely.get_coordinates(parsed.geometries[0])[0]
            assert lon == pytest.approx(106.7167, abs=1e-3)
            assert lat == pytest.approx(-6.149, abs=1e-3)

    def test_not_geojson_at_all(self):
        with pytest.raises(InvalidInput, match="not a GeoJSON object"):
            parse_geojson([1, 2])


class TestWKT:
    def test_ewkt_srid_wins_per_row_and_crs_argument_for_the_rest(self):
        parsed = parse_wkt(
            [
                "SRID=32748;LINESTRING(690000 9320000, 690100 9320000)",
                "LINESTRING(200000 1500000, 200100 1500000)",
            ],
            crs="EPSG:23834",
        )
        (lon0, lat0), (lon1, lat1) = (shapely.get_coordinates(g)[0] for g in parsed.geometries)
        assert (lon0, lat0) == pytest.approx((106.7167, -6.149), abs=1e-3)
        assert (lon1, lat1) == pytest.approx((106.5, 0.0), abs=1e-3)  # TM-3 zone 48.2 origin

    def test_dgn95_tm3_is_transformed_not_read_as_degrees(self):
        parsed = parse_wkt(["LINESTRING(214386.8 817796.8, 214486.8 817796.8)"], crs="EPSG:23834")
        lon, lat = shapely.get_coordinates(parsed.geometries[0])[0]
        assert (lon, lat) == pytest.approx((106.63, -6.17), abs=1e-4)

    def test_bad_rows_are_reported_not_raised(self):
        parsed = parse_wkt(
            [
                "bogus",
                "POLYGON((0 0,1 0,1 1))",
                None,
                "SRID=x;LINESTRING(0 0,1 1)",
                "SRID=99999;LINESTRING(0 0,1 1)",
                "LINESTRING Z (106 -6 1, 106.1 -6 2)",
            ]
        )
        assert parsed.problems[0].startswith("unreadable WKT")
        assert parsed.problems[1] == "unclosed ring (first point differs from last)"
        assert parsed.problems[2] == "no geometry (empty cell)"
        assert parsed.problems[3] == "EWKT SRID is not a number"
        assert parsed.problems[4] == "unknown EWKT SRID 99999"
        assert parsed.problems[5] is None
        assert parsed.warnings[5] == [Z_DROPPED]

    def test_plain_lines_read_by_arrow_are_exactly_what_geos_reads(self):
        rng = np.random.default_rng(7)
        coordinates = rng.uniform(-180, 180, (300, 4))
        rows = []
        for index, (x0, y0, x1, y1) in enumerate(coordinates.tolist()):
            points = [f"{x0!r} {y0!r}", f"{x1:.3f} {y1:.0f}", f"{-index} {index}.5"]
            rows.append(
                f"LINESTRING ({', '.join(points)})"
                if index % 2
                else f"LINESTRING({','.join(points)})"
            )
        rows += [
            "LINESTRING (1e-3 2, 3 4)",  # an exponent: GEOS reads it
            "LINESTRING  (1 2, 3 4)",
            "LINESTRING (1 2 3, 4 5 6)",
            "linestring (1 2, 3 4)",
            "LINESTRING (1 2)",  # one point: unreadable
            "SRID=4326;LINESTRING (1 2, 3 4)",
        ]
        plain, _lines = _plain_linestrings(pa.array(rows))
        assert plain.tolist() == [True] * 300 + [False] * 6
        parsed = parse_wkt(pa.array(rows), crs="EPSG:4326")
        for index, text in enumerate(rows[:-2]):
            expected = shapely.get_coordinates(shapely.from_wkt(text), include_z=False)
            got = shapely.get_coordinates(parsed.geometries[index])
            assert got.tobytes() == expected.tobytes(), text
        assert parsed.problems[-2].startswith("unreadable WKT: ")
        assert "point array must contain 0 or >1 elements" in parsed.problems[-2]
        assert parsed.problems[-2] == parsed.problems[-2].strip()  # one line in a CSV cell
        assert shapely.get_coordinates(parsed.geometries[-1]).tolist() == [[1, 2], [3, 4]]
        assert parsed.warnings[302] == [Z_DROPPED]

    def test_unknown_crs_argument_is_a_clear_error(self):
        with pytest.raises(
            InvalidParameter, match="unknown coordinate reference system 'EPSG:99999'"
        ):
            parse_wkt(["LINESTRING(0 0, 1 1)"], crs="EPSG:99999")


class TestGeoSeries:
    def test_file_crs_is_used(self):
        series = gpd.GeoSeries(
            shapely.from_wkt(["LINESTRING(690000 9320000, 690100 9320000)"]), crs="EPSG:32748"
        )
        parsed = parse_geometries(series, properties=[{"name": "Jalan"}], ids=[7])
        assert shapely.get_coordinates(parsed.geometries[0])[0] == pytest.approx(
            (106.7167, -6.149), abs=1e-3
        )
        assert parsed.ids == [7]
        assert parsed.properties == [{"name": "Jalan"}]

    def test_conflicting_crs_is_refused(self):
        series = gpd.GeoSeries([shapely.LineString([(0, 0), (1, 1)])], crs="EPSG:32748")
        with pytest.raises(InvalidInput, match="contradicts"):
            parse_geometries(series, crs="EPSG:4326")

    def test_plain_array_defaults_to_wgs84_and_missing_rows_are_problems(self):
        parsed = parse_geometries(
            np.array([shapely.LineString([(106.6, -6.1), (106.7, -6.1)]), None])
        )
        assert parsed.problems == [None, "no geometry (null)"]


def error_for(geometry, fid=None, **kwargs) -> str:
    parsed = parse_geojson(
        {"type": "FeatureCollection", "features": [feature(LINE), feature(geometry, fid)]}
    )
    with pytest.raises(InvalidGeometry) as caught:
        validate(parsed, **kwargs)
    return str(caught.value)


class TestValidation:
    @pytest.mark.parametrize(
        ("geometry", "message"),
        [
            (
                {"type": "Point", "coordinates": [106.6, -6.1]},
                "feature 1: Point is not a road geometry",
            ),
            (
                {"type": "GeometryCollection", "geometries": []},
                "feature 1: GeometryCollection is not a road geometry",
            ),
            ({"type": "LineString", "coordinates": []}, "feature 1: empty geometry"),
            (None, "feature 1: no geometry (null)"),
            (
                {
                    "type": "Polygon",
                    "coordinates": [[[106.6, -6.1], [106.61, -6.1], [106.61, -6.11]]],
                },
                "feature 1: polygon ring 0: unclosed ring (first position differs from last)",
            ),
            (
                {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [106.6, -6.1],
                            [106.61, -6.11],
                            [106.61, -6.1],
                            [106.6, -6.11],
                            [106.6, -6.1],
                        ]
                    ],
                },
                "feature 1: invalid geometry: self-intersection at lon 106.605, lat -6.105",
            ),
            (
                {"type": "LineString", "coordinates": [[-6.1, 106.6], [-6.2, 106.7]]},
                "feature 1: latitude 106.6 outside ±90 (lon/lat swapped?) at vertex 0",
            ),
            (
                {"type": "LineString", "coordinates": [[106.6, -6.1], [186.6, -6.2]]},
                "feature 1: longitude 186.6 outside ±180",
            ),
            (
                {"type": "LineString", "coordinates": [[106.6, -6.1], [float("nan"), -6.2]]},
                "feature 1: NaN or infinite coordinate at vertex 1",
            ),
            (
                {"type": "LineString", "coordinates": [[106.6, -6.1], [float("inf"), -6.2]]},
                "feature 1: NaN or infinite coordinate at vertex 1",
            ),
            (
                {"type": "LineString", "coordinates": [[106.6, -6.1], [106.6, -6.1]]},
                "feature 1: invalid geometry: too few points in geometry component",
            ),
            (
                {"type": "LineString", "coordinates": [[106.6, -6.1], ["x", -6.1]]},
                "feature 1: line: positions are not a list of [lon, lat] numbers",
            ),
        ],
    )
    def test_each_reason_names_the_feature(self, geometry, message):
        assert error_for(geometry).startswith(message)

    def test_the_geojson_id_is_named_too(self):
        message = error_for({"type": "Point", "coordinates": [1, 2]}, fid="way/42")
        assert message.startswith("feature 1 (id 'way/42'): Point is not a road geometry")

    def test_too_many_vertices_is_too_large(self):
        coords = [[106.6 + k * 1e-5, -6.1] for k in range(11)]
        parsed = parse_geojson(feature({"type": "LineString", "coordinates": coords}, "long"))
        with pytest.raises(
            TooLarge, match=r"^feature 0 \(id 'long'\): 11 vertices, over the limit of 10$"
        ):
            validate(parsed, max_vertices=10)
        validate(parsed, max_vertices=11)

    def test_find_problems_reports_every_bad_row(self):
        parsed = parse_wkt(
            [
                "LINESTRING(106.6 -6.1, 106.7 -6.1)",
                "POINT(106.6 -6.1)",
                "POLYGON((106.6 -6.1, 106.61 -6.11, 106.61 -6.1, 106.6 -6.11, 106.6 -6.1))",
                "LINESTRING(690000 9320000, 690100 9320000)",
                "MULTIPOLYGON EMPTY",
            ]
        )
        problems = find_problems(parsed)
        assert problems[0] is None
        assert problems[1].startswith("Point is not a road geometry")
        assert problems[2].startswith("invalid geometry: self-intersection")
        assert problems[3].startswith("latitude 9.32e+06 outside ±90")
        assert problems[4] == "empty geometry"

    def test_transform_failures_are_reported(self):
        parsed = parse_wkt(["LINESTRING(1e30 1e30, 1e30 2e30)"], crs="EPSG:32748")
        assert find_problems(parsed)[0] is not None
