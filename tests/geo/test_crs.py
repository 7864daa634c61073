"""CRS URIs for OGC API Features Part 2: the UTM zones a box touches, and conversions."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from app.errors import UnsupportedCrs
from app.geo.crs import (
    CRS84,
    from_lon_lat,
    lon_lat_bbox,
    offered_crs,
    offered_crs_uri,
    to_lon_lat,
    utm_zone_uris,
)

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
UTM_48S = EPSG + "32748"


def codes(uris: list[str]) -> list[int]:
    return [int(uri.rsplit("/", 1)[1]) for uri in uris]


@pytest.mark.parametrize(
    ("bbox", "expected"),
    [
        ((106.56, -6.26, 106.72, -6.09), [32748]),  # Tangerang
        ((101.9, -0.5, 102.1, 0.5), [32647, 32648, 32747, 32748]),  # zone edge at 102 E, equator
        ((179.5, -17.0, -179.5, -16.0), [32760, 32701]),  # Fiji, across the antimeridian
        ((180.0, 10.0, 180.0, 10.0), [32660]),  # the last meridian belongs to zone 60
        ((-180.0, 0.0, -179.0, 1.0), [32601]),  # the equator itself is north
    ],
)
def test_utm_zones_a_box_touches(
    bbox: tuple[float, float, float, float], expected: list[int]
) -> None:
    assert codes(utm_zone_uris(bbox)) == expected


def test_a_collection_without_extent_offers_the_world_wide_crs_only() -> None:
    assert offered_crs(None) == [CRS84, EPSG + "4326", EPSG + "3857"]


@pytest.mark.parametrize("value", ["EPSG:4326", EPSG + "32600", EPSG + "32761", CRS84 + "x", ""])
def test_only_uris_of_offerable_crs_are_taken(value: str) -> None:
    with pytest.raises(UnsupportedCrs) as caught:
        offered_crs_uri(value, "bbox-crs")
    assert caught.value.where == {"field": "bbox-crs"}
    assert repr(value) in caught.value.detail


def test_to_lon_lat_undoes_from_lon_lat_and_keeps_heights() -> None:
    line = shapely.LineString([(106.6344152, -6.1642596, 12.5), (106.634378, -6.1641541, 13.0)])
    geoms = np.array([line, None], dtype=object)
    for crs in (EPSG + "4326", EPSG + "3857", UTM_48S):
        there = from_lon_lat(geoms, crs)
        assert there[1] is None and shapely.has_z(there[0])
        back = to_lon_lat(there, crs)[0]
        assert shapely.get_coordinates(back, include_z=True) == pytest.approx(
            shapely.get_coordinates(line, include_z=True), abs=1e-9
        )
    lat_lon = shapely.get_coordinates(from_lon_lat(geoms, EPSG + "4326")[0])
    assert lat_lon[0].tolist() == pytest.approx([-6.1642596, 106.6344152], abs=1e-12)


def test_a_projected_box_becomes_the_lon_lat_box_holding_its_curved_edges() -> None:
    """South of the equator, a line of constant UTM northing lies furthest south on the
    central meridian: the box must reach below the corners of the southern edge, as far as
    that edge sampled every metre goes."""
    box = (300_000.0, 9_000_000.0, 899_000.0, 9_100_000.0)
    miny = lon_lat_bbox(box, UTM_48S)[1]
    to_lon_lat_xy = Transformer.from_crs("EPSG:32748", "EPSG:4326", always_xy=True)
    _, corners_lat = to_lon_lat_xy.transform([box[0], box[2]], [box[1], box[1]])
    edge_x = np.arange(box[0], box[2] + 1.0, 1.0)
    _, edge_lat = to_lon_lat_xy.transform(edge_x, np.full_like(edge_x, box[1]))
    assert edge_lat.min() < min(corners_lat) - 1e-3  # the bulge is real...
    assert miny == pytest.approx(edge_lat.min(), abs=1e-7)  # ...and the box reaches it (1 cm)
    assert lon_lat_bbox((1.0, 2.0, 3.0, 4.0), CRS84) == (1.0, 2.0, 3.0, 4.0)
