"""OGC API Features against a running server on both backends, as QGIS and GDAL use it."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import shapely

from tests.live import LiveServer
from tests.routes.conftest import ESTIMATE_NAMES, GRID_SIDE, Site

GEOJSON = "application/geo+json"
JSON = "application/json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.1"
PROBLEM = "application/problem+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
ROADS_EXTENT = (106.5623898, -6.2597294, 106.717699, -6.0907624)
ROAD_FIELDS = {"osm_id", "name", "highway", "oneway", "lanes"}
GRID_COUNT = GRID_SIDE * GRID_SIDE


def get(site: Site, path: str, **kwargs) -> httpx.Response:
    return httpx.get(site.url + path, timeout=30, **kwargs)


def rels(body: dict) -> list[str]:
    return [link["rel"] for link in body["links"]]


def href(body: dict, rel: str) -> str:
    return next(link["href"] for link in body["links"] if link["rel"] == rel)


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def ogrinfo(*args: str) -> str:
    result = subprocess.run(
        ["ogrinfo", *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def field_names(summary: str) -> set[str]:
    """Field names of an `ogrinfo -so` layer summary (the lines after the SRS).

    A set: PostGIS keeps properties as JSONB, which does not keep the order of keys.
    """
    lines = summary.split("Data axis to CRS axis mapping")[1].splitlines()[1:]
    return {line.split(":")[0] for line in lines if ": " in line}


# landing page, definition, conformance


def test_landing_page_has_what_qgis_needs(site: Site) -> None:
    response = get(site, "/", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    body = response.json()
    assert body["title"] == "Takeoff"
    assert rels(body) == ["self", "service-desc", "service-doc", "conformance", "data"]
    types = {link["rel"]: link["type"] for link in body["links"]}
    assert types == {
        "self": JSON,
        "service-desc": OPENAPI,
        "service-doc": "text/html",
        "conformance": JSON,
        "data": JSON,
    }
    assert all(link["href"].startswith(site.url + "/") for link in body["links"])
    assert href(body, "data") == site.url + "/collections"
    assert href(body, "conformance") == site.url + "/conformance"
    assert get(site, "/docs").headers["content-type"].startswith("text/html")


def test_service_desc_is_the_openapi_document(site: Site) -> None:
    landing = get(site, "/").json()
    response = httpx.get(href(landing, "service-desc"))
    assert response.status_code == 200
    assert response.headers["content-type"] == OPENAPI
    document = response.json()
    assert document["openapi"].startswith("3.1.")
    assert document["servers"] == [{"url": site.url}]
    items = document["paths"]["/collections/{collectionId}/items"]["get"]
    parameters = {parameter["name"] for parameter in items["parameters"]}
    assert {"collectionId", "limit", "offset", "bbox", "f"} <= parameters
    assert GEOJSON in items["responses"]["200"]["content"]
    limit = document["components"]["parameters"]["limit"]["schema"]
    assert (limit["default"], limit["maximum"]) == (100, 1000)


def test_conformance_claims_core_and_geojson_only(site: Site) -> None:
    response = get(site, "/conformance")
    assert response.headers["content-type"] == JSON
    classes = response.json()["conformsTo"]
    assert {cls.rsplit("/", 1)[1] for cls in classes} == {"core", "geojson"}
    assert all(
        cls.startswith("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/") for cls in classes
    )


# collections


def test_collections_lists_estimates_and_layers(site: Site) -> None:
    response = get(site, "/collections")
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    body = response.json()
    assert rels(body) == ["self"]
    assert href(body, "self") == site.url + "/collections"
    assert [collection["id"] for collection in body["collections"]] == [
        "estimates",
        "grid",
        "roads",
    ]
    for collection in body["collections"]:
        assert collection["itemType"] == "feature"
        assert collection["crs"][0] == CRS84
        assert rels(collection)[:2] == ["self", "items"]


def test_roads_collection_metadata_and_extent(site: Site) -> None:
    response = get(site, "/collections/roads")
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    roads = response.json()
    assert roads["id"] == "roads"
    assert roads["title"] == "Roads of Kota Tangerang"
    assert roads["itemType"] == "feature"
    assert roads["crs"] == [CRS84]
    assert roads["itemCount"] == 142
    assert roads["extent"]["spatial"]["crs"] == CRS84
    [bbox] = roads["extent"]["spatial"]["bbox"]
    assert bbox == pytest.approx(ROADS_EXTENT, abs=1e-7)
    assert roads["attribution"] == "© OpenStreetMap contributors"
    assert roads["license"].startswith("ODbL-1.0")
    assert rels(roads) == ["self", "items", "license"]
    links = {link["rel"]: link for link in roads["links"]}
    assert links["self"] == {"href": site.url + "/collections/roads", "rel": "self", "type": JSON}
    assert links["items"]["href"] == site.url + "/collections/roads/items"
    assert links["items"]["type"] == GEOJSON
    assert links["license"]["href"] == "https://opendatacommons.org/licenses/odbl/1-0/"
    assert links["license"]["title"] == "ODbL-1.0"


def test_estimates_collection_counts_saved_estimates(site: Site) -> None:
    estimates = get(site, "/collections/estimates").json()
    assert estimates["title"] == "Saved estimates"
    assert estimates["itemCount"] == 3
    [bbox] = estimates["extent"]["spatial"]["bbox"]
    assert bbox == pytest.approx([106.63, -6.1701, 106.651, -6.17])
    assert "attribution" not in estimates


@pytest.mark.parametrize("path", ["/collections/nowhere", "/collections/nowhere/items"])
def test_unknown_collection_is_a_named_404(site: Site, path: str) -> None:
    response = get(site, path)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert "'nowhere'" in response.json()["detail"]


# items


def test_first_page_of_items(site: Site) -> None:
    response = get(site, "/collections/roads/items")
    assert response.status_code == 200
    assert response.headers["content-type"] == GEOJSON
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == 142
    assert body["numberReturned"] == len(body["features"]) == 100
    assert body["timeStamp"].endswith("Z")
    assert rels(body) == ["self", "collection", "next"]
    assert all(link["href"].startswith(site.url + "/") for link in body["links"])
    assert href(body, "self") == site.url + "/collections/roads/items"
    assert href(body, "collection") == site.url + "/collections/roads"
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


def test_last_page_has_prev_and_no_next(site: Site) -> None:
    body = get(site, "/collections/roads/items", params={"offset": 100}).json()
    assert body["numberReturned"] == 42
    assert rels(body) == ["self", "collection", "prev"]
    assert query(href(body, "prev")) == {"offset": ["0"]}
    beyond = get(site, "/collections/roads/items", params={"offset": 500}).json()
    assert (beyond["numberReturned"], beyond["features"]) == (0, [])
    assert rels(beyond) == ["self", "collection", "prev"]
    assert query(href(beyond, "prev")) == {"offset": ["42"]}


def test_paging_links_keep_bbox_and_other_parameters(site: Site) -> None:
    bbox = "106.6,-6.2,106.7,-6.1"
    params = {"bbox": bbox, "limit": "5", "f": "geojson"}
    first = get(site, "/collections/roads/items", params=params).json()
    assert first["numberReturned"] == 5
    assert first["numberMatched"] < 142
    assert rels(first) == ["self", "collection", "next"]
    assert query(href(first, "self")) == {key: [value] for key, value in params.items()}
    following = href(first, "next")
    assert following.startswith(site.url + "/collections/roads/items?")
    assert query(following) == {"bbox": [bbox], "limit": ["5"], "f": ["geojson"], "offset": ["5"]}

    second = httpx.get(following).json()
    assert rels(second) == ["self", "collection", "next", "prev"]
    assert query(href(second, "prev")) == {**query(following), "offset": ["0"]}
    box = shapely.box(106.6, -6.2, 106.7, -6.1)
    for feature in first["features"] + second["features"]:
        assert shapely.geometry.shape(feature["geometry"]).intersects(box.buffer(1e-9).envelope)
    assert not {f["id"] for f in first["features"]} & {f["id"] for f in second["features"]}


def test_limit_is_clamped_not_rejected(site: Site) -> None:
    response = get(site, "/collections/grid/items", params={"limit": 100000})
    assert response.status_code == 200
    body = response.json()
    assert body["numberMatched"] == GRID_COUNT
    assert body["numberReturned"] == len(body["features"]) == 1000
    assert query(href(body, "next")) == {"limit": ["100000"], "offset": ["1000"]}


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": -3}, {"offset": -1}, {"limit": "x"}])
def test_limit_below_one_and_negative_offset_are_422(site: Site, params: dict) -> None:
    response = get(site, "/collections/roads/items", params=params)
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
def test_bad_bbox_is_a_problem_naming_bbox(site: Site, bbox: str, problem: str) -> None:
    response = get(site, "/collections/roads/items", params={"bbox": bbox})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["field"] == "bbox"
    assert "bbox" in body["detail"]
    assert problem in body["detail"]


def test_bbox_crossing_the_antimeridian_and_with_heights(site: Site) -> None:
    across = get(site, "/collections/roads/items", params={"bbox": "170,-90,-170,90"}).json()
    assert across["numberMatched"] == 0
    with_heights = "106.6,-6.2,0,106.7,-6.1,100"
    body = get(site, "/collections/roads/items", params={"bbox": with_heights}).json()
    plain = get(site, "/collections/roads/items", params={"bbox": "106.6,-6.2,106.7,-6.1"}).json()
    assert body["numberMatched"] == plain["numberMatched"] > 0


def test_paging_2500_features_sees_each_once(site: Site) -> None:
    url: str | None = site.url + "/collections/grid/items"
    seen: list[int] = []
    pages = 0
    with httpx.Client(timeout=30) as client:
        while url is not None:
            body = client.get(url).json()
            assert body["numberMatched"] == GRID_COUNT
            seen += [feature["properties"]["n"] for feature in body["features"]]
            url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
            pages += 1
    assert pages == 25
    assert seen == list(range(GRID_COUNT))


def test_geojson_follows_rfc_7946(site: Site) -> None:
    body = get(site, "/collections/grid/items", params={"limit": 3}).json()
    for feature in body["features"]:
        ring = feature["geometry"]["coordinates"][0]
        assert shapely.LinearRing(ring).is_ccw
        assert all(round(value, 7) == value for point in ring for value in point)
        assert isinstance(feature["id"], int)


# one feature


def test_one_feature(site: Site) -> None:
    first = get(site, "/collections/roads/items", params={"limit": 1}).json()["features"][0]
    response = get(site, f"/collections/roads/items/{first['id']}")
    assert response.status_code == 200
    assert response.headers["content-type"] == GEOJSON
    feature = response.json()
    assert feature["type"] == "Feature"
    assert feature["id"] == first["id"]
    assert feature["geometry"] == first["geometry"]
    assert rels(feature) == ["self", "collection"]
    assert href(feature, "self") == f"{site.url}/collections/roads/items/{first['id']}"
    assert href(feature, "collection") == site.url + "/collections/roads"


def test_one_saved_estimate(site: Site) -> None:
    page = get(site, "/collections/estimates/items").json()
    assert page["numberMatched"] == page["numberReturned"] == 3
    assert [f["properties"]["name"] for f in page["features"]] == list(ESTIMATE_NAMES)
    last = page["features"][-1]
    feature = get(site, f"/collections/estimates/items/{last['id']}").json()
    assert feature["properties"] == last["properties"]
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert shapely.LinearRing(feature["geometry"]["coordinates"][0][0]).is_ccw


@pytest.mark.parametrize("collection", ["roads", "estimates"])
@pytest.mark.parametrize("feature_id", ["999999", "abc", "1.5", "-1", "99999999999999999999999"])
def test_unknown_feature_is_404(site: Site, collection: str, feature_id: str) -> None:
    response = get(site, f"/collections/{collection}/items/{feature_id}")
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
    site: Site, params: dict, accept: str | None, expected: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = get(site, "/collections/roads/items", params={"limit": 1, **params}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == expected
    assert response.json()["type"] == "FeatureCollection"


def test_unknown_format_is_a_problem_naming_f(site: Site) -> None:
    for path in ["/collections/roads/items", "/collections", "/"]:
        response = get(site, path, params={"f": "xml"})
        assert response.status_code == 422
        assert response.json()["field"] == "f"
    assert get(site, "/collections", params={"f": "json"}).headers["content-type"] == JSON
    assert get(site, "/", params={"f": "geojson"}).status_code == 422


# GDAL


def test_ogrinfo_lists_every_collection(site: Site) -> None:
    listing = ogrinfo("-ro", f"OAPIF:{site.url}")
    assert "1: estimates (title: Saved estimates)" in listing
    assert "grid (title: Test grid) (Polygon)" in listing
    assert "roads (title: Roads of Kota Tangerang) (Line String)" in listing


def test_ogrinfo_reads_roads(site: Site) -> None:
    summary = ogrinfo("-ro", "-so", f"OAPIF:{site.url}", "roads")
    assert "Feature Count: 142" in summary
    assert "Geometry: Line String" in summary
    assert "Extent: (106.562390, -6.259729) - (106.717699, -6.090762)" in summary
    assert field_names(summary) == ROAD_FIELDS


def test_ogrinfo_reads_saved_estimates(site: Site) -> None:
    summary = ogrinfo("-ro", "-so", f"OAPIF:{site.url}", "estimates")
    assert "Feature Count: 3" in summary
    assert "Geometry: Multi Polygon" in summary
    properties = get(site, "/collections/estimates/items").json()["features"][0]["properties"]
    assert field_names(summary) == set(properties)
    assert {"name", "templates", "catalog", "currency", "length_m", "area_m2", "total"} <= set(
        properties
    )
    assert {"ac_wc_t", "prime_coat_l", "lpa_m3", "lpb_m3"} <= set(properties)


def test_ogrinfo_reads_every_feature_of_a_large_layer(site: Site) -> None:
    listing = ogrinfo("-ro", "-al", "-geom=NO", f"OAPIF:{site.url}", "grid")
    assert "Feature Count: 2500" in listing
    assert listing.count("OGRFeature(grid)") == GRID_COUNT
    assert f"label (String) = cell {GRID_COUNT - 1}" in listing


# behind a proxy


def test_links_carry_the_root_path(tmp_path: Path) -> None:
    with LiveServer(data_dir=str(tmp_path / "store"), root_path="/takeoff") as server:
        base = server.url + "/takeoff"
        landing = httpx.get(server.url + "/").json()
        assert all(link["href"].startswith(base + "/") for link in landing["links"])
        assert href(landing, "data") == base + "/collections"
        assert httpx.get(href(landing, "service-desc")).json()["servers"] == [{"url": base}]

        for path in ["/collections/roads/items", "/takeoff/collections/roads/items"]:
            page = httpx.get(server.url + path, params={"bbox": "106,-7,107,-6"}).json()
            assert href(page, "self").startswith(base + "/collections/roads/items?")
            assert query(href(page, "self")) == {"bbox": ["106,-7,107,-6"]}
            assert href(page, "next").startswith(base + "/collections/roads/items?")
            assert href(page, "collection") == base + "/collections/roads"
            assert httpx.get(href(page, "next")).status_code == 200

        roads = httpx.get(server.url + "/collections").json()["collections"][-1]
        assert href(roads, "items") == base + "/collections/roads/items"
        summary = ogrinfo("-ro", "-so", f"OAPIF:{base}", "roads")
        assert "Feature Count: 142" in summary
