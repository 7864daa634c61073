"""OGC API Features Part 3 on both backends, in this process: CQL2 filters in text and JSON,
property filters, sortby and queryables, checked against the sample layer read from its file
with plain JSON and Shapely."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pyproj import Transformer
from shapely.geometry import shape

from app.main import create_app
from tests.conftest import BACKENDS, BASE, app_settings, fresh_store
from tests.routes.conftest import GRID_COUNT, ROADS, Properties, expected, href, query, rels

PROBLEM = "application/problem+json"
SCHEMA_JSON = "application/schema+json"
EPSG_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
UTM_48S = "http://www.opengis.net/def/crs/EPSG/0/32748"


def meeting(relation: str, literal: shapely.Geometry) -> list[int]:
    """The osm_id of every road of the file in `relation` (a Shapely predicate) to `literal`."""
    test = getattr(shapely, relation)
    return sorted(
        road["properties"]["osm_id"] for road in ROADS if test(shape(road["geometry"]), literal)
    )


def road_ids(site: TestClient, **params: str) -> list[int]:
    response = site.get("/collections/roads/items", params={"limit": "1000", **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["numberMatched"] == body["numberReturned"]
    return sorted(feature["properties"]["osm_id"] for feature in body["features"])


def lanes_over(limit: int) -> Callable[[Properties], bool]:
    return lambda p: p["lanes"] is not None and p["lanes"] > limit


def prop(name: str) -> dict[str, str]:
    return {"property": name}


OPERATORS = [
    (
        "highway = 'residential'",
        {"op": "=", "args": [prop("highway"), "residential"]},
        lambda p: p["highway"] == "residential",
    ),
    (
        "highway <> 'residential'",
        {"op": "<>", "args": [prop("highway"), "residential"]},
        lambda p: p["highway"] != "residential",
    ),
    ("lanes > 1", {"op": ">", "args": [prop("lanes"), 1]}, lanes_over(1)),
    (
        "lanes >= 1",
        {"op": ">=", "args": [prop("lanes"), 1]},
        lambda p: p["lanes"] is not None and p["lanes"] >= 1,
    ),
    (
        "lanes < 2",
        {"op": "<", "args": [prop("lanes"), 2]},
        lambda p: p["lanes"] is not None and p["lanes"] < 2,
    ),
    (
        "lanes <= 1.5",
        {"op": "<=", "args": [prop("lanes"), 1.5]},
        lambda p: p["lanes"] is not None and p["lanes"] <= 1.5,
    ),
    (
        "osm_id = 27946607",
        {"op": "=", "args": [prop("osm_id"), 27946607]},
        lambda p: p["osm_id"] == 27946607,
    ),
    (
        "name LIKE 'Jalan Garuda%'",
        {"op": "like", "args": [prop("name"), "Jalan Garuda%"]},
        lambda p: p["name"].startswith("Jalan Garuda"),
    ),
    (
        "name LIKE 'Jalan Garuda _'",
        {"op": "like", "args": [prop("name"), "Jalan Garuda _"]},
        lambda p: p["name"].startswith("Jalan Garuda ") and len(p["name"]) == 14,
    ),
    (
        "name LIKE 'jalan%'",
        {"op": "like", "args": [prop("name"), "jalan%"]},
        lambda p: p["name"].startswith("jalan"),
    ),
    (
        "CASEI(name) LIKE CASEI('jalan garuda%')",
        {
            "op": "like",
            "args": [
                {"op": "casei", "args": [prop("name")]},
                {"op": "casei", "args": ["JALAN garuda%"]},
            ],
        },
        lambda p: p["name"].lower().startswith("jalan garuda"),
    ),
    (
        "CASEI(highway) = CASEI('PRIMARY')",
        {
            "op": "=",
            "args": [
                {"op": "casei", "args": [prop("highway")]},
                {"op": "casei", "args": ["PRIMARY"]},
            ],
        },
        lambda p: p["highway"] == "primary",
    ),
    (
        "highway NOT IN ('residential', 'tertiary')",
        {
            "op": "not",
            "args": [{"op": "in", "args": [prop("highway"), ["residential", "tertiary"]]}],
        },
        lambda p: p["highway"] not in ("residential", "tertiary"),
    ),
    (
        "highway IN ('primary', 'secondary')",
        {"op": "in", "args": [prop("highway"), ["primary", "secondary"]]},
        lambda p: p["highway"] in ("primary", "secondary"),
    ),
    (
        "lanes BETWEEN 1.5 AND 2",
        {"op": "between", "args": [prop("lanes"), 1.5, 2]},
        lambda p: p["lanes"] is not None and 1.5 <= p["lanes"] <= 2,
    ),
    (
        "oneway IS NULL",
        {"op": "isNull", "args": [prop("oneway")]},
        lambda p: p["oneway"] is None,
    ),
    (
        "NOT oneway IS NULL",
        {"op": "not", "args": [{"op": "isNull", "args": [prop("oneway")]}]},
        lambda p: p["oneway"] is not None,
    ),
    (
        "highway = 'tertiary' AND lanes > 1",
        {
            "op": "and",
            "args": [
                {"op": "=", "args": [prop("highway"), "tertiary"]},
                {"op": ">", "args": [prop("lanes"), 1]},
            ],
        },
        lambda p: p["highway"] == "tertiary" and lanes_over(1)(p),
    ),
    (
        "highway = 'primary' OR (lanes BETWEEN 1 AND 1 AND oneway = 'yes')",
        {
            "op": "or",
            "args": [
                {"op": "=", "args": [prop("highway"), "primary"]},
                {
                    "op": "and",
                    "args": [
                        {"op": "between", "args": [prop("lanes"), 1, 1]},
                        {"op": "=", "args": [prop("oneway"), "yes"]},
                    ],
                },
            ],
        },
        lambda p: p["highway"] == "primary" or (p["lanes"] == 1 and p["oneway"] == "yes"),
    ),
    (
        "highway = 'primary' OR oneway = 'no'",
        {
            "op": "or",
            "args": [
                {"op": "=", "args": [prop("highway"), "primary"]},
                {"op": "=", "args": [prop("oneway"), "no"]},
            ],
        },
        lambda p: p["highway"] == "primary" or p["oneway"] == "no",
    ),
    (
        # pygeofilter reads NOT before one predicate only: De Morgan's form of not(or(...))
        "NOT highway = 'residential' AND NOT lanes = 2",
        {
            "op": "not",
            "args": [
                {
                    "op": "or",
                    "args": [
                        {"op": "=", "args": [prop("highway"), "residential"]},
                        {"op": "=", "args": [prop("lanes"), 2]},
                    ],
                }
            ],
        },
        # SQL's three values: NOT (false OR null) is null, so a null `lanes` drops the road
        lambda p: p["highway"] != "residential" and p["lanes"] is not None and p["lanes"] != 2,
    ),
]


@pytest.mark.parametrize(("text", "cql2_json", "holds"), OPERATORS, ids=[o[0] for o in OPERATORS])
def test_each_operator_in_text_and_json_selects_what_the_file_says(
    site: TestClient, text: str, cql2_json: dict, holds: Callable[[Properties], bool]
) -> None:
    wanted = expected(holds)
    as_text = road_ids(site, filter=text)
    as_json = road_ids(site, filter=json.dumps(cql2_json), **{"filter-lang": "cql2-json"})
    assert as_text == as_json == wanted


def test_like_is_case_sensitive_on_both_stores(site: TestClient) -> None:
    assert road_ids(site, filter="name LIKE 'jalan%'") == []
    assert len(road_ids(site, filter="name LIKE 'Jalan%'")) == len(
        expected(lambda p: p["name"].startswith("Jalan"))
    )


def test_filter_keeps_paging_and_counts(site: TestClient) -> None:
    wanted = expected(lambda p: p["highway"] == "residential")
    params = {"filter": "highway = 'residential'", "limit": "30"}
    first = site.get("/collections/roads/items", params=params).json()
    assert first["numberMatched"] == len(wanted) == 70
    assert first["numberReturned"] == 30
    assert query(href(first, "next")) == {
        "filter": ["highway = 'residential'"],
        "limit": ["30"],
        "offset": ["30"],
    }
    seen = [feature["properties"]["osm_id"] for feature in first["features"]]
    page = first
    while "next" in rels(page):
        page = site.get(href(page, "next")).json()
        seen += [feature["properties"]["osm_id"] for feature in page["features"]]
    assert sorted(seen) == wanted


# spatial


def _corner_square_missing_the_road() -> tuple[int, shapely.Geometry]:
    """The road with the largest bounding box and a square in a corner of that box which
    the road itself does not touch."""
    road = max(ROADS, key=lambda r: shapely.area(shapely.envelope(shape(r["geometry"]))))
    line = shape(road["geometry"])
    minx, miny, maxx, maxy = line.bounds
    side = min(maxx - minx, maxy - miny) / 10
    for x, y in [
        (minx, miny),
        (minx, maxy - side),
        (maxx - side, miny),
        (maxx - side, maxy - side),
    ]:
        square = shapely.box(x, y, x + side, y + side)
        if not square.intersects(line):
            return road["properties"]["osm_id"], square
    raise AssertionError("every corner of the box meets the road")


def test_s_intersects_is_exact_not_by_bounding_box(site: TestClient) -> None:
    osm_id, square = _corner_square_missing_the_road()
    assert square.intersects(
        shapely.envelope(
            shape(next(r["geometry"] for r in ROADS if r["properties"]["osm_id"] == osm_id))
        )
    )
    wanted = meeting("intersects", square)
    assert osm_id not in wanted

    text = road_ids(site, filter=f"S_INTERSECTS(geometry, {square.wkt})")
    as_json = road_ids(
        site,
        filter=json.dumps(
            {"op": "s_intersects", "args": [prop("geometry"), shapely.geometry.mapping(square)]}
        ),
        **{"filter-lang": "cql2-json"},
    )
    assert text == as_json == wanted
    outside = road_ids(site, filter=f"NOT S_INTERSECTS(geometry, {square.wkt})")
    assert outside == sorted(set(expected(lambda p: True)) - set(wanted))
    either = road_ids(site, filter=f"S_INTERSECTS(geometry, {square.wkt}) OR lanes = 1")
    assert either == sorted(set(wanted) | set(expected(lambda p: p["lanes"] == 1)))


def test_s_within_a_bbox_literal(site: TestClient) -> None:
    box = (106.6, -6.2, 106.65, -6.15)
    wanted = meeting("within", shapely.box(*box))
    assert 0 < len(wanted) < len(ROADS)
    text = road_ids(site, filter=f"S_WITHIN(geometry, BBOX({', '.join(map(str, box))}))")
    as_json = road_ids(
        site,
        filter=json.dumps({"op": "s_within", "args": [prop("geometry"), {"bbox": list(box)}]}),
        **{"filter-lang": "cql2-json"},
    )
    assert text == as_json == wanted
    # the literal first: S_CONTAINS(literal, geometry) holds where S_WITHIN(geometry, literal)
    assert road_ids(site, filter=f"S_CONTAINS(BBOX({', '.join(map(str, box))}), geometry)") == (
        wanted
    )


WEST_TANGERANG = shapely.Polygon(
    [(106.6, -6.2), (106.65, -6.2), (106.66, -6.15), (106.6, -6.15), (106.6, -6.2)]
)


def test_filter_crs_epsg_4326_is_latitude_first(site: TestClient) -> None:
    wanted = meeting("intersects", WEST_TANGERANG)
    assert 0 < len(wanted) < len(ROADS)
    swapped = shapely.transform(WEST_TANGERANG, lambda xy: xy[:, ::-1])
    in_4326 = road_ids(
        site, filter=f"S_INTERSECTS(geometry, {swapped.wkt})", **{"filter-crs": EPSG_4326}
    )
    assert in_4326 == wanted
    crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    assert (
        road_ids(
            site, filter=f"S_INTERSECTS(geometry, {WEST_TANGERANG.wkt})", **{"filter-crs": crs84}
        )
        == wanted
    )
    # the same numbers read as longitude, latitude: latitudes past 100 degrees, no road
    assert road_ids(site, filter=f"S_INTERSECTS(geometry, {swapped.wkt})") == []


def _literals() -> dict[str, shapely.Geometry]:
    """A literal for each spatial function that some roads satisfy: the west of the city,
    and points and lines of the first road with three or more vertices."""
    road = next(shape(r["geometry"]) for r in ROADS if len(r["geometry"]["coordinates"]) >= 3)
    (x0, y0), (x1, y1) = road.coords[0], road.coords[1]
    return {
        "intersects": WEST_TANGERANG,
        "disjoint": WEST_TANGERANG,
        "within": WEST_TANGERANG,
        "crosses": WEST_TANGERANG,
        "touches": shapely.Point(x0, y0),  # an end of the road
        "contains": shapely.Point(x1, y1),  # a vertex inside it
        "equals": road,
        # along its first segment, then on past its start
        "overlaps": shapely.LineString([(x1, y1), (x0, y0), (2 * x0 - x1, 2 * y0 - y1)]),
    }


@pytest.mark.parametrize("relation", list(_literals()))
def test_every_spatial_function_agrees_with_shapely(site: TestClient, relation: str) -> None:
    literal = _literals()[relation]
    wanted = meeting(relation, literal)
    assert 0 < len(wanted) < len(ROADS)
    assert road_ids(site, filter=f"S_{relation.upper()}(geometry, {literal.wkt})") == wanted


def test_filter_crs_utm_zone_48s(site: TestClient) -> None:
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32748", always_xy=True)
    in_utm = shapely.transform(
        WEST_TANGERANG, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1]))
    )
    assert in_utm.bounds[0] > 600_000  # eastings and northings, not degrees
    filtered = road_ids(
        site, filter=f"S_INTERSECTS(geometry, {in_utm.wkt})", **{"filter-crs": UTM_48S}
    )
    assert filtered == meeting("intersects", WEST_TANGERANG)


# property filters and sortby


def test_property_filters_are_equalities(site: TestClient) -> None:
    assert road_ids(site, highway="residential") == expected(
        lambda p: p["highway"] == "residential"
    )
    assert road_ids(site, lanes="1", highway="tertiary") == expected(
        lambda p: p["lanes"] == 1 and p["highway"] == "tertiary"
    )
    both = site.get(
        "/collections/roads/items", params=[("highway", "primary"), ("highway", "secondary")]
    ).json()
    assert both["numberMatched"] == len(
        expected(lambda p: p["highway"] in ("primary", "secondary"))
    )


def test_unknown_query_parameters_are_still_ignored(site: TestClient) -> None:
    assert len(road_ids(site, colour="red")) == len(ROADS)


def test_sortby_orders_by_properties_then_id(site: TestClient) -> None:
    body = site.get(
        "/collections/roads/items", params={"sortby": "highway,-lanes", "limit": "1000"}
    ).json()
    got = [
        (f["properties"]["highway"], f["properties"]["lanes"], f["id"]) for f in body["features"]
    ]

    def key(row: tuple[str, int | None, int]) -> tuple[str, bool, int, int]:
        highway, lanes, pk = row
        return highway, lanes is None, -(lanes or 0), pk  # nulls last, as both stores do

    assert got == sorted(got, key=key)
    assert [row[0] for row in got[:2]] == ["living_street", "living_street"]
    grid = site.get("/collections/grid/items", params={"sortby": "-n", "limit": "3"}).json()
    assert [f["properties"]["n"] for f in grid["features"]] == [
        GRID_COUNT - 1,
        GRID_COUNT - 2,
        GRID_COUNT - 3,
    ]
    plus_unescaped = site.get("/collections/grid/items?sortby=+n&limit=2").json()
    assert [f["properties"]["n"] for f in plus_unescaped["features"]] == [0, 1]


def test_sortby_with_bbox_on_both_stores(site: TestClient) -> None:
    params = {"sortby": "-n", "bbox": "100.1,-11,100.2,-10.9", "limit": "5", "offset": "2"}
    body = site.get("/collections/grid/items", params=params).json()
    cells = [f["properties"]["n"] for f in body["features"]]
    inside = sorted((n for n in range(GRID_COUNT) if n // 50 <= 8 and n % 50 <= 7), reverse=True)
    assert body["numberMatched"] == len(inside)
    assert cells == inside[2:7]


# queryables


def test_roads_queryables_are_typed_from_the_data(site: TestClient) -> None:
    collection = site.get("/collections/roads").json()
    link = next(
        link
        for link in collection["links"]
        if link["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/queryables"
    )
    assert link["type"] == SCHEMA_JSON
    response = site.get(link["href"])
    assert response.status_code == 200
    assert response.headers["content-type"] == SCHEMA_JSON
    schema = response.json()
    assert schema["$id"] == BASE + "/collections/roads/queryables"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["properties"]["geometry"] == {
        "title": "Geometry",
        "$ref": "https://geojson.org/schema/LineString.json",
        "format": "geometry-linestring",
        "x-ogc-role": "primary-geometry",
    }
    types = {name: value.get("type") for name, value in schema["properties"].items()}
    assert types == {
        "geometry": None,
        "osm_id": "integer",
        "name": "string",
        "highway": "string",
        "oneway": "string",
        "lanes": "integer",
    }
    as_json = site.get(link["href"], headers={"Accept": "application/json"})
    assert as_json.headers["content-type"] == "application/json"


def test_fixed_queryables_of_estimates_and_sources(site: TestClient) -> None:
    estimates = site.get("/collections/estimates/queryables").json()["properties"]
    assert estimates["total"] == {"title": "total", "type": "number"}
    assert estimates["geometry"]["format"] == "geometry-multipolygon"
    sources = site.get("/collections/sources/queryables").json()["properties"]
    assert set(sources) == {"geometry", "name", "kind"}
    grid = site.get("/collections/grid/queryables").json()["properties"]
    assert (grid["n"]["type"], grid["label"]["type"]) == ("integer", "string")
    assert grid["geometry"]["format"] == "geometry-polygon"
    assert site.get("/collections/nowhere/queryables").status_code == 404


def test_estimates_filter_on_their_summary(site: TestClient) -> None:
    body = site.get(
        "/collections/estimates/items", params={"filter": "name IN ('Jalan Dua', 'Jalan Tiga')"}
    ).json()
    assert sorted(f["properties"]["name"] for f in body["features"]) == ["Jalan Dua", "Jalan Tiga"]
    totals = site.get("/collections/estimates/items", params={"sortby": "-total"}).json()
    values = [f["properties"]["total"] for f in totals["features"]]
    assert values == sorted(values, reverse=True)


def test_api_document_lists_each_collections_property_filters(site: TestClient) -> None:
    document = site.get("/api").json()
    roads = document["paths"]["/collections/roads/items"]["get"]
    parameters = {parameter["name"]: parameter for parameter in roads["parameters"]}
    assert {"osm_id", "name", "highway", "oneway", "lanes", "filter", "sortby"} <= set(parameters)
    assert parameters["lanes"]["schema"] == {"type": "integer"}
    assert (parameters["highway"]["style"], parameters["highway"]["explode"]) == ("form", False)
    generic = document["paths"]["/collections/{collectionId}/items"]["get"]
    lang = next(p for p in generic["parameters"] if p["name"] == "filter-lang")
    assert lang["schema"]["enum"] == ["cql2-text", "cql2-json", "cql-text"]
    gdal_accept = "application/vnd.oai.openapi+json;version=3.0, application/json"
    as_gdal_asks = site.get("/api", headers={"Accept": gdal_accept})
    assert as_gdal_asks.headers["content-type"] == "application/json"
    assert as_gdal_asks.json()["openapi"].startswith("3.1")


# what is wrong, and where


def _nested_not(depth: int) -> dict:
    node: dict = {"op": ">", "args": [prop("lanes"), 0]}
    for _level in range(depth):
        node = {"op": "not", "args": [node]}
    return node


@pytest.mark.parametrize(
    ("params", "field", "where", "words"),
    [
        ({"filter": "lanes >"}, "filter", {"position": 8}, "ends too early"),
        ({"filter": "lanes = = 2"}, "filter", {"position": 9}, "unexpected '='"),
        ({"filter": "lanes ~ 2"}, "filter", {"position": 7}, "unexpected character '~'"),
        ({"filter": "width > 2"}, "filter", {"property": "width"}, "no queryable property"),
        ({"filter": "lanes = 'two'"}, "filter", {"property": "lanes"}, "cannot be compared"),
        ({"filter": "name LIKE 5"}, "filter", {}, "LIKE compares strings"),
        (
            {"filter": '{"property": "lanes"}', "filter-lang": "cql2-json"},
            "filter",
            {},
            "not a condition",
        ),
        (
            {
                "filter": '{"op": "t_before", "args": [{"property": "name"}, '
                '{"timestamp": "2020-01-01T00:00:00Z"}]}',
                "filter-lang": "cql2-json",
            },
            "filter",
            {},
            "temporal operator is not supported",
        ),
        (
            {"filter": "S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))"},
            "filter",
            {},
            "not valid",
        ),
        (
            {"filter": "S_INTERSECTS(lanes, POINT(0 0))"},
            "filter",
            {"property": "lanes"},
            "compares geometries",
        ),
        ({"filter": "{", "filter-lang": "cql2-json"}, "filter", {"position": 2}, "not JSON"),
        ({"filter": '{"op": "zz", "args": []}', "filter-lang": "cql2-json"}, "filter", {}, "CQL2"),
        ({"sortby": "width"}, "sortby", {"property": "width"}, "cannot sort by 'width'"),
        ({"lanes": "two"}, "lanes", {}, "lanes is a number"),
        ({"lanes": "1.5"}, "lanes", {}, "lanes is a whole number"),
        (
            {"filter": "highway = 'primary' OR lanes = 1 AND oneway = 'yes'"},
            "filter",
            {},
            "mixes AND with OR without parentheses",
        ),
        (
            {"filter": " AND ".join(["lanes > 0"] * 257)},
            "filter",
            {},
            "more than 256 conditions",
        ),
        (
            {"filter": json.dumps(_nested_not(70)), "filter-lang": "cql2-json"},
            "filter",
            {},
            "nests more than 64 levels",
        ),
    ],
)
def test_bad_queries_are_400_problems_saying_where(
    site: TestClient, params: dict[str, str], field: str, where: dict[str, Any], words: str
) -> None:
    response = site.get("/collections/roads/items", params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["title"] == "Invalid query"
    assert problem["field"] == field
    assert {key: problem.get(key) for key in where} == where
    assert words in problem["detail"]


@pytest.mark.parametrize(
    ("crs", "words"),
    [
        ("EPSG:4326", "is not a coordinate reference system this service offers"),
        ("http://www.opengis.net/def/crs/EPSG/0/32601", "does not offer filter-crs"),
    ],
)
def test_a_filter_crs_the_collection_does_not_offer_is_a_400(
    site: TestClient, crs: str, words: str
) -> None:
    params = {"filter": "S_INTERSECTS(geometry, POINT(0 0))", "filter-crs": crs}
    response = site.get("/collections/roads/items", params=params)
    assert response.status_code == 400, response.text
    problem = response.json()
    assert (problem["title"], problem["field"]) == (
        "Unsupported coordinate reference system",
        "filter-crs",
    )
    assert words in problem["detail"]


# counts of large layers


@pytest.fixture(scope="module", params=BACKENDS)
def counted_up_to_ten(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, TestClient]]:
    """The app with TAKEOFF_OGC_EXACT_COUNT_LIMIT=10 on a store holding the sample roads,
    analysed so that the PostGIS planner knows how many rows the layer has."""
    store = fresh_store(request, tmp_path_factory.mktemp(f"counts-{request.param}"))
    with TestClient(create_app(app_settings(store, ogc_exact_count_limit=10))) as client:
        if request.param == "postgis":
            engine = client.app.state.repository.engine
            with engine.begin() as connection:
                connection.execute(sa.text("analyze layer_features"))
        yield request.param, client


def test_number_matched_is_estimated_above_the_limit(
    counted_up_to_ten: tuple[str, TestClient],
) -> None:
    backend, site = counted_up_to_ten
    first = site.get("/collections/roads/items", params={"limit": "50"}).json()
    if backend == "postgis":
        assert "numberMatched" not in first
        assert first["numberMatchedEstimate"] == len(ROADS)
    else:  # the embedded store always counts
        assert first["numberMatched"] == len(ROADS)
    seen = [feature["id"] for feature in first["features"]]
    page = first
    while "next" in rels(page):
        page = site.get(href(page, "next")).json()
        seen += [feature["id"] for feature in page["features"]]
    assert len(seen) == len(set(seen)) == len(ROADS)
    assert page["numberMatched"] == len(ROADS)  # the last page knows where it ends
    few = site.get("/collections/roads/items", params={"filter": "lanes = 1"}).json()
    assert few["numberMatched"] == 4
    # a filter is tested on every road of the layer, so a layer past the limit is not counted
    # however few roads match; the embedded store always counts
    residential = {"filter": "highway = 'residential'", "limit": "20"}
    page = site.get("/collections/roads/items", params=residential).json()
    assert ("numberMatched" in page) is (backend == "sqlite")
    assert page.get("numberMatched", 70) == 70

    # a filtered count goes through the planner too: the pages still hold each match once
    params = {"filter": "S_INTERSECTS(geometry, BBOX(106, -7, 107, -6)) AND name LIKE 'Jalan%'"}
    page = site.get("/collections/roads/items", params={**params, "limit": "20"}).json()
    named = [feature["properties"]["osm_id"] for feature in page["features"]]
    while "next" in rels(page):
        page = site.get(href(page, "next")).json()
        named += [feature["properties"]["osm_id"] for feature in page["features"]]
    assert sorted(named) == expected(lambda p: p["name"].startswith("Jalan"))


def test_layer_loaded_without_recorded_queryables_gets_them(
    counted_up_to_ten: tuple[str, TestClient],
) -> None:
    _backend, site = counted_up_to_ten
    engine = site.app.state.repository.engine
    with engine.begin() as connection:
        connection.execute(sa.text("update layers set queryables = null"))
    schema = site.get("/collections/roads/queryables").json()
    assert schema["properties"]["lanes"]["type"] == "integer"
    with engine.connect() as connection:
        stored = connection.execute(sa.text("select queryables from layers")).scalar_one()
    assert stored is not None
