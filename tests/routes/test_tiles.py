"""OGC API Tiles on both backends: what a tile holds, its caching, and the tileset documents.

The lines are placed by hand around one zoom-16 tile, so what the tile must hold (and where,
in tile units) is worked out from the tile's corners, not from the code under test.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import mapbox_vector_tile
import morecantile
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer

from app.io.layers import LayerData
from app.io.material_sources import SourceData
from app.store.repository import FRESHNESS_SECONDS, Repository
from tests.conftest import BASE, store_env
from tests.live import run_takeoff
from tests.routes.conftest import href, rels

MVT = "application/vnd.mapbox-vector-tile"
PROBLEM = "application/problem+json"
JSON = "application/json"
TILES_REL = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
ZOOM, ROW, COL = 16, 33893, 52179
"""The zoom-16 tile over 106.63 E, 6.17 S, in Kota Tangerang."""
HALF_WORLD = 20037508.342789244
SIDE = 2 * HALF_WORLD / 2**ZOOM
WEST, NORTH = -HALF_WORLD + COL * SIDE, HALF_WORLD - ROW * SIDE
EAST, SOUTH = WEST + SIDE, NORTH - SIDE
TO_LONLAT = Transformer.from_crs(3857, 4326, always_xy=True)


def lonlat(x: float, y: float) -> tuple[float, float]:
    """Web Mercator metres to lon/lat."""
    lon, lat = TO_LONLAT.transform(x, y)
    return (lon, lat)


def at(u: float, v: float) -> tuple[float, float]:
    """Lon/lat of the point `u` tile widths east of the west edge, `v` heights north of south."""
    return lonlat(WEST + u * SIDE, SOUTH + v * SIDE)


CROSSING = shapely.LineString([at(-0.25, 0.25), at(1.25, 0.25)])
"""West to east across the tile, a quarter of its height up."""
CORNER_MISS = shapely.LineString([at(0.9, 1.5), at(1.5, 0.9)])
"""Its box covers the tile's north-east corner; the line passes 0.4 tile sides beyond it."""
IN_BUFFER = shapely.LineString([at(1 + 16 / 4096, -0.5), at(1 + 16 / 4096, 1.5)])
"""Parallel to the east edge, 16 tile units outside: within the drawn buffer, not the tile."""
FAR = shapely.LineString([at(5.5, 5.5), at(6.5, 6.5)])
CROSSING_PROPERTIES = {
    "name": "Jalan Melintas",
    "lanes": 2,
    "width_m": 7.25,
    "oneway": None,
    "lit": True,
    "tags": [1, 2],
}


def layer(slug: str, title: str = "Hand-made lines") -> LayerData:
    geometries = [CROSSING, CORNER_MISS, IN_BUFFER, FAR]
    return LayerData(
        slug=slug,
        title=title,
        geometries=geometries,
        properties=[CROSSING_PROPERTIES] + [{"name": f"other {n}"} for n in range(3)],
        feature_ids=[str(n) for n in range(len(geometries))],
    )


def repository(client: TestClient) -> Repository:
    found: Repository = client.app.state.repository  # type: ignore[attr-defined]
    return found


@pytest.fixture(scope="module")
def lines(client: TestClient) -> str:
    repository(client).create_layer(layer("lines"))
    return "lines"


def tile_path(collection: str, zoom: int = ZOOM, row: int = ROW, col: int = COL) -> str:
    return f"/collections/{collection}/tiles/WebMercatorQuad/{zoom}/{row}/{col}"


def test_corner_miss_is_placed_as_said() -> None:
    tile = shapely.box(*at(0, 0), *at(1, 1))
    assert shapely.box(*CORNER_MISS.bounds).intersects(tile)
    assert not CORNER_MISS.intersects(tile)
    assert not shapely.box(*IN_BUFFER.bounds).intersects(tile)


def test_a_tile_holds_exactly_the_features_that_cross_it(client: TestClient, lines: str) -> None:
    response = client.get(tile_path(lines))
    assert response.status_code == 200
    assert response.headers["content-type"] == MVT
    decoded = mapbox_vector_tile.decode(response.content)
    assert list(decoded) == ["lines"]
    [feature] = decoded["lines"]["features"]
    crossing_id = client.get("/collections/lines/items", params={"limit": 1}).json()["features"][0]
    assert feature["id"] == crossing_id["id"]
    assert feature["properties"] == {
        "name": "Jalan Melintas",
        "lanes": 2,
        "width_m": 7.25,
        "lit": True,
        "tags": "[1, 2]",
    }
    # Clipped to the tile and its 64-unit buffer; y counts up from the south edge.
    assert feature["geometry"] == {"type": "LineString", "coordinates": [[-64, 1024], [4160, 1024]]}
    assert decoded["lines"]["extent"] == 4096


def test_a_tile_with_no_feature_is_204(client: TestClient, lines: str) -> None:
    response = client.get(tile_path(lines, row=ROW + 10))
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["etag"]


def test_a_tile_whose_features_are_too_small_to_draw_is_204(client: TestClient, lines: str) -> None:
    """At zoom 0 a tile unit is about 10 km: every line of the layer meets the tile but
    collapses to nothing when PostGIS draws it, and a tile of no drawn feature is empty.
    (The embedded store's encoder keeps such a line as a point-long line.)"""
    if store_env(client)["database_url"] is None:
        pytest.skip("PostGIS draws the tile")
    response = client.get(tile_path(lines, zoom=0, row=0, col=0))
    assert response.status_code == 204
    assert response.content == b""


def test_points_and_list_attributes_in_the_sources_tile(client: TestClient) -> None:
    source = SourceData(
        name="AMP Cikupa",
        kind="asphalt_plant",
        materials=("AC-WC", "AC-BC"),
        geometry=shapely.Point(at(0.5, 0.75)),
        properties={"capacity_t_h": 80},
    )
    [source_id] = repository(client).add_sources([source])
    decoded = mapbox_vector_tile.decode(client.get(tile_path("sources")).content)
    [feature] = decoded["sources"]["features"]
    assert feature["id"] == source_id
    assert feature["geometry"] == {"type": "Point", "coordinates": [2048, 3072]}
    assert feature["properties"] == {
        "capacity_t_h": 80,
        "name": "AMP Cikupa",
        "kind": "asphalt_plant",
        "materials": '["AC-WC", "AC-BC"]',
    }


def test_etag_answers_304_until_the_layer_is_replaced(client: TestClient, tmp_path: Path) -> None:
    lines_layer = layer("replaced")
    repository(client).create_layer(lines_layer)
    first = client.get(tile_path("replaced"))
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    again = client.get(tile_path("replaced"), headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other_tile = client.get(tile_path("replaced", col=COL + 1))
    assert other_tile.headers["etag"] != etag
    # replaced by this process: the next request sees it
    repository(client).create_layer(lines_layer, replace=True)
    mine = client.get(tile_path("replaced"), headers={"If-None-Match": etag})
    assert mine.status_code == 200
    assert mine.headers["etag"] != etag
    etag = mine.headers["etag"]

    geojson = tmp_path / "replaced.geojson"
    features = [
        {"type": "Feature", "properties": properties, "geometry": shapely.geometry.mapping(line)}
        for line, properties in zip(lines_layer.geometries, lines_layer.properties, strict=True)
    ]
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    loaded = run_takeoff(
        "load-layer", str(geojson), "--slug", "replaced", "--replace", **store_env(client)
    )
    assert loaded.returncode == 0, loaded.stderr
    time.sleep(FRESHNESS_SECONDS)  # another process's write shows within this time
    after = client.get(tile_path("replaced"), headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    # The same lines, published again under new stored ids.
    [before_feature] = mapbox_vector_tile.decode(first.content)["replaced"]["features"]
    [after_feature] = mapbox_vector_tile.decode(after.content)["replaced"]["features"]
    assert before_feature | {"id": None} == after_feature | {"id": None}


def test_etag_of_the_sources_changes_when_one_is_added(client: TestClient) -> None:
    before = client.get(tile_path("sources", row=ROW + 10)).headers["etag"]
    source = SourceData(
        name="Quarry", kind="quarry", materials=("LPA",), geometry=shapely.Point(at(50, 50))
    )
    repository(client).add_sources([source])
    after = client.get(tile_path("sources", row=ROW + 10), headers={"If-None-Match": before})
    assert after.status_code == 204
    assert after.headers["etag"] != before


@pytest.mark.parametrize(
    ("path", "named"),
    [
        (tile_path("lines", zoom=25), "tileMatrix"),
        (tile_path("lines", zoom=2, row=4, col=0), "tileRow"),
        (tile_path("lines", zoom=2, row=0, col=-1), "tileCol"),
        (tile_path("lines", zoom=0, row=0, col=2**70), "tileCol"),
        ("/collections/lines/tiles/WebMercatorQuad/x/0/0", "tileMatrix"),
    ],
)
def test_a_tile_outside_the_grid_is_a_named_404(
    client: TestClient, lines: str, path: str, named: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["field"] == named


def test_unknown_collection_and_tile_matrix_set_are_404(client: TestClient) -> None:
    assert client.get(tile_path("nowhere")).status_code == 404
    response = client.get("/collections/lines/tiles/WorldCRS84Quad/0/0/0")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_a_non_number_row_is_a_422(client: TestClient, lines: str) -> None:
    response = client.get("/collections/lines/tiles/WebMercatorQuad/3/a/0")
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


def test_the_collection_links_to_its_tilesets(client: TestClient, lines: str) -> None:
    collection = client.get("/collections/lines").json()
    tilesets_url = href(collection, TILES_REL)
    assert tilesets_url == BASE + "/collections/lines/tiles"
    tilesets = client.get(tilesets_url)
    assert tilesets.headers["content-type"] == JSON
    [summary] = tilesets.json()["tilesets"]
    assert summary["dataType"] == "vector"
    assert summary["tileMatrixSetURI"] == (
        "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
    )
    assert rels(summary) == ["self", "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"]
    assert href(summary, "self") == BASE + "/collections/lines/tiles/WebMercatorQuad"


def test_tileset_metadata_names_template_grid_and_fields(client: TestClient, lines: str) -> None:
    tileset = client.get("/collections/lines/tiles/WebMercatorQuad").json()
    assert tileset["dataType"] == "vector"
    assert tileset["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857"
    links = {link["rel"]: link for link in tileset["links"]}
    template = links["item"]
    assert template["href"] == (
        BASE + "/collections/lines/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}"
    )
    assert (template["type"], template["templated"]) == (MVT, True)
    scheme = links["http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"]["href"]
    assert scheme == BASE + "/tileMatrixSets/WebMercatorQuad"
    geodata = links["http://www.opengis.net/def/rel/ogc/1.0/geodata"]["href"]
    assert geodata == BASE + "/collections/lines"
    [layer_info] = tileset["layers"]
    assert (layer_info["id"], layer_info["geometryDimension"]) == ("lines", 1)
    assert layer_info["propertiesSchema"]["properties"] == {
        "name": {"type": "string"},
        "lanes": {"type": "integer"},
        "width_m": {"type": "number"},
        "lit": {"type": "boolean"},
        "tags": {"type": "string"},
    }
    box = tileset["boundingBox"]
    minx, miny, maxx, maxy = shapely.MultiLineString(layer("lines").geometries).bounds
    assert box["lowerLeft"] == pytest.approx([minx, miny], abs=1e-9)
    assert box["upperRight"] == pytest.approx([maxx, maxy], abs=1e-9)
    # The lines reach from a quarter tile west and half a tile south of the tile to 6.5 tiles
    # east and north of its south-west corner.
    limits = {limit["tileMatrix"]: limit for limit in tileset["tileMatrixSetLimits"]}
    assert len(limits) == 25
    assert limits["16"] == {
        "tileMatrix": "16",
        "minTileRow": ROW - 6,
        "maxTileRow": ROW + 1,
        "minTileCol": COL - 1,
        "maxTileCol": COL + 6,
    }
    assert limits["0"] == {
        "tileMatrix": "0",
        "minTileRow": 0,
        "maxTileRow": 0,
        "minTileCol": 0,
        "maxTileCol": 0,
    }
    # The template filled in gives the tile.
    filled = template["href"].format(tileMatrix=ZOOM, tileRow=ROW, tileCol=COL)
    assert client.get(filled.removeprefix(BASE)).status_code == 200


def test_tile_matrix_sets(client: TestClient) -> None:
    listing = client.get("/tileMatrixSets").json()
    [entry] = listing["tileMatrixSets"]
    assert entry["id"] == "WebMercatorQuad"
    definition = client.get(href(entry, "self").removeprefix(BASE)).json()
    assert definition["id"] == "WebMercatorQuad"
    assert definition["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857"
    matrix = definition["tileMatrices"][ZOOM]
    assert matrix["id"] == str(ZOOM)
    assert (matrix["matrixWidth"], matrix["matrixHeight"]) == (2**ZOOM, 2**ZOOM)
    assert matrix["cellSize"] == pytest.approx(SIDE / 256)
    assert len(definition["tileMatrices"]) == 25


def test_landing_and_conformance_declare_tiles(client: TestClient) -> None:
    landing = client.get("/", headers={"Accept": JSON}).json()
    assert href(landing, "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes") == (
        BASE + "/tileMatrixSets"
    )
    classes = client.get("/conformance").json()["conformsTo"]
    tiles = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"
    for name in ("core", "tileset", "tilesets-list", "geodata-tilesets", "mvt"):
        assert tiles + name in classes


def test_saving_an_estimate_changes_the_estimates_tile(client: TestClient) -> None:
    path = tile_path("estimates")
    before = client.get(path)
    road = {
        "type": "Feature",
        "properties": {"name": "Jalan Ubin", "width_m": 6},
        "geometry": {"type": "LineString", "coordinates": [at(0.2, 0.5), at(0.4, 0.5)]},
    }
    saved = client.post("/estimates", params={"save": "true"}, json=road)
    assert saved.status_code == 201, saved.text
    after = client.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    [feature] = mapbox_vector_tile.decode(after.content)["estimates"]["features"]
    assert feature["id"] == saved.json()["id"]
    assert feature["geometry"]["type"] == "Polygon"  # the paved surface
    item = client.get(f"/collections/estimates/items/{feature['id']}").json()
    assert feature["properties"] == {
        key: value for key, value in item["properties"].items() if value is not None
    }
    assert feature["properties"]["name"] == "Jalan Ubin"


def test_field_tests_are_tiled_with_their_status(site: TestClient) -> None:
    # tests/routes/conftest.py: the sand cone S1 at 106.6305, -6.17005, and the core C1
    # (45 mm against 50 - 3 mm) on the road beside it, in the same z18 tile
    x, y, z = morecantile.tms.get("WebMercatorQuad").tile(106.6305, -6.17005, 18)
    tile = site.get(f"/collections/field-tests/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert tile.status_code == 200, tile.text
    drawn = mapbox_vector_tile.decode(tile.content)["field-tests"]["features"]
    assert [(f["properties"]["sample"], f["properties"]["status"]) for f in drawn] == [
        ("C1", "below tolerance"),
        ("S1", "recorded"),
    ]
