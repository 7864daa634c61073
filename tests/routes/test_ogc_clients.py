"""OGC API Features as real clients read it from a running `takeoff serve`: GDAL's
`ogrinfo`, the GDAL inside pyogrio (recent enough for Part 2 CRS) and a client following
`next` links through a large layer, as QGIS pages."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx
import numpy as np
import pyogrio
import shapely
from pyproj import Transformer

from tests.live import LiveServer
from tests.routes.conftest import GRID_COUNT, expected, href, query

ROAD_FIELDS = {"osm_id", "name", "highway", "oneway", "lanes"}


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


def test_paging_2500_features_sees_each_once(live_site: LiveServer) -> None:
    url: str | None = live_site.url + "/collections/grid/items"
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


# GDAL


def test_ogrinfo_lists_every_collection(live_site: LiveServer) -> None:
    listing = ogrinfo("-ro", f"OAPIF:{live_site.url}")
    assert "1: estimates (title: Saved estimates)" in listing
    assert "grid (title: Test grid) (Polygon)" in listing
    assert "roads (title: Roads of Kota Tangerang) (Line String)" in listing


def test_ogrinfo_reads_roads(live_site: LiveServer) -> None:
    summary = ogrinfo("-ro", "-so", f"OAPIF:{live_site.url}", "roads")
    assert "Feature Count: 142" in summary
    assert "Geometry: Line String" in summary
    assert "Extent: (106.562390, -6.259729) - (106.717699, -6.090762)" in summary
    assert field_names(summary) == ROAD_FIELDS


def test_ogrinfo_reads_saved_estimates(live_site: LiveServer) -> None:
    summary = ogrinfo("-ro", "-so", f"OAPIF:{live_site.url}", "estimates")
    assert "Feature Count: 3" in summary
    assert "Geometry: Multi Polygon" in summary
    page = httpx.get(live_site.url + "/collections/estimates/items").json()
    properties = page["features"][0]["properties"]
    assert field_names(summary) == set(properties)
    assert {"name", "templates", "catalog", "currency", "length_m", "area_m2", "total"} <= set(
        properties
    )
    assert {"ac_wc_t", "prime_coat_l", "lpa_m3", "lpb_m3"} <= set(properties)


def test_ogrinfo_reads_every_feature_of_a_large_layer(live_site: LiveServer) -> None:
    listing = ogrinfo("-ro", "-al", "-geom=NO", f"OAPIF:{live_site.url}", "grid")
    assert "Feature Count: 2500" in listing
    assert listing.count("OGRFeature(grid)") == GRID_COUNT
    assert f"label (String) = cell {GRID_COUNT - 1}" in listing


def test_gdal_asks_for_utm_and_gets_it_from_the_server(
    live_site: LiveServer, data_dir: Path
) -> None:
    """GDAL's OAPIF driver (3.7 and later) reads the collection's `crs` list and, told to use
    EPSG:32748, asks the server for it: the coordinates are the server's, rounded to the
    millimetre, and match pyproj; a box drawn in UTM finds the roads that cross it."""
    source = f"OAPIF:{live_site.url}"
    layer = pyogrio.read_info(source, layer="roads", CRS="EPSG:32748")
    assert layer["crs"] == "EPSG:32748"
    assert layer["features"] == 142
    meta, _, geometries, fields = pyogrio.raw.read(source, layer="roads", CRS="EPSG:32748")
    assert meta["crs"] == "EPSG:32748"
    osm_ids = fields[list(meta["fields"]).index("osm_id")].tolist()
    got = shapely.get_coordinates(shapely.from_wkb(geometries[osm_ids.index(27946607)]))

    sample = json.loads((data_dir / "sample_layers" / "tangerang_roads.geojson").read_text())
    [road] = [f for f in sample["features"] if f["properties"]["osm_id"] == 27946607]
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32748", always_xy=True)

    def utm(feature: dict) -> np.ndarray:
        lon, lat = np.array(feature["geometry"]["coordinates"]).T
        return np.column_stack(to_utm.transform(lon, lat))

    expected = utm(road)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() < 1e-3
    assert (np.round(got, 3) == got).all()  # transformed by the server, not by GDAL

    box = (672_000.0, 9_314_000.0, 676_000.0, 9_318_000.0)
    meta, _, _, fields = pyogrio.raw.read(source, layer="roads", CRS="EPSG:32748", bbox=box)
    crossing = {
        feature["properties"]["osm_id"]
        for feature in sample["features"]
        if shapely.intersects(shapely.LineString(utm(feature)), shapely.box(*box))
    }
    assert set(fields[list(meta["fields"]).index("osm_id")].tolist()) == crossing
    assert len(crossing) == 4


def test_ogrinfo_where_is_evaluated_by_the_server(live_site: LiveServer) -> None:
    wanted = expected(
        lambda p: p["highway"] == "residential" and p["lanes"] is not None and p["lanes"] >= 2
    )
    where = "highway = 'residential' AND lanes >= 2"
    result = subprocess.run(
        [
            "ogrinfo",
            "--debug",
            "on",
            "-ro",
            "-so",
            "-where",
            where,
            f"OAPIF:{live_site.url}",
            "roads",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"Feature Count: {len(wanted)}" in result.stdout
    # GDAL 3.6 sends the filter when /api offers `filter-lang=cql-text` and lists the layer's
    # properties as parameters of its items path; newer versions read /queryables instead
    assert "evaluated on client side" not in result.stderr
    fetched = re.findall(r"HTTP: Fetch\((\S+)\)", result.stderr)
    filtered = [url for url in fetched if "/collections/roads/items?" in url and "filter=" in url]
    assert filtered, fetched
    # what the server answered GDAL: the matching roads only, counted
    page = httpx.get(filtered[0]).json()
    assert page["numberMatched"] == len(wanted) < 142
    returned = [feature["properties"]["osm_id"] for feature in page["features"]]
    assert set(returned) <= set(wanted)
    assert len(returned) == min(10, len(wanted))  # GDAL's page size


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


def test_ogrinfo_reads_field_tests_with_their_status(live_site: LiveServer) -> None:
    summary = ogrinfo("-ro", "-so", f"OAPIF:{live_site.url}", "field-tests")
    assert "Feature Count: 2" in summary
    assert "Geometry: Point" in summary
    assert {"estimate", "sample", "kind", "layer", "thickness_mm", "status"} <= field_names(summary)
    features = ogrinfo("-ro", f"OAPIF:{live_site.url}", "field-tests")
    # the core is 45 mm where 50 - 3 = 47 mm is the least allowed; a sand cone is recorded
    assert "status (String) = below tolerance" in features
    assert "status (String) = recorded" in features
    assert "POINT (106.6305 -6.17005)" in features
