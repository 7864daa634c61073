"""OGC API Features on both backends, in this process: what QGIS and GDAL read."""

from __future__ import annotations

import pytest
import shapely
from fastapi.testclient import TestClient

from tests.conftest import BASE
from tests.routes.conftest import ESTIMATE_NAMES, GRID_COUNT, href, query, rels

GEOJSON = "application/geo+json"
JSON = "application/json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.1"
PROBLEM = "application/problem+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
TILESETS = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
ROADS_EXTENT = (106.5623898, -6.2597294, 106.717699, -6.0907624)


# landing page, definition, conformance


def test_landing_page_has_what_qgis_needs(site: TestClient) -> None:
    response = site.get("/", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    body = response.json()
    assert body["title"] == "Takeoff"
    assert rels(body) == [
        "self",
        "service-desc",
        "service-doc",
        "conformance",
        "data",
        "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
    ]
    types = {link["rel"]: link["type"] for link in body["links"]}
    assert types == {
        "self": JSON,
        "service-desc": OPENAPI,
        "service-doc": "text/html",
        "conformance": JSON,
        "data": JSON,
        "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes": JSON,
    }
    assert all(link["href"].startswith(BASE + "/") for link in body["links"])
    assert href(body, "data") == BASE + "/collections"
    assert href(body, "conformance") == BASE + "/conformance"
    assert site.get("/docs").headers["content-type"].startswith("text/html")


def test_service_desc_is_the_openapi_document(site: TestClient) -> None:
    landing = site.get("/").json()
    response = site.get(href(landing, "service-desc"))
    assert response.status_code == 200
    assert response.headers["content-type"] == OPENAPI
    document = response.json()
    assert document["openapi"].startswith("3.1.")
    assert document["servers"] == [{"url": BASE}]
    items = document["paths"]["/collections/{collectionId}/items"]["get"]
    parameters = {parameter["name"] for parameter in items["parameters"]}
    assert {"collectionId", "limit", "offset", "bbox", "f"} <= parameters
    assert GEOJSON in items["responses"]["200"]["content"]
    limit = document["components"]["parameters"]["limit"]["schema"]
    assert (limit["default"], limit["maximum"]) == (100, 1000)


def test_conformance_claims_parts_1_2_3_cql2_sorting_and_tiles(site: TestClient) -> None:
    response = site.get("/conformance")
    assert response.headers["content-type"] == JSON
    classes = set(response.json()["conformsTo"])
    features = "http://www.opengis.net/spec/ogcapi-features-"
    cql2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
    tiles = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"
    tms = "http://www.opengis.net/spec/tms/2.0/conf/"
    assert classes == {
        features + "1/1.0/conf/core",
        features + "1/1.0/conf/geojson",
        features + "2/1.0/conf/crs",
        features + "3/1.0/conf/queryables",
        features + "3/1.0/conf/queryables-query-parameters",
        features + "3/1.0/conf/filter",
        features + "3/1.0/conf/features-filter",
        cql2 + "cql2-text",
        cql2 + "cql2-json",
        cql2 + "basic-cql2",
        cql2 + "advanced-comparison-operators",
        cql2 + "case-insensitive-comparison",
        cql2 + "basic-spatial-functions",
        cql2 + "basic-spatial-functions-plus",
        cql2 + "spatial-functions",
        "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
        *(tiles + name for name in ("core", "tileset", "tilesets-list", "geodata-tilesets")),
        tiles + "mvt",
        tms + "tilematrixset",
        tms + "json-tilematrixset",
    }


# collections


def test_collections_lists_estimates_and_layers(site: TestClient) -> None:
    response = site.get("/collections")
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    body = response.json()
    assert rels(body) == ["self"]
    assert href(body, "self") == BASE + "/collections"
    assert [collection["id"] for collection in body["collections"]] == [
        "estimates",
        "sources",
        "field-tests",
        "grid",
        "roads",
    ]
    for collection in body["collections"]:
        assert collection["itemType"] == "feature"
        assert collection["crs"][0] == CRS84
        assert rels(collection)[:4] == ["self", "items", TILESETS, QUERYABLES]


def test_roads_collection_metadata_and_extent(site: TestClient) -> None:
    response = site.get("/collections/roads")
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    roads = response.json()
    assert roads["id"] == "roads"
    assert roads["title"] == "Roads of Kota Tangerang"
    assert roads["itemType"] == "feature"
    assert roads["storageCrs"] == CRS84
    assert roads["crs"][0] == CRS84
    assert roads["itemCount"] == 142
    assert roads["extent"]["spatial"]["crs"] == CRS84
    [bbox] = roads["extent"]["spatial"]["bbox"]
    assert bbox == pytest.approx(ROADS_EXTENT, abs=1e-7)
    assert roads["attribution"] == "© OpenStreetMap contributors"
    assert roads["license"].startswith("ODbL-1.0")
    assert rels(roads) == [
        "self",
        "items",
        TILESETS,
        QUERYABLES,
        "license",
    ]
    links = {link["rel"]: link for link in roads["links"]}
    assert links["self"] == {"href": BASE + "/collections/roads", "rel": "self", "type": JSON}
    assert links["items"]["href"] == BASE + "/collections/roads/items"
    assert links["items"]["type"] == GEOJSON
    assert links["license"]["href"] == "https://opendatacommons.org/licenses/odbl/1-0/"
    assert links["license"]["title"] == "ODbL-1.0"


def test_estimates_collection_counts_saved_estimates(site: TestClient) -> None:
    estimates = site.get("/collections/estimates").json()
    assert estimates["title"] == "Saved estimates"
    assert estimates["itemCount"] == 3
    [bbox] = estimates["extent"]["spatial"]["bbox"]
    assert bbox == pytest.approx([106.63, -6.1701, 106.651, -6.17])
    assert "attribution" not in estimates


@pytest.mark.parametrize("path", ["/collections/nowhere", "/collections/nowhere/items"])
def test_unknown_collection_is_a_named_404(site: TestClient, path: str) -> None:
    response = site.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert "'nowhere'" in response.json()["detail"]


# items


def test_first_page_of_items(site: TestClient) -> None:
    response = site.get("/collections/roads/items")
    assert response.status_code == 200
    assert response.headers["content-type"] == GEOJSON
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == 142
    assert body["numberReturned"] == len(body["features"]) == 100
    assert body["timeStamp"].endswith("Z")
    assert rels(body) == ["self", "collection", "next"]
    assert all(link["href"].startswith(BASE + "/") for link in body["links"])
    assert href(body, "self") == BASE + "/collections/roads/items"
    assert href(body, "collection") == BASE + "/collections/roads"
    assert query(href(body, "next")) == {"offset": ["100"]}
    assert [link["type"] for link in body["links"]] == [GEOJSON, JSON, GEOJSON]
    ids = [feature["id"] for feature in body["features"]]
    assert ids == sorted(ids)
    first = body["features"][0]
    assert first["properties"] == {
        "osm_id": 27946607,
        "name": "Jalan Dokter Sitanala",
        "highway": "primary",
        "oneway": None,
        "lanes": 2,
    }


def test_last_page_has_prev_and_no_next(site: TestClient) -> None:
    body = site.get("/collections/roads/items", params={"offset": 100}).json()
    assert body["numberReturned"] == 42
    assert rels(body) == ["self", "collection", "prev"]
    assert query(href(body, "prev")) == {"offset": ["0"]}
    beyond = site.get("/collections/roads/items", params={"offset": 500}).json()
    assert (beyond["numberReturned"], beyond["features"]) == (0, [])
    assert rels(beyond) == ["self", "collection", "prev"]
    assert query(href(beyond, "prev")) == {"offset": ["42"]}


def test_paging_links_keep_bbox_and_other_parameters(site: TestClient) -> None:
    bbox = "106.6,-6.2,106.7,-6.1"
    params = {"bbox": bbox, "limit": "5", "f": "geojson"}
    first = site.get("/collections/roads/items", params=params).json()
    assert first["numberReturned"] == 5
    assert first["numberMatched"] < 142
    assert rels(first) == ["self", "collection", "next"]
    assert query(href(first, "self")) == {key: [value] for key, value in params.items()}
    following = href(first, "next")
    assert following.startswith(BASE + "/collections/roads/items?")
    assert query(following) == {"bbox": [bbox], "limit": ["5"], "f": ["geojson"], "offset": ["5"]}

    second = site.get(following).json()
    assert rels(second) == ["self", "collection", "next", "prev"]
    assert query(href(second, "prev")) == {**query(following), "offset": ["0"]}
    box = shapely.box(106.6, -6.2, 106.7, -6.1)
    for feature in first["features"] + second["features"]:
        assert shapely.geometry.shape(feature["geometry"]).intersects(box.buffer(1e-9).envelope)
    assert not {f["id"] for f in first["features"]} & {f["id"] for f in second["features"]}


def test_limit_is_clamped_not_rejected(site: TestClient) -> None:
    response = site.get("/collections/grid/items", params={"limit": 100000})
    assert response.status_code == 200
    body = response.json()
    assert body["numberMatched"] == GRID_COUNT
    assert body["numberReturned"] == len(body["features"]) == 1000
    assert query(href(body, "next")) == {"limit": ["100000"], "offset": ["1000"]}


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": -3}, {"offset": -1}, {"limit": "x"}])
def test_limit_below_one_and_negative_offset_are_422(site: TestClient, params: dict) -> None:
    response = site.get("/collections/roads/items", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert next(iter(params)) in response.json()["detail"]


@pytest.mark.parametrize(
    ("bbox", "problem"),
    [
        ("1,2,3", "expected 4"),
        ("a,b,c,d", "not a list of numbers"),
        ("", "expected 4"),
        ("0,0,nan,1", "finite"),
        ("-6.2,106.6,-6.1,106.7", "latitudes"),
        ("181,0,182,1", "longitudes"),
        ("106.6,-6.1,106.7,-6.2", "north of"),
    ],
)
def test_bad_bbox_is_a_problem_naming_bbox(site: TestClient, bbox: str, problem: str) -> None:
    response = site.get("/collections/roads/items", params={"bbox": bbox})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["field"] == "bbox"
    assert "bbox" in body["detail"]
    assert problem in body["detail"]


def test_bbox_crossing_the_antimeridian_and_with_heights(site: TestClient) -> None:
    across = site.get("/collections/roads/items", params={"bbox": "170,-90,-170,90"}).json()
    assert across["numberMatched"] == 0
    with_heights = "106.6,-6.2,0,106.7,-6.1,100"
    body = site.get("/collections/roads/items", params={"bbox": with_heights}).json()
    plain = site.get("/collections/roads/items", params={"bbox": "106.6,-6.2,106.7,-6.1"}).json()
    assert body["numberMatched"] == plain["numberMatched"] > 0


def test_geojson_follows_rfc_7946(site: TestClient) -> None:
    body = site.get("/collections/grid/items", params={"limit": 3}).json()
    for feature in body["features"]:
        ring = feature["geometry"]["coordinates"][0]
        assert shapely.LinearRing(ring).is_ccw
        assert all(round(value, 7) == value for point in ring for value in point)
        assert isinstance(feature["id"], int)


# one feature


def test_one_feature(site: TestClient) -> None:
    first = site.get("/collections/roads/items", params={"limit": 1}).json()["features"][0]
    response = site.get(f"/collections/roads/items/{first['id']}")
    assert response.status_code == 200
    assert response.headers["content-type"] == GEOJSON
    feature = response.json()
    assert feature["type"] == "Feature"
    assert feature["id"] == first["id"]
    assert feature["geometry"] == first["geometry"]
    assert rels(feature) == ["self", "collection"]
    assert href(feature, "self") == f"{BASE}/collections/roads/items/{first['id']}"
    assert href(feature, "collection") == BASE + "/collections/roads"


def test_one_saved_estimate(site: TestClient) -> None:
    page = site.get("/collections/estimates/items").json()
    assert page["numberMatched"] == page["numberReturned"] == 3
    assert [f["properties"]["name"] for f in page["features"]] == list(ESTIMATE_NAMES)
    last = page["features"][-1]
    feature = site.get(f"/collections/estimates/items/{last['id']}").json()
    assert feature["properties"] == last["properties"]
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert shapely.LinearRing(feature["geometry"]["coordinates"][0][0]).is_ccw


@pytest.mark.parametrize("collection", ["roads", "estimates"])
@pytest.mark.parametrize("feature_id", ["999999", "abc", "1.5", "-1", "99999999999999999999999"])
def test_unknown_feature_is_404(site: TestClient, collection: str, feature_id: str) -> None:
    response = site.get(f"/collections/{collection}/items/{feature_id}")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


# content negotiation


@pytest.mark.parametrize(
    ("params", "accept", "expected"),
    [
        ({}, None, GEOJSON),
        ({}, "application/geo+json, application/json", GEOJSON),
        ({}, "application/json", JSON),
        ({}, "*/*", GEOJSON),
        ({}, "text/html,application/xhtml+xml,*/*;q=0.8", GEOJSON),
        ({}, "application/geo+json;q=0.5, application/json", JSON),
        ({"f": "json"}, "application/geo+json", JSON),
        ({"f": "geojson"}, "application/json", GEOJSON),
    ],
)
def test_items_negotiate_f_then_accept(
    site: TestClient, params: dict, accept: str | None, expected: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = site.get("/collections/roads/items", params={"limit": 1, **params}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == expected
    assert response.json()["type"] == "FeatureCollection"


def test_unknown_format_is_a_problem_naming_f(site: TestClient) -> None:
    for path in ["/collections/roads/items", "/collections", "/"]:
        response = site.get(path, params={"f": "xml"})
        assert response.status_code == 422
        assert response.json()["field"] == "f"
    assert site.get("/collections", params={"f": "json"}).headers["content-type"] == JSON
    assert site.get("/", params={"f": "geojson"}).status_code == 422
