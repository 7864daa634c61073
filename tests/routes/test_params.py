"""The query-parameter parsers and the GeoJSON writer, without HTTP."""

from __future__ import annotations

import pytest
import shapely

from app.errors import InvalidInput
from app.geo.crs import CRS84
from app.routes.features import geojson_geometries
from app.routes.params import bbox_query, negotiate
from app.routes.responses import MediaType

FEATURES = (MediaType.geojson, MediaType.json)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, MediaType.geojson),
        ("", MediaType.geojson),
        ("application/json", MediaType.json),
        ("application/*", MediaType.geojson),
        ("application/json;q=0.9, application/geo+json;q=0.8", MediaType.json),
        ("application/json;q=0, */*", MediaType.geojson),
        ("application/geo+json;q=0.1, */*", MediaType.json),
        ("image/png", MediaType.geojson),
        ("application/json;q=oops, application/geo+json", MediaType.geojson),
    ],
)
def test_negotiate_ranks_by_quality_then_specificity(
    accept: str | None, expected: MediaType
) -> None:
    assert negotiate(accept, FEATURES) == expected


def test_bbox_query_reads_four_or_six_numbers() -> None:
    assert bbox_query(CRS84, None) is None
    assert bbox_query(CRS84, "106.6,-6.2,106.7,-6.1") == (106.6, -6.2, 106.7, -6.1)
    assert bbox_query(CRS84, " 170, -10, -170, 10") == (170, -10, -170, 10)
    assert bbox_query(CRS84, "1,2,-5,3,4,50") == (1, 2, 3, 4)


def test_bbox_query_errors_name_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        bbox_query(CRS84, "1,2")
    assert caught.value.where == {"field": "bbox"}
    assert str(caught.value).startswith("field bbox: expected 4")


def test_geojson_geometries_orient_round_and_keep_nulls() -> None:
    clockwise = shapely.Polygon([(0, 0), (0, 1.123456789), (1, 1), (0, 0)])
    polygon, missing, line = geojson_geometries(
        [clockwise, None, shapely.LineString([(1.00000004, 2, 3), (4, 5, 6)])]
    )
    assert polygon == {
        "type": "Polygon",
        "coordinates": (((0.0, 0.0), (1.0, 1.0), (0.0, 1.1234568), (0.0, 0.0)),),
    }
    assert missing is None
    assert line == {"type": "LineString", "coordinates": ((1.0, 2.0, 3.0), (4.0, 5.0, 6.0))}


def test_bbox_query_in_another_crs_is_the_lon_lat_box_around_it() -> None:
    lat_lon = "http://www.opengis.net/def/crs/EPSG/0/4326"
    assert bbox_query(lat_lon, "-6.2,106.6,-6.1,106.7") == pytest.approx((106.6, -6.2, 106.7, -6.1))
    with pytest.raises(InvalidInput) as caught:
        bbox_query(lat_lon, "-6.1,106.6,-6.2,106.7")
    assert "lower corner must come first" in caught.value.detail
