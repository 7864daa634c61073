"""OGC API Features Part 2 (CRS by reference) on both backends, in this process.

Expected coordinates come from pyproj here, from the sample layer's own file, independently
of the service's transformers: EPSG:4326 with `always_xy` and the axes swapped by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer

from app.main import create_app
from tests.conftest import app_settings
from tests.routes.conftest import href, query

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
LAT_LON = EPSG + "4326"
WEB_MERCATOR = EPSG + "3857"
UTM_48S = EPSG + "32748"  # Tangerang
UTM_47S = EPSG + "32747"  # the test grid, around 100.1-100.6 E, 11-10.5 S
WORLD = [CRS84, LAT_LON, WEB_MERCATOR]
PROBLEM = "application/problem+json"
MILLIMETRE = 1e-3


@pytest.fixture(scope="module")
def road(data_dir: Path) -> dict[str, Any]:
    """Jalan Dokter Sitanala, the first road of the sample layer, as its file has it."""
    path = data_dir / "sample_layers" / "tangerang_roads.geojson"
    first: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["features"][0]
    assert first["properties"]["name"] == "Jalan Dokter Sitanala"
    return first


def road_id(site: TestClient, osm_id: int) -> int:
    """The item id of the road with `osm_id`."""
    page = site.get("/collections/roads/items", params={"limit": 1000}).json()
    return next(f["id"] for f in page["features"] if f["properties"]["osm_id"] == osm_id)


def projected(coordinates: list[list[float]], epsg: int) -> np.ndarray:
    """Lon/lat `coordinates` in EPSG `epsg` (easting, northing), by pyproj."""
    to_crs = Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)
    lon, lat = np.array(coordinates).T
    return np.column_stack(to_crs.transform(lon, lat))


def crs_lists(site: TestClient) -> dict[str, list[str]]:
    return {c["id"]: c["crs"] for c in site.get("/collections").json()["collections"]}


# collections


def test_collections_offer_crs84_first_then_the_utm_zones_of_their_data(site: TestClient) -> None:
    collections = site.get("/collections").json()["collections"]
    assert {c["id"]: c["storageCrs"] for c in collections} == dict.fromkeys(
        ["estimates", "sources", "field-tests", "grid", "roads"], CRS84
    )
    assert crs_lists(site) == {
        "estimates": [*WORLD, UTM_48S],
        "sources": [*WORLD, UTM_48S],
        "field-tests": [*WORLD, UTM_48S],
        "grid": [*WORLD, UTM_47S],
        "roads": [*WORLD, UTM_48S],
    }
    assert site.get("/collections/roads").json()["crs"] == [*WORLD, UTM_48S]


# coordinates


def test_a_road_in_utm_matches_pyproj_to_the_millimetre(
    site: TestClient, road: dict[str, Any]
) -> None:
    feature_id = road_id(site, road["properties"]["osm_id"])
    response = site.get(f"/collections/roads/items/{feature_id}", params={"crs": UTM_48S})
    assert response.status_code == 200
    assert response.headers["content-crs"] == f"<{UTM_48S}>"
    feature = response.json()
    assert feature["properties"]["name"] == "Jalan Dokter Sitanala"
    got = np.array(feature["geometry"]["coordinates"])
    expected = projected(road["geometry"]["coordinates"], 32748)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() < MILLIMETRE
    assert 600_000 < got[0][0] < 700_000 and 9_300_000 < got[0][1] < 9_400_000  # easting, northing


def test_a_page_in_utm_keeps_ids_counts_and_crs_in_its_links(
    site: TestClient, road: dict[str, Any]
) -> None:
    response = site.get("/collections/roads/items", params={"crs": UTM_48S, "limit": 100})
    assert response.headers["content-crs"] == f"<{UTM_48S}>"
    page = response.json()
    plain = site.get("/collections/roads/items", params={"limit": 100}).json()
    assert page["numberMatched"] == 142
    assert [f["id"] for f in page["features"]] == [f["id"] for f in plain["features"]]
    assert query(href(page, "next")) == {"crs": [UTM_48S], "limit": ["100"], "offset": ["100"]}
    first = next(f for f in page["features"] if f["properties"]["osm_id"] == 27946607)
    expected = projected(road["geometry"]["coordinates"], 32748)
    assert np.abs(np.array(first["geometry"]["coordinates"]) - expected).max() < MILLIMETRE


def test_epsg_4326_comes_latitude_first(site: TestClient, road: dict[str, Any]) -> None:
    feature_id = road_id(site, road["properties"]["osm_id"])
    response = site.get(f"/collections/roads/items/{feature_id}", params={"crs": LAT_LON})
    assert response.headers["content-crs"] == f"<{LAT_LON}>"
    got = response.json()["geometry"]["coordinates"]
    assert got[0] == pytest.approx([-6.1642596, 106.6344152], abs=1e-9)
    swapped = [[lat, lon] for lon, lat in road["geometry"]["coordinates"]]
    assert np.abs(np.array(got) - np.array(swapped)).max() < 1e-9


def test_web_mercator_matches_pyproj_to_the_millimetre(
    site: TestClient, road: dict[str, Any]
) -> None:
    feature_id = road_id(site, road["properties"]["osm_id"])
    response = site.get(f"/collections/roads/items/{feature_id}", params={"crs": WEB_MERCATOR})
    assert response.headers["content-crs"] == f"<{WEB_MERCATOR}>"
    got = np.array(response.json()["geometry"]["coordinates"])
    expected = projected(road["geometry"]["coordinates"], 3857)
    assert np.abs(got - expected).max() < MILLIMETRE


def test_a_grid_cell_in_its_own_utm_zone(site: TestClient) -> None:
    """A polygon south of the equator in zone 47: rings stay closed and counter-clockwise."""
    page = site.get("/collections/grid/items", params={"crs": UTM_47S, "limit": 1}).json()
    [cell] = page["features"]
    assert cell["properties"]["n"] == 0
    x0, y0, step = 100.123456789, -10.987654321, 0.009
    # the stored ring is clockwise; served counter-clockwise from the same first corner
    ring = [[x0, y0], [x0 + step, y0], [x0 + step, y0 + step], [x0, y0 + step], [x0, y0]]
    got = np.array(cell["geometry"]["coordinates"][0])
    assert np.abs(got - projected(ring, 32747)).max() < MILLIMETRE
    assert shapely.Polygon(got).exterior.is_ccw


def test_content_crs_is_crs84_by_default(site: TestClient) -> None:
    items = site.get("/collections/roads/items", params={"limit": 1})
    assert items.headers["content-crs"] == f"<{CRS84}>"
    feature_id = items.json()["features"][0]["id"]
    one = site.get(f"/collections/roads/items/{feature_id}")
    assert one.headers["content-crs"] == f"<{CRS84}>"
    explicit = site.get("/collections/roads/items", params={"limit": 1, "crs": CRS84})
    assert explicit.json()["features"] == items.json()["features"]


def test_a_web_page_of_another_origin_can_read_content_crs(site: TestClient) -> None:
    store = site.app.state.settings.store  # type: ignore[attr-defined]
    settings = app_settings(store, cors_origins=["https://maps.example"])
    with TestClient(create_app(settings)) as other:
        response = other.get(
            "/collections/roads/items",
            params={"crs": UTM_48S, "limit": 1},
            headers={"Origin": "https://maps.example"},
        )
    assert response.headers["access-control-allow-origin"] == "https://maps.example"
    assert response.headers["access-control-expose-headers"] == "Content-Crs"
    assert response.headers["content-crs"] == f"<{UTM_48S}>"


# bbox-crs


def ids(site: TestClient, **params: str) -> list[int]:
    page = site.get("/collections/roads/items", params={"limit": 1000, **params})
    assert page.status_code == 200, page.text
    return [feature["id"] for feature in page.json()["features"]]


def test_bbox_in_utm_returns_the_features_of_its_lon_lat_box(site: TestClient) -> None:
    """A 4 km UTM square selects what the lon/lat box around it selects: its edges, drawn
    every metre and brought to lon/lat here, not just its corners."""
    utm_box = (672_000.0, 9_314_000.0, 676_000.0, 9_318_000.0)
    edges = shapely.segmentize(shapely.box(*utm_box).exterior, 1.0)
    to_lon_lat = Transformer.from_crs("EPSG:32748", "EPSG:4326", always_xy=True)
    x, y = shapely.get_coordinates(edges).T
    lon, lat = to_lon_lat.transform(x, y)
    lon_lat_box = ",".join(repr(float(v)) for v in (lon.min(), lat.min(), lon.max(), lat.max()))

    in_utm = ids(site, bbox=",".join(str(v) for v in utm_box), **{"bbox-crs": UTM_48S})
    assert in_utm == ids(site, bbox=lon_lat_box)
    assert 0 < len(in_utm) < 142


def test_bbox_in_epsg_4326_is_latitude_first(site: TestClient) -> None:
    lat_first = ids(site, bbox="-6.2,106.6,-6.15,106.65", **{"bbox-crs": LAT_LON})
    assert lat_first == ids(site, bbox="106.6,-6.2,106.65,-6.15")
    assert 0 < len(lat_first) < 142


@pytest.mark.parametrize(
    ("bbox", "problem"),
    [
        ("676000,9314000,672000,9318000", "lower corner must come first"),
        ("1e12,1e12,2e12,2e12", "outside the area of"),
    ],
)
def test_bad_utm_bbox_is_a_problem_naming_bbox(site: TestClient, bbox: str, problem: str) -> None:
    response = site.get("/collections/roads/items", params={"bbox": bbox, "bbox-crs": UTM_48S})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["field"] == "bbox"
    assert problem in response.json()["detail"]


# refusals


@pytest.mark.parametrize(
    ("path", "params", "field", "problem"),
    [
        ("/collections/roads/items", {"crs": "EPSG:32748"}, "crs", "'EPSG:32748' is not"),
        ("/collections/roads/items/1", {"crs": EPSG + "2000"}, "crs", "is not a coordinate"),
        ("/collections/roads/items", {"crs": EPSG + "32749"}, "crs", "does not offer crs"),
        ("/collections/roads/items/1", {"crs": UTM_47S}, "crs", "does not offer crs"),
        (
            "/collections/roads/items",
            {"bbox": "0,0,1,1", "bbox-crs": EPSG + "27700"},
            "bbox-crs",
            "is not a coordinate",
        ),
        (
            "/collections/roads/items",
            {"bbox": "672000,9314000,676000,9318000", "bbox-crs": UTM_47S},
            "bbox-crs",
            "does not offer bbox-crs",
        ),
    ],
)
def test_unsupported_crs_is_a_400_naming_parameter_and_value(
    site: TestClient, path: str, params: dict[str, str], field: str, problem: str
) -> None:
    response = site.get(path, params=params)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["field"] == field
    assert problem in body["detail"]
    assert params[field] in body["detail"]


def test_unknown_collection_stays_a_404_whatever_the_crs(site: TestClient) -> None:
    response = site.get("/collections/nowhere/items", params={"crs": UTM_48S})
    assert response.status_code == 404
